"""The physical limit: raw llama-cpp-python on the same model, prompts and threads.

Runs after every server has stopped, in a separate process (`python
bench/bench_reference.py --worker IN.json OUT.json`) holding one fresh `llama_cpp.Llama`
with the server's threads, context size and batch size. Nothing of qwen-lsp runs in
that process: it tokenizes ChatML itself (control markers as special tokens, message
contents as plain text, as the server does) and calls `Llama.generate` directly.

The prompts are the server's own: the benchmark process builds them with the code the
CLI and the server use (`requests.prepare` then `requests.execute`), with a fake engine
that records the messages it is asked to answer and answers none (`RecordingFakeEngine`).

Measured, median over the repetitions:

- **function only, first token**: the cold explain's function code tokenized alone,
  evaluated from an empty context, one token sampled: what reading the code costs.
- **explain, same prompt and answer length**: the server's explain prompt of each cold
  variant, with the KV cache holding another variant first (as in the server: they share
  the prompt's prefix up to the changed line), then exactly as many tokens as the
  server's answer had, greedy, ignoring the end of text.
- **refactor / convert to async, same prompt, plain decoding**: the first prompt the
  server gave the model, from an empty context, greedy token by token until the end of
  text (or the server's `maxOutputTokens`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import json
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WORKER_TIMEOUT = 900.0
TOP_K, TOP_P, N_BATCH = 40, 0.95, 512  # as qwen_lsp.engine.llama


# -- the benchmark's side: the server's prompts -------------------------------------------


class RecordingFakeEngine:
    """A fake engine for plumbing only: records every prompt it is given, answers none."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[dict[str, str]], int]] = []

    def generate(self, messages: list[dict[str, str]], params: Any,
                 on_text: Callable[[str], None], cancel: threading.Event) -> str:
        from qwen_lsp.engine.base import EngineError

        self.calls.append((copy.deepcopy(messages), int(params.max_tokens)))
        raise EngineError("the benchmark's recording fake engine answers nothing")


@dataclass
class Recorded:
    messages: list[dict[str, str]]  # the first prompt the model would be given
    max_tokens: int
    span_code: str  # the code the action works on (the function)


async def _record(model: Path, action_id: str, path: Path, text: str, language_id: str,
                  line: int, character: int) -> Recorded:
    from qwen_lsp.actions.action import Action
    from qwen_lsp.actions.errors import ActionError
    from qwen_lsp.actions.language import answer_language
    from qwen_lsp.documents import OpenDocument
    from qwen_lsp.engine.base import EngineError
    from qwen_lsp.requests import Request, execute, prepare
    from qwen_lsp.runtime import Runtime
    from qwen_lsp.settings import Settings

    settings = Settings(cache_enabled=False)
    engine = RecordingFakeEngine()
    runtime = Runtime(settings, engine_factory=lambda _path, _settings: engine,
                      model_override=str(model))
    runtime.start_model()
    try:
        uri = path.as_uri()
        doc = OpenDocument.open(uri, str(path), language_id, 1, text, settings.max_file_bytes)
        request = Request(Action.from_id(action_id), uri, 1, (line, character, line, character))
        prepared = prepare(request, doc, "utf-16", settings.max_span_lines)
        language = answer_language(settings.explanation_language, "en")  # the bench's locale
        with contextlib.suppress(ActionError, EngineError):
            await execute(runtime, prepared, language, lambda _text: None)
    finally:
        runtime.shutdown()
    if not engine.calls:
        raise RuntimeError(f"{action_id} of {path.name} never asked the model (answered by "
                           "rules?): it is no reference for a model path")
    messages, max_tokens = engine.calls[0]
    return Recorded(messages, max_tokens, prepared.span.code)


def record(model: Path, action_id: str, path: Path, text: str, language_id: str,
           line: int, character: int) -> Recorded:
    """The first prompt the server gives the model for this action at this place."""
    return asyncio.run(_record(model, action_id, path, text, language_id, line, character))


# -- the jobs and their results -------------------------------------------------------------


@dataclass
class ReferenceRun:
    load_seconds: float = 0.0
    function_tokens: int = 0
    function_first_token: list[float] = field(default_factory=list)
    explain_prompt_tokens: int = 0
    explain_total: list[float] = field(default_factory=list)  # same prompt, same length
    explain_answer_tokens: list[int] = field(default_factory=list)
    rewrites: dict[str, dict[str, Any]] = field(default_factory=dict)  # action -> results
    error: str | None = None


def run_reference(model: Path, threads: int, n_ctx: int, jobs: dict[str, Any],
                  workdir: Path) -> ReferenceRun:
    """Run the jobs in a separate process; its results."""
    spec = workdir / "reference-in.json"
    out = workdir / "reference-out.json"
    spec.write_text(json.dumps({"model": str(model), "threads": threads, "n_ctx": n_ctx,
                                "jobs": jobs}))
    log = workdir / "reference.log"
    with log.open("wb") as stderr:
        done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker",
                               str(spec), str(out)], stdout=stderr, stderr=stderr,
                              timeout=WORKER_TIMEOUT, check=False)
    if done.returncode != 0 or not out.exists():
        tail = log.read_text(errors="replace")[-600:]
        return ReferenceRun(error=f"the reference process failed ({done.returncode}): {tail}")
    data = json.loads(out.read_text())
    return ReferenceRun(**data)


# -- the reference process: raw llama-cpp-python --------------------------------------------


class Raw:
    """One llama_cpp.Llama, used the plain way."""

    def __init__(self, model: str, threads: int, n_ctx: int) -> None:
        import llama_cpp

        self.llama_cpp = llama_cpp
        started = time.perf_counter()
        self.llm = llama_cpp.Llama(model_path=model, n_ctx=n_ctx, n_threads=threads,
                                   n_threads_batch=threads, n_batch=N_BATCH, verbose=False,
                                   logits_all=False, seed=0)
        self.load_seconds = time.perf_counter() - started
        self.vocab = llama_cpp.llama_model_get_vocab(self.llm.model)

    def tokens(self, text: str, special: bool = False) -> list[int]:
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=special)

    def chatml(self, messages: list[dict[str, str]]) -> list[int]:
        """ChatML: markers as special tokens, contents as text; a last assistant message
        is the start of the answer, left open."""
        start = ""
        if messages and messages[-1]["role"] == "assistant":
            *messages, last = messages
            start = last["content"]
        out: list[int] = []
        for m in messages:
            out += self.tokens(f"<|im_start|>{m['role']}\n", special=True)
            out += self.tokens(m["content"])
            out += self.tokens("<|im_end|>\n", special=True)
        out += self.tokens("<|im_start|>assistant\n", special=True)
        return out + (self.tokens(start) if start else [])

    def is_end(self, token: int) -> bool:
        return token == self.llm.token_eos() or \
            bool(self.llama_cpp.llama_vocab_is_eog(self.vocab, token))

    def run(self, tokens: list[int], n: int, until_end: bool, fresh: bool) -> tuple[float, float,
                                                                                     int]:
        """(first token s, total s, tokens produced): evaluate ``tokens`` and sample ``n``
        greedily (stopping at the end of text if ``until_end``). ``fresh``: from an
        empty context; otherwise the prefix shared with the previous call is reused."""
        if fresh:
            self.llm.reset()
        started = time.perf_counter()
        first = 0.0
        produced = 0
        for token in self.llm.generate(tokens, temp=0.0, top_k=TOP_K, top_p=TOP_P,
                                       repeat_penalty=1.0, reset=True):
            if produced == 0:
                first = time.perf_counter() - started
            if until_end and self.is_end(token):
                break
            produced += 1
            if produced >= n:
                break
        return first, time.perf_counter() - started, produced


def _answer_tokens(raw: Raw, streamed: str, start: str) -> int:
    """Tokens of what the model wrote: the streamed text after the prompt-written start."""
    answer = streamed[len(start):] if streamed.startswith(start) else streamed
    return max(1, len(raw.tokens(answer)))


def worker(spec_path: Path, out_path: Path) -> int:
    spec = json.loads(spec_path.read_text())
    jobs = spec["jobs"]
    raw = Raw(spec["model"], spec["threads"], spec["n_ctx"])
    result = ReferenceRun(load_seconds=raw.load_seconds)

    function = [raw.tokens(code) for code in jobs["function_codes"]]
    result.function_tokens = len(function[-1])
    raw.run(function[0], 1, False, fresh=True)  # warm-up: the weights are read once
    result.function_first_token = [raw.run(t, 1, False, fresh=True)[0] for t in function[1:]]

    for item in jobs["explains"]:
        prompt = raw.chatml(item["messages"])
        result.explain_prompt_tokens = len(prompt)
        n = _answer_tokens(raw, item["streamed"], item["answer_start"])
        raw.run(raw.chatml(item["previous_messages"]), 1, False, fresh=True)
        _first, total, produced = raw.run(prompt, n, False, fresh=False)
        result.explain_total.append(total)
        result.explain_answer_tokens.append(produced)

    for action, items in jobs["rewrites"].items():
        totals, firsts, produced, prompt_tokens, server_tokens = [], [], [], 0, []
        for item in items:
            prompt = raw.chatml(item["messages"])
            prompt_tokens = len(prompt)
            first, total, n = raw.run(prompt, item["max_tokens"], True, fresh=True)
            totals.append(total)
            firsts.append(first)
            produced.append(n)
            server_tokens.append(len(raw.tokens(item["streamed"])) if item["streamed"] else 0)
        result.rewrites[action] = {"total": totals, "first_token": firsts, "tokens": produced,
                                   "prompt_tokens": prompt_tokens,
                                   "server_streamed_tokens": server_tokens}
    out_path.write_text(json.dumps(result.__dict__))
    return 0


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="the raw llama-cpp-python reference process")
    parser.add_argument("--worker", nargs=2, type=Path, metavar=("IN", "OUT"), required=True)
    arguments = parser.parse_args()
    sys.exit(worker(*arguments.worker))
