"""Context for the server numbers: engine load time, prompt and answer sizes in tokens.

Runs in the benchmark's own process after every server has stopped.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

from bench_fixtures import explain_cursor, ledger_source

from qwen_lsp.actions.language import answer_language
from qwen_lsp.actions.messages import explain_messages
from qwen_lsp.actions.prompts import PromptStore
from qwen_lsp.actions.span import resolve_span
from qwen_lsp.documents import OpenDocument
from qwen_lsp.edits import byte_offset
from qwen_lsp.engine.base import GenParams
from qwen_lsp.engine.llama import LlamaEngine
from qwen_lsp.settings import Settings


@dataclass
class EngineContext:
    load_seconds: float  # LlamaEngine construction (page cache warm: the servers read it)
    prompt_tokens: int  # the explain prompt of one variant of the fixture
    new_prompt_tokens: int  # tokens after the prefix shared with the previous variant
    answer_tokens: list[int]  # per cold answer
    first_token: list[float]  # a cold prompt straight on the engine: no LSP, no server


def _explain_messages(path: str, batch: int) -> list[dict[str, str]]:
    text = ledger_source(batch)
    settings = Settings()
    doc = OpenDocument.open("file://" + path, path, "python", 1, text, settings.max_file_bytes)
    source = doc.source(snapshot=True)
    line, character = explain_cursor(text)
    start = byte_offset(doc.text, line, character, "utf-16")
    span = resolve_span(source, start, start, max_lines=settings.max_span_lines,
                        need_syntax=False)
    language = answer_language(settings.explanation_language, "en")
    return explain_messages(PromptStore(settings.prompts_directory), source, span, language)


def _first_token(engine: LlamaEngine, path: str, batch: int) -> float:
    """Seconds to the first token of one variant's explain prompt (one token sampled)."""
    engine.generate(_explain_messages(path, batch), GenParams(max_tokens=1),
                    lambda _piece: None, threading.Event())
    return float(engine.last_stats["first_token_seconds"])


def engine_context(model_path: str, threads: int, path: str, batches: tuple[int, int],
                   answers: list[str], repeat: int) -> EngineContext:
    started = time.perf_counter()
    engine = LlamaEngine(model_path, n_threads=threads, n_ctx=Settings().context_size)
    load_seconds = time.perf_counter() - started
    try:
        first = engine.prompt_tokens(_explain_messages(path, batches[0]))
        second = engine.prompt_tokens(_explain_messages(path, batches[1]))
        shared = len(os.path.commonprefix([first, second]))
        answer_tokens = [
            len(engine._llama.tokenize(a.encode("utf-8"), add_bos=False, special=False))
            for a in answers
        ]
        # as for a cold request in the server: the KV cache holds another variant
        _first_token(engine, path, 4999)
        first_token = [_first_token(engine, path, 5000 + i) for i in range(repeat)]
    finally:
        engine.close()
    return EngineContext(load_seconds=load_seconds, prompt_tokens=len(second),
                         new_prompt_tokens=len(second) - shared, answer_tokens=answer_tokens,
                         first_token=first_token)
