"""FakeEngine: a scripted stand-in for the model, for plumbing tests only.

It runs no model. It streams a fixed (or computed) answer in small pieces, honours
cancellation like the real engine, and records every call so tests can count
model invocations and see whether a generation was stopped early.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from qwen_lsp.engine.base import Cancelled, GenParams, Message


@dataclass
class FakeCall:
    messages: list[Message]
    params: GenParams
    streamed: str = ""
    completed: bool = False
    cancelled: bool = False


@dataclass
class FakeEngine:
    """Answers with ``answer`` (a string, or a function of the messages).

    ``piece_size`` characters per streamed piece, ``delay`` seconds before each
    piece. While ``gate`` is given and not set, generation waits at its start
    (still cancellable), which lets a test hold a job in flight; ``prefill_gate``
    does the same for prefill(). ``error`` is raised instead of answering.
    """

    answer: str | Callable[[list[Message]], str] = "fake answer"
    piece_size: int = 4
    delay: float = 0.0
    gate: threading.Event | None = None
    prefill_gate: threading.Event | None = None
    error: Exception | None = None
    calls: list[FakeCall] = field(default_factory=list)
    prefills: list[list[Message]] = field(default_factory=list)
    prefills_cancelled: int = 0
    started: threading.Event = field(default_factory=threading.Event)
    closed: bool = False

    def generate(
        self,
        messages: list[Message],
        params: GenParams,
        on_text: Callable[[str], None],
        cancel: threading.Event,
    ) -> str:
        call = FakeCall(messages=list(messages), params=params)
        self.calls.append(call)
        self.started.set()
        try:
            _wait(self.gate, cancel)
            if self.error is not None:
                raise self.error
            text = self.answer(messages) if callable(self.answer) else self.answer
            for stop in params.stop:
                if stop and stop in text:
                    text = text[: text.index(stop)]
            for start in range(0, len(text), self.piece_size):
                if cancel.wait(self.delay) if self.delay > 0 else cancel.is_set():
                    raise Cancelled()
                piece = text[start : start + self.piece_size]
                on_text(piece)
                call.streamed += piece
        except Cancelled:
            call.cancelled = True
            raise
        call.completed = True
        return text

    def prefill(self, messages: list[Message], cancel: threading.Event) -> None:
        self.prefills.append(list(messages))
        try:
            _wait(self.prefill_gate, cancel)
            if cancel.is_set():
                raise Cancelled()
        except Cancelled:
            self.prefills_cancelled += 1
            raise

    def close(self) -> None:
        self.closed = True


def _wait(gate: threading.Event | None, cancel: threading.Event) -> None:
    """Block until ``gate`` opens; raise Cancelled if ``cancel`` is set meanwhile."""
    if gate is None:
        return
    while not gate.wait(0.005):
        if cancel.is_set():
            raise Cancelled()
