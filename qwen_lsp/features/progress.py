"""Server-created work-done progress that streams the model's partial text.

Cancelling the progress in the editor cancels the command's task, exactly as a
``$/cancelRequest`` would.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid

from lsprotocol import types

from qwen_lsp.server import QwenServer

log = logging.getLogger(__name__)

REPORT_INTERVAL = 0.1  # seconds between streamed reports


class CommandProgress:
    def __init__(self, ls: QwenServer, title: str) -> None:
        self.ls = ls
        self.title = title
        self.token: str | None = None
        self.text = ""
        self._last_report = 0.0
        self._pending = False
        self._flush_handle: asyncio.TimerHandle | None = None

    async def begin(self, message: str | None = None) -> None:
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
        task = asyncio.current_task()
        future = self.ls.work_done_progress.tokens.get(token)
        if future is not None and task is not None:
            loop = asyncio.get_running_loop()
            future.add_done_callback(
                lambda f: loop.call_soon_threadsafe(task.cancel) if f.cancelled() else None)
        self.ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(
            title=self.title, cancellable=True, message=message))

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
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        if self.token is not None:
            self.ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))
            self.ls.work_done_progress.tokens.pop(self.token, None)
            self.token = None
