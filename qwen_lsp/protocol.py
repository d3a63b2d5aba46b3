"""Everything qwen-lsp does inside pygls' JSON-RPC machinery, in one place.

pygls 2.1 behaviours worked around here (tests/unit/test_protocol_workarounds.py
pins each one, so a pygls upgrade that changes them fails there first):

1. ``workspace/executeCommand`` handlers run under a fresh id of pygls' own, so a
   client's ``$/cancelRequest`` never reaches them and the model keeps running.
   Our commands run instead as tasks registered under the client's request id
   (``_handle_request``, ``_execute_handler``, ``_ctx_msg_id``): pygls' cancel
   handling then cancels the task itself. The request's ``workDoneToken`` is passed
   to the command, which reports progress on it.
2. A request whose params do not decode (a negative line, a string where a range
   belongs, ``null`` params) makes ``structure_message`` raise inside the reader loop,
   which only logs it: the client would wait forever. Here such a request is answered
   with ``InvalidParams`` naming the field (``_send_response``, ``_converter``).
3. A command's expected failure (the user already got a readable message) is
   answered without pygls' traceback in the log (``_send_handler_result``,
   ``_request_futures``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import cattrs
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams
from pygls.protocol import LanguageServerProtocol

log = logging.getLogger(__name__)

CommandHandler = Callable[[Any, Any], Awaitable[Any]]
"""A command: ``handler(arguments, work_done_token)``."""


class ExpectedFailure(JsonRpcException):
    """LSP ``RequestFailed``: a valid request that could not be carried out."""

    CODE = -32803


class _Undecodable:
    """What ``structure_message`` returns for a message it answered itself."""

    jsonrpc = None


class QwenProtocol(LanguageServerProtocol):
    """pygls' protocol with the three fixes described in the module docstring."""

    # commands handled by qwen-lsp, set by the server: command id -> handler
    command_handlers: dict[str, CommandHandler]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.command_handlers = {}

    # 1. commands under the client's request id -----------------------------------------

    def _handle_request(self, msg_id: Any, method_name: str, params: Any) -> None:
        if method_name == types.WORKSPACE_EXECUTE_COMMAND:
            handler = self.command_handlers.get(getattr(params, "command", None))
            if handler is not None:
                self._ctx_msg_id.set(msg_id)
                self._execute_handler(
                    msg_id, handler,
                    callback=partial(self._send_handler_result, msg_id=msg_id),
                    args=(params.arguments, params.work_done_token),
                )
                return
        super()._handle_request(msg_id, method_name, params)

    # 2. undecodable requests are answered ----------------------------------------------

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            msg_id = data.get("id") if isinstance(data, dict) else None
            if msg_id is None or "method" not in data or isinstance(msg_id, bool) \
                    or not isinstance(msg_id, (int, str)):
                raise  # a notification or a response: nobody waits for an answer
            reason = _decode_problem(exc)
            method = data.get("method")
            log.warning("request %r (%s) has invalid params: %s", msg_id, method, reason)
            error = JsonRpcInvalidParams(f"invalid params for {method}: {reason}")
            self._send_response(msg_id, error=error.to_response_error())
            return _Undecodable()

    def handle_message(self, message: Any) -> None:
        if isinstance(message, _Undecodable):
            return  # already answered
        super().handle_message(message)

    # 3. expected failures without a traceback ------------------------------------------

    def _send_handler_result(self, future: Any, *, msg_id: Any) -> None:
        if not future.cancelled() and isinstance(future.exception(), ExpectedFailure):
            self._request_futures.pop(msg_id, None)
            self._send_response(msg_id, error=future.exception().to_response_error())
            return
        super()._send_handler_result(future, msg_id=msg_id)

    def unstructure(self, value: Any) -> Any:
        """An lsprotocol object as the JSON the client receives."""
        return self._converter.unstructure(value)


def _decode_problem(exc: BaseException) -> str:
    """Which field was wrong, from the cattrs error behind pygls' exception."""
    cause = exc.__cause__
    if isinstance(cause, cattrs.ClassValidationError):
        lines = cattrs.transform_error(cause, path="message", format_exception=_describe)
        return "; ".join(lines[:5]) if lines else str(cause)
    return str(cause or exc) or type(exc).__name__


def _describe(exc: BaseException, expected: type | None) -> str:
    if isinstance(exc, ValueError) and str(exc):
        return f"invalid value ({exc})"
    return cattrs.v.format_exception(exc, expected)
