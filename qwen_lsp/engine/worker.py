"""EngineWorker: one thread, one queue, one engine, driven from asyncio.

The model is not thread-safe and saturates the CPU, so every call to it runs on one
dedicated daemon thread, in order. Requests with the same key share one generation
(a late subscriber gets the text streamed so far, then the live pieces); a job
whose last subscriber goes away is cancelled, and one that has not started yet is
dropped. Text pieces and results are handed to the event loop with
``call_soon_threadsafe``: callbacks never run on the worker thread.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from qwen_lsp.engine.base import (
    Cancelled,
    Closable,
    Engine,
    EngineError,
    GenParams,
    Message,
    Prefiller,
)

log = logging.getLogger(__name__)

State = Literal["idle", "loading", "ready", "error"]
TextCallback = Callable[[str], None]


@dataclass(eq=False)
class _Subscriber:
    """One awaiting run() call: its loop, its text callback and its result future."""

    loop: asyncio.AbstractEventLoop
    on_text: TextCallback | None
    future: asyncio.Future[str]

    def deliver(self, text: str) -> None:
        """Call on_text; only ever on the loop thread."""
        if self.on_text is None or self.future.done():
            return
        try:
            self.on_text(text)
        except Exception:
            log.exception("on_text callback failed")

    def post(self, text: str) -> None:
        self._call(self.deliver, text)

    def settle(self, result: str | None, error: BaseException | None) -> None:
        self._call(self._settle, result, error)

    def _settle(self, result: str | None, error: BaseException | None) -> None:
        if self.future.done():
            return
        if error is not None:
            self.future.set_exception(error)
        else:
            self.future.set_result(result or "")

    def _call(self, func: Callable[..., None], *args: object) -> None:
        try:
            self.loop.call_soon_threadsafe(func, *args)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            pass


@dataclass(eq=False)
class _Job:
    kind: Literal["load", "run", "prefill"]
    key: str | None = None
    messages: list[Message] = field(default_factory=list)
    params: GenParams = field(default_factory=GenParams)
    factory: Callable[[], Engine] | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    pieces: list[str] = field(default_factory=list)
    subscribers: list[_Subscriber] = field(default_factory=list)
    done: concurrent.futures.Future[None] = field(default_factory=concurrent.futures.Future)


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return text if text else type(exc).__name__


class EngineWorker:
    """Runs every engine call on one dedicated thread, in queue order.

    ``state`` is "idle" (nothing loaded), "loading", "ready" or "error" (then
    ``error`` holds the message). Public methods are called from the event loop.
    """

    def __init__(self, name: str = "qwen-lsp-engine") -> None:
        self.state: State = "idle"
        self.error: str | None = None
        self._engine: Engine | None = None
        self._lock = threading.Lock()
        self._wakeup = threading.Condition(self._lock)
        self._queue: deque[_Job] = deque()
        self._inflight: dict[str, _Job] = {}
        self._current: _Job | None = None
        self._last_load: _Job | None = None
        self._closed = False
        self.runs_submitted = 0  # requests ever asked of the model (run())
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    # -- API -----------------------------------------------------------------------

    @property
    def continues_answers(self) -> bool:
        """Whether the engine continues a started answer token for token (the embedded
        model does; an OpenAI-compatible server may start its answer afresh)."""
        with self._lock:
            return isinstance(self._engine, Prefiller)

    @property
    def queue_length(self) -> int:
        """Requests waiting or running (model loads and prefills are not counted)."""
        with self._lock:
            waiting = sum(1 for job in self._queue if job.kind == "run")
            running = self._current is not None and self._current.kind == "run"
            return waiting + int(running)

    def load(self, factory: Callable[[], Engine]) -> concurrent.futures.Future[None]:
        """Queue loading an engine (replacing the current one, which is closed first).

        State becomes "loading", then "ready" or "error". The returned future
        resolves when the load has finished (with EngineError if it failed).
        """
        with self._lock:
            self._check_open()
            job = _Job("load", factory=factory)
            self.state = "loading"
            self.error = None
            self._last_load = job
            self._drop_prefills()
            self._enqueue(job)
        return job.done

    async def wait_ready(self) -> None:
        """Wait for the latest load; raise EngineError if the model is not usable."""
        job = self._last_load
        if job is not None:
            await asyncio.shield(asyncio.wrap_future(job.done))
        if self.state != "ready":
            raise EngineError(self.error or "no model is loaded")

    async def run(
        self,
        key: str,
        messages: list[Message],
        params: GenParams,
        on_text: TextCallback | None = None,
    ) -> str:
        """Generate an answer; identical keys in flight share one generation.

        ``on_text`` gets the streamed pieces on the event loop thread. Cancelling
        the awaiting task unsubscribes; the job is cancelled when no subscriber
        is left. Raises Cancelled or EngineError.
        """
        loop = asyncio.get_running_loop()
        subscriber = _Subscriber(loop, on_text, loop.create_future())
        with self._lock:
            self._check_open()
            if self.state == "error" and not self._load_pending():
                raise EngineError(self.error or "the model failed to load")
            self.runs_submitted += 1
            job = self._inflight.get(key)
            if job is None:
                job = _Job("run", key=key, messages=list(messages), params=params)
                self._inflight[key] = job
                self._drop_prefills(keep_running=job.messages)
                self._enqueue(job)
                replay = ""
            else:
                replay = "".join(job.pieces)
            job.subscribers.append(subscriber)
        if replay:
            subscriber.deliver(replay)
        try:
            return await subscriber.future
        except asyncio.CancelledError:
            self._unsubscribe(job, subscriber)
            raise

    def prefill(self, messages: list[Message]) -> bool:
        """Warm the engine's cache with a likely prompt, only when nothing else is queued.

        Any later run() or load() cancels it at once. Returns whether it was queued.
        """
        with self._lock:
            if self._closed or self.state != "ready":
                return False
            if not isinstance(self._engine, Prefiller):
                return False
            busy = any(job.kind != "prefill" for job in self._queue)
            if busy or (self._current is not None and self._current.kind != "prefill"):
                return False
            self._drop_prefills()
            self._enqueue(_Job("prefill", messages=list(messages)))
            return True

    def cancel_prefills(self) -> None:
        """Drop queued and running prefills (their prompt is no longer the likely one)."""
        with self._lock:
            self._drop_prefills()

    def shutdown(self, timeout: float = 5.0) -> None:
        """Cancel everything, stop the thread and close the engine."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            pending = list(self._queue)
            self._queue.clear()
            self._inflight.clear()
            if self._current is not None:
                self._current.cancel.set()
            self._wakeup.notify_all()
        stopped = EngineError("the model worker has shut down")
        for job in pending:
            job.cancel.set()
            self._finish(job, None, stopped)
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self._close_engine()

    # -- bookkeeping (callers hold the lock) ------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise EngineError("the model worker has shut down")

    def _enqueue(self, job: _Job) -> None:
        self._queue.append(job)
        self._wakeup.notify()

    def _load_pending(self) -> bool:
        current_load = self._current is not None and self._current.kind == "load"
        return current_load or any(job.kind == "load" for job in self._queue)

    def _drop_prefills(self, keep_running: list[Message] | None = None) -> None:
        """Cancel prefills; a running one whose prompt is exactly ``keep_running`` goes
        on, because it is the first half of that very request (its KV cache is reused)."""
        for job in [job for job in self._queue if job.kind == "prefill"]:
            job.cancel.set()
            self._queue.remove(job)
        current = self._current
        if current is not None and current.kind == "prefill" \
                and current.messages != keep_running:
            current.cancel.set()

    def _unsubscribe(self, job: _Job, subscriber: _Subscriber) -> None:
        with self._lock:
            if subscriber in job.subscribers:
                job.subscribers.remove(subscriber)
            if job.subscribers:
                return
            job.cancel.set()
            if job.key is not None and self._inflight.get(job.key) is job:
                del self._inflight[job.key]
            if job in self._queue:
                self._queue.remove(job)
                log.debug("dropped queued job %s before it started", job.key)

    # -- the worker thread ---------------------------------------------------------

    def _serve(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._closed:
                    self._wakeup.wait()
                if not self._queue:
                    return
                job = self._queue.popleft()
                if job.cancel.is_set():
                    continue
                self._current = job
            try:
                if job.kind == "load":
                    self._load(job)
                elif job.kind == "run":
                    self._run(job)
                else:
                    self._prefill(job)
            except BaseException:  # keep serving whatever happens
                log.exception("engine job %s failed unexpectedly", job.kind)
            finally:
                with self._lock:
                    self._current = None

    def _load(self, job: _Job) -> None:
        assert job.factory is not None
        if not job.done.set_running_or_notify_cancel():
            return  # the caller cancelled the load before it started
        self._close_engine()
        try:
            engine = job.factory()
        except Exception as exc:
            message = _describe(exc)
            log.error("model load failed: %s", message)
            with self._lock:
                self._release(job)
                if self._last_load is job:
                    self.state, self.error = "error", message
            job.done.set_exception(EngineError(message))
            return
        with self._lock:
            self._release(job)
            self._engine = engine
            if self._last_load is job:
                self.state, self.error = "ready", None
        job.done.set_result(None)

    def _run(self, job: _Job) -> None:
        result: str | None = None
        error: BaseException | None = None
        engine = self._engine
        try:
            if engine is None:
                raise EngineError(self.error or "no model is loaded")
            result = engine.generate(job.messages, job.params, self._streamer(job), job.cancel)
        except (Cancelled, EngineError) as exc:
            error = exc
        except Exception as exc:
            log.exception("the model failed")
            error = EngineError(f"the model failed: {type(exc).__name__}: {exc}")
        self._finish(job, result, error)

    def _streamer(self, job: _Job) -> TextCallback:
        def on_text(piece: str) -> None:
            with self._lock:
                job.pieces.append(piece)
                subscribers = list(job.subscribers)
            for subscriber in subscribers:
                subscriber.post(piece)

        return on_text

    def _release(self, job: _Job) -> None:
        """Stop counting ``job`` as running before anyone hears it is done (lock held)."""
        if self._current is job:
            self._current = None

    def _finish(self, job: _Job, result: str | None, error: BaseException | None) -> None:
        with self._lock:
            self._release(job)
            if job.key is not None and self._inflight.get(job.key) is job:
                del self._inflight[job.key]
            subscribers = list(job.subscribers)
        for subscriber in subscribers:
            subscriber.settle(result, error)
        if job.kind == "load" and not job.done.done():
            job.done.set_exception(error or EngineError("the load was cancelled"))

    def _prefill(self, job: _Job) -> None:
        engine = self._engine
        if not isinstance(engine, Prefiller):
            return
        try:
            engine.prefill(job.messages, job.cancel)
        except Cancelled:
            log.debug("prefill preempted")
        except Exception as exc:
            log.debug("prefill failed: %s", _describe(exc))

    def _close_engine(self) -> None:
        with self._lock:
            engine, self._engine = self._engine, None
        if isinstance(engine, Closable):
            try:
                engine.close()
            except Exception:
                log.exception("closing the engine failed")
