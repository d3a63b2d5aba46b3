"""The prompt layout that lets requests reuse the model's evaluated prefix, and the
warm-up that evaluates the shared part right after the model loads (FakeEngine: a fake
model that records prefills)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from qwen_lsp.actions.action import Action
from qwen_lsp.actions.messages import explain_messages, rewrite_messages, shared_prefix
from qwen_lsp.actions.prompts import PromptStore
from qwen_lsp.actions.span import resolve_span
from qwen_lsp.documents import OpenDocument
from qwen_lsp.engine.fake import FakeEngine
from qwen_lsp.runtime import Runtime
from qwen_lsp.settings import Settings
from tests.unit.inproc import FakeModelSession

CODE = '''import math


def area(radius):
    """The area of a circle."""
    return math.pi * radius ** 2


class Shelf:
    def count(self, items, wanted=None):
        return sum(1 for item in items if wanted is None or item == wanted)
'''


def _target(name: str):
    doc = OpenDocument.open("file:///x/shapes.py", "/x/shapes.py", "python", 1, CODE, 5_000_000)
    source = doc.source(snapshot=True)
    offset = CODE.index(f"{name}(") + 1
    return source, resolve_span(source, offset, offset, max_lines=400, need_syntax=True)


def _explain(name: str, language: str = "English"):
    return explain_messages(PromptStore(), *_target(name), language)


def _rewrite(action: Action, name: str, language: str = "English"):
    return rewrite_messages(PromptStore(), action, *_target(name), answer_language=language)


def _common(a: str, b: str) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def test_every_request_starts_with_the_same_system_message():
    """One per answer language: it holds the answer form of an explanation, so that a
    new explanation evaluates only its code and one short line after it."""
    prompts = [_explain("area"), _explain("count"), _rewrite(Action.REFACTOR, "area"),
               _rewrite(Action.CONVERT_TO_ASYNC, "count")]
    assert all(p[0] == prompts[0][0] and p[0]["role"] == "system" for p in prompts)
    assert shared_prefix(PromptStore(), "English") == [prompts[0][0]]
    assert "**Returns:**" in prompts[0][0]["content"]
    zh = [_explain("area", "Chinese (简体中文)"), _rewrite(Action.REFACTOR, "count",
                                                        "Chinese (简体中文)")]
    assert zh[0][0] == zh[1][0] == shared_prefix(PromptStore(), "Chinese (简体中文)")[0]
    assert zh[0][0] != prompts[0][0] and "**返回值:**" in zh[0][0]["content"]


def test_the_code_comes_before_what_each_action_asks():
    """An explain prompt evaluated while the cursor rested also serves a refactor or an
    async conversion of the same function up to the end of its code."""
    explain = _explain("area")[1]["content"]
    code_end = explain.index("    return math.pi * radius ** 2\n```\n") + len(
        "    return math.pi * radius ** 2\n```\n")
    for action in (Action.REFACTOR, Action.CONVERT_TO_ASYNC):
        other = _rewrite(action, "area")[1]["content"]
        assert _common(explain, other) >= code_end, (action, other[:200])
    assert len(explain) - code_end < 120, explain[code_end:]  # little is left to evaluate


def test_a_system_template_that_depends_on_the_code_has_no_shared_prefix(tmp_path: Path):
    (tmp_path / "system.txt").write_text("You explain {name}.")
    assert shared_prefix(PromptStore(str(tmp_path)), "English") is None


async def _loaded(settings: Settings) -> tuple[Runtime, FakeEngine]:
    engine = FakeEngine()
    runtime = Runtime(settings, engine_factory=lambda path, s: engine)
    runtime.warm_up_messages = lambda: shared_prefix(runtime.prompts, "English")
    runtime.start_model()
    await runtime.worker.wait_ready()
    for _ in range(50):
        await asyncio.sleep(0.01)
        if engine.prefills:
            break
    return runtime, engine


def _gguf(tmp_path: Path) -> str:
    path = tmp_path / "model.gguf"
    path.write_bytes(b"GGUF" + b"\0" * 60)
    return str(path)


async def test_the_shared_prefix_is_evaluated_once_the_model_is_loaded(tmp_path: Path):
    runtime, engine = await _loaded(Settings(model_path=_gguf(tmp_path)))
    try:
        assert engine.prefills == [shared_prefix(runtime.prompts, "English")]
        assert engine.calls == []  # evaluated only: nothing was generated
    finally:
        runtime.shutdown()


async def test_no_warm_up_with_prefill_off(tmp_path: Path):
    runtime, engine = await _loaded(Settings(model_path=_gguf(tmp_path), prefill="off"))
    try:
        assert engine.prefills == []
    finally:
        runtime.shutdown()


async def test_through_the_server_a_refactor_and_an_explanation_share_the_system(tmp_path):
    """The server passes the answer language to rewrites too: without it their system
    message differed from the explanation's, and nothing of the prefix was reused."""
    engine = FakeEngine(answer=lambda messages: "```python\ndef f(x):\n    return x + 2\n```"
                        if "Refactor" in messages[1]["content"] else " adds one.")
    session = await FakeModelSession(tmp_path, engine, locale="zh-cn",
                                     options={"cache": {"enabled": False}}).start()
    try:
        for msg_id, command in ((2, "qwenLsp.explain"), (3, "qwenLsp.refactor")):
            session.command(msg_id, command)
            await session.response(msg_id)
        systems = {call.messages[0]["content"] for call in engine.calls}
        assert len(engine.calls) >= 2 and len(systems) == 1, systems
        assert "**返回值:**" in systems.pop()  # the client's locale: Chinese
    finally:
        session.close()

