"""The language server's state: documents, runtime (model, cache, prompts), settings.

The features that act on it live in `qwen_lsp.features`; `qwen_lsp.app` wires
them to a server. The pygls workarounds live in `qwen_lsp.protocol`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from qwen_lsp import __version__
from qwen_lsp.actions.language import answer_language
from qwen_lsp.actions.messages import shared_prefix
from qwen_lsp.documents import OpenDocument
from qwen_lsp.engine.base import Engine
from qwen_lsp.protocol import QwenProtocol
from qwen_lsp.runtime import Runtime
from qwen_lsp.settings import Settings

log = logging.getLogger(__name__)


class QwenServer(LanguageServer):
    protocol: QwenProtocol

    def __init__(self, model_override: str | None = None,
                 engine_factory: Callable[[Path, Settings], Engine] | None = None) -> None:
        super().__init__("qwen-lsp", __version__, protocol_cls=QwenProtocol,
                         text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self._runtime: Runtime | None = None
        self.model_override = model_override
        self.engine_factory = engine_factory  # None: the llama.cpp engine (tests pass a fake)
        self.documents: dict[str, OpenDocument] = {}
        self.client_locale: str | None = None
        self.last_prefill: tuple | None = None  # the target whose prompt was pre-evaluated
        self.pending_prefill: Any = None  # a prefill waiting for the cursor to rest
        self.loop_ref: asyncio.AbstractEventLoop | None = None  # set at initialize
        self.init_settings = Settings()  # from initializationOptions

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            self.start_runtime(Settings())
        assert self._runtime is not None
        return self._runtime

    def start_runtime(self, settings: Settings) -> None:
        """Called once, at initialize, with the client's first settings."""
        self._runtime = Runtime(settings, engine_factory=self.engine_factory,
                                model_override=self.model_override,
                                on_warning=lambda message: self.notify_user(
                                    f"qwen-lsp: {message}", types.MessageType.Warning))
        self._runtime.on_model_error = lambda message: self.notify_user(
            f"qwen-lsp: the model is not available: {message}")
        self._runtime.warm_up_messages = self._shared_prefix

    def _shared_prefix(self) -> list[dict[str, str]] | None:
        runtime = self.runtime
        language = answer_language(runtime.settings.explanation_language, self.client_locale)
        return shared_prefix(runtime.prompts, language)

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
        # Failures of our own requests already reach the user with a readable message;
        # what is left here is mostly client input pygls refused (not JSON, unknown method).
        log.warning("%s", error)

    def notify_user(self, message: str, kind: types.MessageType = types.MessageType.Error) -> None:
        # a refusal the user is shown is a warning in the log; internal errors are logged
        # with their traceback where they happen
        log.log(logging.WARNING if kind == types.MessageType.Error else logging.INFO, "%s",
                message)
        self.window_show_message(types.ShowMessageParams(type=kind, message=message))
