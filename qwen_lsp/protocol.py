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
4. A notification sent with an ``id`` (``didOpen``, ``$/cancelRequest``, ... as a
   request) is decoded by its notification type, which drops the id, so the client
   waited forever. It is now handled as the notification and answered ``null``
   (``_notification_with_id``); its params are checked like any request's.
5. After ``shutdown``, pygls drops every request but ``exit`` unanswered. LSP says
   they error with ``InvalidRequest``; they now do (``handle_message``).
6. Messages that are not JSON-RPC requests pygls can run: an id that is an object,
   a bool or a fraction (pygls ran the handler, then failed to file its future under
   an unhashable id, leaving the client waiting and a task's error unretrieved), a
   ``jsonrpc`` that is not "2.0", a body that is ``null``, a list or a number. Each
   is answered ``InvalidRequest`` when it carries a usable id (id ``null`` when the
   id itself is the problem), else logged in one line (``_invalid_request``).
7. pygls applies a ``didChange`` to its own copy first and, doing so, *rewrites the
   ranges in the params* when a character lies past the end of its line (it sets
   ``len(line) - 1``, one short on a last line without a break): our handler then
   applied a shortened range and our text diverged from the client's. Ours now gets
   the params as the client sent them. A ``didChange`` for a document that is not open
   (or before ``initialize``) made pygls raise ``KeyError`` before ours ran; it is one
   warning now. pygls' copy is no longer updated at all: ours is the one the actions
   read, and pygls re-split the whole text into lines on every keystroke (about 4 ms
   on a 5,000-line file, a third of a keystroke's cost, measured in-process)
   (``lsp_text_document__did_change``).
8. After ``exit`` closed stdout, a request still finishing (a cancelled generation's
   answer, its progress end) made pygls log "Error sending data" with a traceback;
   nothing is written to a closed stream now (``_send_data``).
9. Logs stay readable under garbage: a handler's JSON-RPC error (InvalidParams from
   a command) is answered without a traceback, undecodable params of a notification
   are one warning naming the field, and pygls' own multi-page tracebacks for
   undecodable params and non-JSON bodies become one line (``_OneLineLogs``).

Found by the protocol fuzzer (tests/robustness/test_protocol_fuzz.py); each is pinned
in tests/robustness/test_protocol_regressions.py.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from functools import partial
from typing import Any
from urllib.parse import unquote

import cattrs
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams, JsonRpcInvalidRequest
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.json_rpc import RPCRequest
from pygls.protocol.language_server import lsp_method

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
        _OneLineLogs.install()

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
        if isinstance(data, dict) and "jsonrpc" in data and "method" in data \
                and data.get("id") is not None and not _is_request(data):
            return self._invalid_request(data, None, "the id must be an integer or a string")
        if (_is_request(data) or isinstance(data, dict) and "jsonrpc" in data
                and "method" in data and "id" in data and data["id"] is None) \
                and "error" not in data and self._is_notification(data["method"]):
            return self._notification_with_id(data)
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if _is_request(data):
                return self._answer_undecodable(data, exc)
            # a notification, a request with a null id or a response: nobody to answer
            log.warning("message %.80s ignored: invalid params: %s",
                        data.get("method", "(a response)") if isinstance(data, dict) else "",
                        _decode_problem(exc))
            return _Undecodable()

    def _answer_undecodable(self, data: dict[str, Any], exc: JsonRpcException) -> _Undecodable:
        msg_id, method = data["id"], data.get("method")
        reason = _decode_problem(exc)
        log.warning("request %r (%s) has invalid params: %s", msg_id, method, reason)
        error = JsonRpcInvalidParams(f"invalid params for {method}: {reason}")
        self._send_response(msg_id, error=error.to_response_error())
        return _Undecodable()

    def _handle_cancel_notification(self, msg_id: Any) -> None:
        if not isinstance(msg_id, (int, str)) or isinstance(msg_id, bool):
            log.warning("$/cancelRequest with an id that is no request id (%.80r) ignored",
                        msg_id)
            return
        super()._handle_cancel_notification(msg_id)

    # 7. didChange of a document that is not open ----------------------------------------

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(
            self, params: types.DidChangeTextDocumentParams) -> Iterator[Any]:
        uri = params.text_document.uri
        if self._workspace is None or unquote(uri) not in self._workspace.text_documents:
            log.warning("didChange for a document that is not open ignored: %s", uri)
            return
        handler = self.fm.features.get(types.TEXT_DOCUMENT_DID_CHANGE)
        if handler is not None:
            yield handler, (params,), None

    # 6. messages that are not runnable requests ----------------------------------------

    def _invalid_request(self, data: Any, msg_id: Any, why: str) -> _Undecodable:
        method = data.get("method") if isinstance(data, dict) else None
        log.warning("invalid JSON-RPC message (%s) refused: %s", method, why)
        error = JsonRpcInvalidRequest(f"invalid request: {why}")
        if msg_id is None:  # JSON-RPC: "id": null when the id itself is unusable
            self._send_data({"jsonrpc": self.VERSION, "id": None,
                             "error": self.unstructure(error.to_response_error())})
        else:
            self._send_response(msg_id, error=error.to_response_error())
        return _Undecodable()

    # 4. notifications sent with an id -------------------------------------------------

    def _is_notification(self, method: Any) -> bool:
        kind = self.get_message_type(method) if isinstance(method, str) else None
        fields = getattr(kind, "__attrs_attrs__", None)
        return fields is not None and all(field.name != "id" for field in fields)

    def _notification_with_id(self, data: dict[str, Any]) -> Any:
        msg_id = data["id"]
        body = {key: value for key, value in data.items() if key != "id"}
        try:
            notification = super().structure_message(body)
        except JsonRpcException as exc:
            if msg_id is None:
                log.warning("notification %s ignored: invalid params: %s", data["method"],
                            _decode_problem(exc))
                return _Undecodable()
            return self._answer_undecodable(data, exc)
        if msg_id is not None:
            log.warning("%s is a notification but came with id %r: handled, answered null",
                        data["method"], msg_id)
            self._send_response(msg_id, result=None)
        return notification

    def handle_message(self, message: Any) -> None:
        if isinstance(message, _Undecodable):
            return  # already answered
        if _field(message, "jsonrpc") != self.VERSION:
            msg_id, method = _field(message, "id"), _field(message, "method")
            if isinstance(method, str) and isinstance(msg_id, (int, str)) \
                    and not isinstance(msg_id, bool):
                self._invalid_request({"method": method}, msg_id, 'jsonrpc must be "2.0"')
            else:
                log.warning("ignored a message that is not JSON-RPC 2.0: %.200r", message)
            return
        # 5. requests after shutdown get InvalidRequest instead of silence
        if self._shutdown and isinstance(message, RPCRequest) \
                and getattr(message, "method", None) != types.EXIT:
            error = JsonRpcInvalidRequest(f"the server is shut down: {message.method} refused")
            self._send_response(message.id, error=error.to_response_error())
            return
        super().handle_message(message)

    # 3. expected failures without a traceback ------------------------------------------

    def _send_handler_result(self, future: Any, *, msg_id: Any) -> None:
        if not future.cancelled() and isinstance(future.exception(), JsonRpcException):
            self._request_futures.pop(msg_id, None)
            self._send_response(msg_id, error=future.exception().to_response_error())
            return
        super()._send_handler_result(future, msg_id=msg_id)

    def _send_data(self, data: Any) -> None:
        stream = getattr(self.writer, "_stdout", None)
        if stream is not None and getattr(stream, "closed", False):
            log.debug("not sent, the client's stream is closed: %.200r", data)
            return
        super()._send_data(data)

    @property
    def shut_down(self) -> bool:
        """The client asked for ``shutdown`` (pygls' ``_shutdown``)."""
        return bool(self._shutdown)

    def unstructure(self, value: Any) -> Any:
        """An lsprotocol object as the JSON the client receives."""
        return self._converter.unstructure(value)


def _is_request(data: Any) -> bool:
    """A JSON-RPC request whose id can be answered (an int or a string, not a bool)."""
    if not isinstance(data, dict) or "jsonrpc" not in data or "method" not in data:
        return False
    msg_id = data.get("id")
    return isinstance(msg_id, (int, str)) and not isinstance(msg_id, bool)


def _field(message: Any, name: str) -> Any:
    """A field of a decoded message, or of a dict pygls left undecoded."""
    if isinstance(message, dict):
        return message.get(name)
    return getattr(message, name, None)


class _OneLineLogs(logging.Filter):
    """pygls' tracebacks for input we already answered (or cannot), in one line."""

    _installed = False
    _DECODE = "Unable to deserialize message"
    _HANDLE = "Unable to handle message"

    @classmethod
    def install(cls) -> None:
        if not cls._installed:
            cls._installed = True
            logging.getLogger("pygls.protocol.json_rpc").addFilter(cls())
            logging.getLogger("pygls.server").addFilter(cls())

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith(self._DECODE):
            return False  # structure_message above logs the field in one line
        if record.msg == self._HANDLE and record.exc_info and isinstance(
                record.exc_info[1], ValueError):
            # a body that is not JSON (ValueError covers the Unicode and JSON errors)
            record.msg, record.args = "ignored a message body: %s", (record.exc_info[1],)
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


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
