"""The language server: state, and the wiring of the features."""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol

from qwen_lsp import __version__
from qwen_lsp.documents import OpenDocument
from qwen_lsp.runtime import Runtime
from qwen_lsp.settings import Settings

log = logging.getLogger(__name__)

COMMANDS = ("qwenLsp.explain", "qwenLsp.refactor", "qwenLsp.convertToAsync", "qwenLsp.status")


class QwenProtocol(LanguageServerProtocol):
    """Runs our commands under the client's own request id.

    pygls runs ``workspace/executeCommand`` handlers under a fresh id of its own,
    so a client's ``$/cancelRequest`` never reaches them. Here our commands run as
    tasks registered under the client's id: pygls' cancel handling then cancels the
    task itself, which stops the model and answers ``RequestCancelled``.
    """

    def _handle_request(self, msg_id: Any, method_name: str, params: Any) -> None:
        if method_name == types.WORKSPACE_EXECUTE_COMMAND:
            server: QwenServer = self._server  # type: ignore[assignment]
            handler = server.command_handlers.get(getattr(params, "command", None))
            if handler is not None:
                self._ctx_msg_id.set(msg_id)
                self._execute_handler(
                    msg_id, handler,
                    callback=partial(self._send_handler_result, msg_id=msg_id),
                    args=(params.arguments,),
                )
                return
        super()._handle_request(msg_id, method_name, params)

    def _send_handler_result(self, future: Any, *, msg_id: Any) -> None:
        # An expected failure (the user already got a readable message) is answered
        # without pygls' traceback in the log.
        if not future.cancelled() and isinstance(future.exception(), ExpectedFailure):
            self._request_futures.pop(msg_id, None)
            self._send_response(msg_id, error=future.exception().to_response_error())
            return
        super()._send_handler_result(future, msg_id=msg_id)


class ExpectedFailure(JsonRpcException):
    """LSP ``RequestFailed``: a valid request that could not be carried out."""

    CODE = -32803


class QwenServer(LanguageServer):
    def __init__(self, model_override: str | None = None) -> None:
        super().__init__("qwen-lsp", __version__, protocol_cls=QwenProtocol,
                         text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self._runtime: Runtime | None = None
        self.model_override = model_override
        self.documents: dict[str, OpenDocument] = {}
        self.client_locale: str | None = None
        self.command_handlers: dict[str, Any] = {}
        self.last_prefill: tuple | None = None  # the target whose prompt was pre-evaluated
        self.loop_ref: asyncio.AbstractEventLoop | None = None  # set at initialize
        self.init_settings = Settings()  # from initializationOptions

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            self._runtime = Runtime(Settings(), model_override=self.model_override)
        return self._runtime

    def start_runtime(self, settings: Settings) -> None:
        """Called once, at initialize, with the client's first settings."""
        self._runtime = Runtime(settings, model_override=self.model_override)
        self._runtime.on_model_error = lambda message: self.notify_user(
            f"qwen-lsp: the model is not available: {message}")

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    @property
    def encoding(self) -> str:
        enc = self.workspace.position_encoding if self._workspace_ready() else None
        value = getattr(enc, "value", enc) or "utf-16"
        return str(value)

    def _workspace_ready(self) -> bool:
        try:
            self.workspace  # noqa: B018
        except RuntimeError:
            return False
        return True

    @property
    def client_capabilities(self) -> types.ClientCapabilities:
        return self.protocol.client_capabilities or types.ClientCapabilities()

    def report_server_error(self, error: Exception, source: Any) -> None:
        # Failures of our own requests already reach the user with a readable message.
        log.error("%s", error)

    def notify_user(self, message: str, kind: types.MessageType = types.MessageType.Error) -> None:
        log.log(logging.ERROR if kind == types.MessageType.Error else logging.INFO, "%s",
                message)
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))


def create_server(model_override: str | None = None) -> QwenServer:
    from qwen_lsp.features import code_actions, commands, config, sync

    server = QwenServer(model_override)
    config.register(server)
    sync.register(server)
    code_actions.register(server)
    commands.register(server)
    return server
