"""Work-done progress that streams the model's partial text.

The client may pass its own ``workDoneToken`` with the command (our editor plugins
do, to render the stream in their own panel); the server then reports on it and
creates none. Otherwise the server creates a token, if the client supports that.
Cancelling the progress in the editor cancels the command's task, exactly as a
``$/cancelRequest`` would.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import TYPE_CHECKING, Any

from lsprotocol import types

if TYPE_CHECKING:
    from qwen_lsp.server import QwenServer

log = logging.getLogger(__name__)

REPORT_INTERVAL = 0.1  # seconds between streamed reports


class CommandProgress:
    def __init__(self, ls: QwenServer, title: str, client_token: Any = None) -> None:
        self.ls = ls
        self.title = title
        self.client_token = client_token if isinstance(client_token, (int, str)) \
            and not isinstance(client_token, bool) else None
        self.token: int | str | None = None
        self.text = ""
        self._last_report = 0.0
        self._flush_handle: asyncio.TimerHandle | None = None

    async def begin(self, message: str | None = None) -> None:
        token = self.client_token
        if token is None:
            window = self.ls.client_capabilities.window
            if not (window and window.work_done_progress):
                return
            token = f"qwen-lsp-{uuid.uuid4()}"
            try:
                await self.ls.work_done_progress.create_async(token)
            except Exception as exc:
                log.info("client refused a progress token: %s", exc)
                return
        self.token = token
        # pygls registers a future per token; the client's cancel of the progress
        # cancels that future, and with it this command's task.
        self.ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(
            title=self.title, cancellable=True, message=message))
        task = asyncio.current_task()
        future = self.ls.work_done_progress.tokens.get(token)
        if future is not None and task is not None:
            loop = asyncio.get_running_loop()
            future.add_done_callback(
                lambda f: loop.call_soon_threadsafe(task.cancel) if f.cancelled() else None)

    def message(self, message: str) -> None:
        if self.token is not None:
            self.ls.work_done_progress.report(
                self.token, types.WorkDoneProgressReport(message=message))

    def stream(self, piece: str) -> None:
        """Called on the event loop for each decoded piece of the answer."""
        self.text += piece
        if self.token is None:
            return
        now = time.monotonic()
        if now - self._last_report >= REPORT_INTERVAL:
            self._report()
        elif self._flush_handle is None:
            delay = REPORT_INTERVAL - (now - self._last_report)
            self._flush_handle = asyncio.get_running_loop().call_later(delay, self._report)

    def _report(self) -> None:
        self._flush_handle = None
        self._last_report = time.monotonic()
        self.message(self.text)

    def end(self, message: str) -> None:
        due = self._flush_handle is not None
        if due:
            self._flush_handle.cancel()
            self._flush_handle = None
        if self.token is not None:
            if due:
                self.message(self.text)  # the last pieces, whose report was still due
            self.ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))
            self.ls.work_done_progress.tokens.pop(self.token, None)
            self.token = None
