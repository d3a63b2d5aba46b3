"""qwen-lsp's own log records, sent to the editor as ``window/logMessage``."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from lsprotocol import types

if TYPE_CHECKING:
    from qwen_lsp.server import QwenServer


class WindowLogHandler(logging.Handler):
    """Forwards INFO and above; records from other threads are sent from the loop."""

    def __init__(self, server: QwenServer) -> None:
        super().__init__(level=logging.INFO)
        self.server = server

    def emit(self, record: logging.LogRecord) -> None:
        kind = types.MessageType.Error if record.levelno >= logging.ERROR else (
            types.MessageType.Warning if record.levelno >= logging.WARNING
            else types.MessageType.Info)
        params = types.LogMessageParams(type=kind, message=self.format(record))
        loop = self.server.loop_ref
        if loop is None or loop.is_closed():
            return  # before initialize, or after the end: stderr has it
        # Records come from the engine's thread too: only the loop thread may write.
        loop.call_soon_threadsafe(self._send, params)

    def _send(self, params: types.LogMessageParams) -> None:
        try:
            self.server.window_log_message(params)
        except Exception:  # the client may be gone; stderr still has it
            pass
