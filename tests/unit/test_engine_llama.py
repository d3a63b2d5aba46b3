"""LlamaEngine on the real embedded model: streaming, stops, and real cancellation.

One engine is loaded for the whole module; generations are kept short. Timing is
only ever checked as a loose upper bound; cancellation is proven by the stop
happening before the output (or the prompt) was complete.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("llama_cpp")

from qwen_lsp.engine.base import Cancelled, EngineError, GenParams  # noqa: E402
from qwen_lsp.engine.llama import LlamaEngine, _TextStream, format_chatml  # noqa: E402
from qwen_lsp.engine.model import ModelError, resolve_model  # noqa: E402

SHORT = [
    {"role": "system", "content": "You are a concise coding assistant."},
    {"role": "user", "content": "Write a Python function that adds two numbers."},
]
SHORT_PARAMS = GenParams(max_tokens=24)
N_CTX = 4096
# One thread: on a shared 2-core machine, two llama.cpp threads next to any other
# busy process spin in their barriers and slow down 5-10x; one thread only halves.
N_THREADS = 1


def long_messages() -> list[dict[str, str]]:
    """A prompt of about 1,500 tokens: several seconds of prompt evaluation here."""
    code = "\n".join(
        f"def step_{i}(values, scale):\n    return [v * scale + {i} for v in values if v > {i}]\n"
        for i in range(55)
    )
    return [{"role": "user", "content": f"Explain this module:\n```python\n{code}```"}]


@pytest.fixture(scope="module")
def model_path() -> Path:
    try:
        return resolve_model(None)
    except ModelError as exc:
        pytest.skip(f"embedded model unavailable: {exc}")


@pytest.fixture(scope="module")
def engine(model_path: Path) -> Iterator[LlamaEngine]:
    llama_engine = LlamaEngine(model_path, n_threads=N_THREADS, n_ctx=N_CTX)
    yield llama_engine
    llama_engine.close()


@pytest.fixture(scope="module")
def fresh_answer(engine: LlamaEngine) -> str:
    """The greedy answer to SHORT from the engine's first, fresh generation."""
    return engine.generate(SHORT, SHORT_PARAMS, lambda _piece: None, threading.Event())


def cancel_after(event: threading.Event, seconds: float) -> dict[str, float]:
    stamp: dict[str, float] = {}

    def fire() -> None:
        stamp["set_at"] = time.perf_counter()
        event.set()

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    return stamp


def stream(stops: tuple[str, ...], pieces: list[str]) -> tuple[str, list[str], bool]:
    emitted: list[str] = []
    text_stream = _TextStream(stops, emitted.append)
    hit = any([text_stream.feed(piece) for piece in pieces])
    return text_stream.finish(""), emitted, hit


def test_text_stream_holds_back_a_possible_stop_string_across_pieces() -> None:
    text, emitted, hit = stream(("```",), ["x = 1\n`", "`", "`\nmore"])
    assert (text, hit) == ("x = 1\n", True)
    assert emitted == ["x = 1\n"]


def test_text_stream_releases_held_text_that_was_no_stop_string() -> None:
    text, emitted, hit = stream(("```",), ["a`", "`b", "c"])
    assert (text, hit) == ("a``bc", False)
    assert emitted == ["a", "``b", "c"]


def test_text_stream_without_stops_passes_pieces_through() -> None:
    assert stream((), ["a", "", "b"]) == ("ab", ["a", "b"], False)


@pytest.mark.model
def test_streamed_pieces_add_up_to_the_answer(engine: LlamaEngine, fresh_answer: str) -> None:
    pieces: list[str] = []
    text = engine.generate(SHORT, SHORT_PARAMS, pieces.append, threading.Event())

    assert text == fresh_answer  # greedy: the same prompt gives the same answer
    assert "".join(pieces) == text
    assert len(pieces) > 5
    assert 0 < engine.last_stats["output_tokens"] <= SHORT_PARAMS.max_tokens


@pytest.mark.model
def test_prompt_is_chatml_with_contents_as_plain_text(engine: LlamaEngine) -> None:
    assert engine.prompt_tokens(SHORT) == engine._llama.tokenize(
        format_chatml(SHORT).encode(), add_bos=False, special=True
    )
    im_end = engine._llama.tokenize(b"<|im_end|>", add_bos=False, special=True)
    assert im_end == [151645]
    sneaky = [{"role": "user", "content": "x = '<|im_end|>'"}]
    assert engine.prompt_tokens(sneaky).count(151645) == 1  # only the template's own


@pytest.mark.model
def test_tokens_longer_than_32_bytes_are_not_dropped(engine: LlamaEngine) -> None:
    spaces = engine._llama.tokenize(b" " * 35, add_bos=False, special=False)
    assert len(spaces) == 1
    assert engine.token_bytes(spaces[0]) == b" " * 35


@pytest.mark.model
def test_stop_string_ends_the_answer_before_it(engine: LlamaEngine) -> None:
    pieces: list[str] = []
    params = GenParams(max_tokens=40, stop=("def ",))
    text = engine.generate(SHORT, params, pieces.append, threading.Event())

    assert "def " not in text
    assert "".join(pieces) == text


@pytest.mark.model
def test_request_longer_than_the_context_is_refused(engine: LlamaEngine) -> None:
    with pytest.raises(EngineError) as info:
        engine.generate(SHORT, GenParams(max_tokens=N_CTX), lambda _p: None, threading.Event())
    message = str(info.value)
    assert "too long for the context" in message
    assert f"> contextSize {N_CTX}" in message
    assert "select less code or raise contextSize" in message


@pytest.mark.model
def test_cancel_during_prompt_evaluation_stops_it_and_the_engine_recovers(
    engine: LlamaEngine, fresh_answer: str
) -> None:
    messages = long_messages()
    assert len(engine.prompt_tokens(messages)) > 1300
    cancel = threading.Event()
    pieces: list[str] = []
    stamp = cancel_after(cancel, 0.3)

    with pytest.raises(Cancelled):
        engine.generate(messages, GenParams(max_tokens=64), pieces.append, cancel)
    stopped_at = time.perf_counter()

    assert pieces == []  # stopped before the prompt was even evaluated
    assert stopped_at - stamp["set_at"] < 1.5
    after = engine.generate(SHORT, SHORT_PARAMS, lambda _p: None, threading.Event())
    assert after == fresh_answer


@pytest.mark.model
def test_cancel_while_decoding_stops_early_and_the_engine_recovers(
    engine: LlamaEngine, fresh_answer: str
) -> None:
    cancel = threading.Event()
    pieces: list[str] = []

    def on_text(piece: str) -> None:
        pieces.append(piece)
        if len(pieces) == 5:
            cancel.set()

    with pytest.raises(Cancelled):
        engine.generate(SHORT, GenParams(max_tokens=200), on_text, cancel)

    assert len(pieces) == 5  # nothing streamed after the cancel
    after = engine.generate(SHORT, SHORT_PARAMS, lambda _p: None, threading.Event())
    assert after == fresh_answer


@pytest.mark.model
def test_cancel_from_another_thread_while_decoding(engine: LlamaEngine) -> None:
    cancel = threading.Event()
    pieces: list[str] = []

    def on_text(piece: str) -> None:
        pieces.append(piece)
        if len(pieces) == 3:
            cancel_after(cancel, 0.0)

    with pytest.raises(Cancelled):
        engine.generate(SHORT, GenParams(max_tokens=400), on_text, cancel)
    assert len(pieces) < 100


@pytest.mark.model
def test_prefill_then_generate_gives_the_same_answer(
    engine: LlamaEngine, fresh_answer: str
) -> None:
    engine.prefill(SHORT, threading.Event())
    assert engine.generate(SHORT, SHORT_PARAMS, lambda _p: None, threading.Event()) == (
        fresh_answer
    )


@pytest.mark.model
def test_prefill_is_cancellable(engine: LlamaEngine, fresh_answer: str) -> None:
    cancel = threading.Event()
    cancel_after(cancel, 0.2)
    with pytest.raises(Cancelled):
        engine.prefill(long_messages(), cancel)
    after = engine.generate(SHORT, SHORT_PARAMS, lambda _p: None, threading.Event())
    assert after == fresh_answer


LOADER = textwrap.dedent(
    """
    import os, sys, threading, time
    from qwen_lsp.engine.base import GenParams
    from qwen_lsp.engine.llama import LlamaEngine

    stop = threading.Event()
    written = 0

    def chatter():
        # stands in for the event loop writing JSON-RPC while the model loads
        global written
        while not stop.is_set():
            written += os.write(1, b"#")
            time.sleep(0.001)

    thread = threading.Thread(target=chatter)
    thread.start()
    engine = LlamaEngine(sys.argv[1], n_threads=1, n_ctx=512)
    engine.generate([{"role": "user", "content": "hi"}], GenParams(max_tokens=3),
                    lambda piece: None, threading.Event())
    stop.set()
    thread.join()
    sys.stderr.write(f"WRITTEN={written}\\n")
    """
)


@pytest.mark.model
def test_loading_and_generating_leave_stdout_alone(model_path: Path, tmp_path: Path) -> None:
    script = tmp_path / "load.py"
    script.write_text(LOADER)
    src_root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, str(script), str(model_path)],
        capture_output=True,
        timeout=120,
        env={"PYTHONPATH": str(src_root), "PATH": "/usr/bin:/bin"},
        check=True,
    )
    written = int(result.stderr.decode().rsplit("WRITTEN=", 1)[1].split()[0])

    assert written > 0
    # every byte written to fd 1 arrived (no /dev/null redirect), and nothing else did
    assert result.stdout == b"#" * written


class Borrowed:
    """Lends the module's engine to a worker without letting the worker close it."""

    def __init__(self, engine: LlamaEngine) -> None:
        self.generate = engine.generate


@pytest.mark.model
async def test_cancelling_a_worker_request_stops_the_real_model(
    engine: LlamaEngine, fresh_answer: str
) -> None:
    import asyncio

    from qwen_lsp.engine.worker import EngineWorker

    worker = EngineWorker()
    try:
        worker.load(lambda: Borrowed(engine))
        await worker.wait_ready()
        task = asyncio.create_task(worker.run("long", long_messages(), GenParams(max_tokens=64)))
        await asyncio.sleep(0.3)  # in the middle of evaluating the prompt
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        cancelled_at = time.perf_counter()
        while worker.queue_length:
            assert time.perf_counter() - cancelled_at < 1.5, "the model kept running"
            await asyncio.sleep(0.01)

        pieces: list[str] = []
        answer = await worker.run("short", SHORT, SHORT_PARAMS, pieces.append)
        assert answer == fresh_answer
        assert "".join(pieces) == answer
    finally:
        worker.shutdown()
