"""The prompt layout that lets every explanation reuse the model's evaluated prefix, and
the warm-up that evaluates that prefix right after the model loads (FakeEngine: a fake
model that records prefills)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from qwen_lsp.actions.messages import explain_messages, explain_prefix
from qwen_lsp.actions.prompts import PromptStore
from qwen_lsp.actions.span import resolve_span
from qwen_lsp.documents import OpenDocument
from qwen_lsp.engine.fake import FakeEngine
from qwen_lsp.runtime import Runtime
from qwen_lsp.settings import Settings

CODE = '''import math


def area(radius):
    """The area of a circle."""
    return math.pi * radius ** 2


class Shelf:
    def count(self, items, wanted=None):
        return sum(1 for item in items if wanted is None or item == wanted)
'''


def _explain(name: str, language: str = "English", prompts: PromptStore | None = None):
    doc = OpenDocument.open("file:///x/shapes.py", "/x/shapes.py", "python", 1, CODE, 5_000_000)
    source = doc.source(snapshot=True)
    offset = CODE.index(f"{name}(") + 1
    span = resolve_span(source, offset, offset, max_lines=400, need_syntax=True)
    return explain_messages(prompts or PromptStore(), source, span, language)


def test_everything_that_does_not_depend_on_the_code_comes_first():
    a, b = _explain("area"), _explain("count")
    assert a[0] == b[0] and a[0]["role"] == "system"  # the same system text for all code
    assert explain_prefix(PromptStore(), "English") == [a[0]]
    # the form of the answer is in that shared part, not after each piece of code
    assert "**Returns:**" in a[0]["content"] and "**Returns:**" not in a[1]["content"]
    # what is left after the code is short
    tail = a[1]["content"].split("```")[-1]
    assert "area" in tail and len(tail) < 160, tail


def test_the_prefix_follows_the_answer_language():
    zh = explain_prefix(PromptStore(), "Chinese (简体中文)")
    assert zh is not None and zh != explain_prefix(PromptStore(), "English")
    assert zh == [_explain("area", "Chinese (简体中文)")[0]]


def test_a_system_template_that_depends_on_the_code_has_no_prefix(tmp_path: Path):
    (tmp_path / "explain.system.txt").write_text("Explain {name} in {answer_language}.")
    assert explain_prefix(PromptStore(str(tmp_path)), "English") is None


async def _loaded(settings: Settings, gguf: Path) -> tuple[Runtime, FakeEngine]:
    engine = FakeEngine()
    runtime = Runtime(settings, engine_factory=lambda path, s: engine)
    runtime.warm_up_messages = lambda: explain_prefix(runtime.prompts, "English")
    runtime.start_model()
    await runtime.worker.wait_ready()
    for _ in range(50):
        await asyncio.sleep(0.01)
        if engine.prefills:
            break
    return runtime, engine


async def test_the_shared_prefix_is_evaluated_once_the_model_is_loaded(tmp_path: Path):
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF" + b"\0" * 60)
    runtime, engine = await _loaded(Settings(model_path=str(gguf)), gguf)
    try:
        assert engine.prefills == [explain_prefix(runtime.prompts, "English")]
        assert engine.calls == []  # evaluated only: nothing was generated
    finally:
        runtime.shutdown()


async def test_no_warm_up_with_prefill_off(tmp_path: Path):
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF" + b"\0" * 60)
    runtime, engine = await _loaded(Settings(model_path=str(gguf), prefill="off"), gguf)
    try:
        assert engine.prefills == []
    finally:
        runtime.shutdown()
