"""The action runner's plumbing, on a FakeEngine (scripted answers, no model).

What the real model says is judged in tests/e2e; here: checks, the one repair,
the cache, and the exact-rule path that needs no model at all.
"""

from __future__ import annotations

import pytest

from qwen_lsp.actions.action import Action
from qwen_lsp.actions.errors import ActionError
from qwen_lsp.actions.prompts import PromptStore
from qwen_lsp.actions.runner import Assistant
from qwen_lsp.actions.span import resolve_span
from qwen_lsp.cache import ResultCache
from qwen_lsp.documents import OpenDocument
from qwen_lsp.engine.base import GenParams
from qwen_lsp.engine.fake import FakeEngine
from qwen_lsp.engine.worker import EngineWorker

CODE = '''\
import time


class Shop:
    def total(self, prices):
        result = 0
        for p in prices:
            result = result + p
        return result


def wait(seconds):
    time.sleep(seconds)
    return seconds


async def main():
    return wait(1)
'''

GOOD_METHOD = "```python\ndef total(self, prices):\n    return sum(prices)\n```"
BROKEN = "```python\ndef total(self, prices:\n    return sum(prices)\n```"
RENAMED = "```python\ndef add_all(self, prices):\n    return sum(prices)\n```"


def _source():
    doc = OpenDocument.open("file:///shop.py", "/shop.py", "python", 1, CODE, 5_000_000)
    return doc.source(snapshot=True)


def _span(source, line: int):
    offset = sum(len(x) + 1 for x in CODE.split("\n")[:line]) + 8
    return resolve_span(source, offset, offset, max_lines=400, need_syntax=True)


async def _assistant(tmp_path, answers: list[str]):
    engine = FakeEngine(answer=lambda messages: answers[min(len(engine.calls), len(answers)) - 1])
    worker = EngineWorker()
    worker.load(lambda: engine)
    await worker.wait_ready()

    async def model_id() -> str:
        return "fake-model-sha"

    cache = ResultCache(tmp_path / "cache", 10_000_000)
    return Assistant(worker, PromptStore(), cache, model_id), engine, worker


async def test_a_valid_method_rewrite_is_reindented_and_planned(tmp_path):
    assistant, engine, worker = await _assistant(tmp_path, [GOOD_METHOD])
    try:
        source = _source()
        outcome = await assistant.rewrite(Action.REFACTOR, source, _span(source, 5), GenParams(),
                                          lambda s: None)
        assert outcome.plan.new_text == "    def total(self, prices):\n        return sum(prices)"
        assert len(engine.calls) == 1 and not outcome.cached
        # same request again: from the cache, the engine is not called
        again = await assistant.rewrite(Action.REFACTOR, source, _span(source, 5), GenParams(),
                                        lambda s: None)
        assert again.cached and len(engine.calls) == 1
    finally:
        worker.shutdown()


@pytest.mark.parametrize("first", [BROKEN, RENAMED, "no code at all, sorry"])
async def test_a_rejected_answer_gets_one_repair_with_the_problem_fed_back(tmp_path, first):
    assistant, engine, worker = await _assistant(tmp_path, [first, GOOD_METHOD])
    try:
        source = _source()
        outcome = await assistant.rewrite(Action.REFACTOR, source, _span(source, 5), GenParams(),
                                          lambda s: None)
        assert len(engine.calls) == 2
        repair_prompt = engine.calls[1].messages[-1]["content"]
        assert "rejected" in repair_prompt
        assert outcome.plan.edits
    finally:
        worker.shutdown()


INDEX_OF = '''\
def index_of(xs, wanted):
    for i in range(len(xs)):
        if xs[i] == wanted:
            return i
    return -1
'''


def _index_of():
    doc = OpenDocument.open("file:///find.py", "/find.py", "python", 1, INDEX_OF, 5_000_000)
    source = doc.source(snapshot=True)
    return source, resolve_span(source, 4, 4, max_lines=400, need_syntax=True)


async def test_two_bad_answers_fail_clearly_and_apply_nothing(tmp_path):
    broken = "```python\ndef index_of(xs, wanted:\n    return xs.index(wanted)\n```"
    renamed = "```python\ndef find(xs, wanted):\n    return xs.index(wanted)\n```"
    assistant, engine, worker = await _assistant(tmp_path, [broken, renamed])
    try:
        source, span = _index_of()
        with pytest.raises(ActionError, match="did not pass the checks.*no longer named"):
            await assistant.rewrite(Action.REFACTOR, source, span, GenParams(), lambda s: None)
        assert len(engine.calls) == 2
        # the model was told what to improve: the linter's finding
        assert "enumerate" in engine.calls[0].messages[-1]["content"]
        assert assistant.cache.info()["entries"] == 0  # a failure is not cached
    finally:
        worker.shutdown()


async def test_when_the_model_fails_the_rule_based_refactor_is_kept(tmp_path):
    assistant, engine, worker = await _assistant(tmp_path, [BROKEN, RENAMED])
    try:
        source = _source()
        outcome = await assistant.rewrite(Action.REFACTOR, source, _span(source, 5), GenParams(),
                                          lambda s: None)
        assert "result += p" in outcome.plan.new_text  # ruff's fix, behaviour-checked
        assert any("further changes were not used" in n for n in outcome.notes)
        assert any(n.startswith("behaviour-checked on") for n in outcome.notes)
    finally:
        worker.shutdown()


async def test_a_behaviour_change_is_sent_back_with_its_counterexample(tmp_path):
    wrong = "```python\ndef index_of(xs, wanted):\n    return xs.index(wanted)\n```"
    right = ("```python\ndef index_of(xs, wanted):\n    for i, x in enumerate(xs):\n"
             "        if x == wanted:\n            return i\n    return -1\n```")
    assistant, engine, worker = await _assistant(tmp_path, [wrong, right])
    try:
        source, span = _index_of()
        outcome = await assistant.rewrite(Action.REFACTOR, source, span, GenParams(),
                                          lambda s: None)
        repair = engine.calls[1].messages[-1]["content"]
        assert "behaves differently" in repair and "index_of(" in repair, repair
        assert "enumerate(xs)" in outcome.plan.new_text
        assert any(n.startswith("behaviour-checked on") for n in outcome.notes)
    finally:
        worker.shutdown()


async def test_an_unchanged_answer_is_reported_at_once_as_no_improvement(tmp_path):
    same = "```python\n" + INDEX_OF + "```"
    assistant, engine, worker = await _assistant(tmp_path, [same, same])
    try:
        source, span = _index_of()
        outcome = await assistant.rewrite(Action.REFACTOR, source, span, GenParams(),
                                          lambda s: None)
        assert len(engine.calls) == 1
        assert outcome.plan.edits == []
        assert any("no improvement found" in n for n in outcome.notes)
    finally:
        worker.shutdown()


async def test_time_sleep_is_converted_by_rule_without_the_model(tmp_path):
    assistant, engine, worker = await _assistant(tmp_path, ["should not be asked"])
    try:
        source = _source()
        outcome = await assistant.rewrite(Action.CONVERT_TO_ASYNC, source, _span(source, 12),
                                          GenParams(), lambda s: None)
        assert engine.calls == []
        new = outcome.plan.new_text
        assert new.startswith("async def wait(seconds):")
        assert "await asyncio.sleep(seconds)" in new
        texts = [e.new_text for e in outcome.plan.edits]
        assert "await " in texts  # the async caller main() awaits it now
        assert "import asyncio\n" in texts
    finally:
        worker.shutdown()


async def test_a_crlf_file_keeps_its_line_breaks(tmp_path):
    crlf = CODE.replace("\n", "\r\n")
    doc = OpenDocument.open("file:///shop.py", "/shop.py", "python", 1, crlf, 5_000_000)
    source = doc.source(snapshot=True)
    offset = crlf.index("def total") + 4
    span = resolve_span(source, offset, offset, max_lines=400, need_syntax=True)
    assistant, engine, worker = await _assistant(tmp_path, [GOOD_METHOD])
    try:
        outcome = await assistant.rewrite(Action.REFACTOR, source, span, GenParams(),
                                          lambda s: None)
        assert outcome.plan.new_text == (
            "    def total(self, prices):\r\n        return sum(prices)")
        assert all("\n" not in e.new_text.replace("\r\n", "") for e in outcome.plan.edits)
    finally:
        worker.shutdown()


GO = '''package shop

// Total sums the prices.
// Negative prices are skipped.
func Total(prices []float64) float64 {
	sum := 0.0
	for _, p := range prices {
		if p >= 0 {
			sum = sum + p
		}
	}
	return sum
}
'''


def test_a_dropped_doc_comment_or_decorator_is_put_back():
    from qwen_lsp.actions.rewrite import plan_rewrite

    doc = OpenDocument.open("file:///t.go", "/t.go", "go", 1, GO, 5_000_000)
    source = doc.source(snapshot=True)
    offset = GO.index("sum := ")
    span = resolve_span(source, offset, offset, max_lines=400, need_syntax=True)
    answer = ("func Total(prices []float64) float64 {\n\tsum := 0.0\n"
              "\tfor _, p := range prices {\n\t\tif p >= 0 {\n\t\t\tsum += p\n\t\t}\n\t}\n"
              "\treturn sum\n}")
    plan, problems = plan_rewrite(Action.REFACTOR, source, span, answer)
    assert problems == []
    assert plan.new_text.startswith("// Total sums the prices.\n// Negative prices are skipped.\n")
    assert "sum += p" in plan.new_text

    py = ("import functools\n\n\n@functools.cache\ndef fib(n):\n"
          "    return n if n < 2 else fib(n - 1) + fib(n - 2)\n")
    doc = OpenDocument.open("file:///f.py", "/f.py", "python", 1, py, 5_000_000)
    source = doc.source(snapshot=True)
    offset = py.index("return")
    span = resolve_span(source, offset, offset, max_lines=400, need_syntax=True)
    plan, problems = plan_rewrite(Action.REFACTOR, source, span,
                                  "def fib(n):\n    return n if n < 2 else fib(n - 2) + fib(n - 1)")
    assert problems == []
    assert plan.new_text.startswith("@functools.cache\ndef fib(n):")
    # an answer that keeps (or rewrites) the decorator is left as it is
    plan, _ = plan_rewrite(Action.REFACTOR, source, span,
                           "@functools.lru_cache\ndef fib(n):\n    return n")
    assert plan.new_text.count("@functools") == 1


async def test_a_standard_library_name_the_rewrite_uses_gets_its_import_by_rule(tmp_path):
    uses_reduce = ("```python\ndef index_of(xs, wanted):\n"
                   "    return reduce(lambda found, item: found if found != -1 else "
                   "(item[0] if item[1] == wanted else -1), enumerate(xs), -1)\n```")
    assistant, engine, worker = await _assistant(tmp_path, [uses_reduce])
    try:
        source, span = _index_of()
        outcome = await assistant.rewrite(Action.REFACTOR, source, span, GenParams(),
                                          lambda s: None)
        assert "from functools import reduce\n" in [e.new_text for e in outcome.plan.edits]
        assert any(n.startswith("behaviour-checked on") for n in outcome.notes), outcome.notes
    finally:
        worker.shutdown()


async def test_an_explanation_gets_every_part_of_the_form(tmp_path):
    """The model stops after its first paragraph, or runs on into the next label: the
    server writes each label it skipped and lets the model go on after it."""
    answers = [" adds the prices.\n\n**Inputs:** `prices`, a list.\n",  # runs on: cut there
               " `prices`: the numbers to add.",
               " the sum.",
               "\n- an empty list gives 0."]
    assistant, engine, worker = await _assistant(tmp_path, answers)
    streamed: list[str] = []
    try:
        source = _source()
        outcome = await assistant.explain(source, _span(source, 5), "English", GenParams(),
                                          streamed.append)
        assert outcome.markdown == (
            "**Purpose:** `total` adds the prices.\n\n**Inputs:** `prices`: the numbers to "
            "add.\n\n**Returns:** the sum.\n\n**Notes:**\n- an empty list gives 0.")
        assert len(engine.calls) == 4
        # each part continues the same answer, which grows by what came before
        starts = [call.messages[-1]["content"] for call in engine.calls]
        assert starts[0] == "**Purpose:** `total`"
        assert starts[1] == "**Purpose:** `total` adds the prices.\n\n**Inputs:**"
        assert all(b.startswith(a) for a, b in zip(starts, starts[1:], strict=False))
        assert all(call.params.max_tokens == GenParams().max_tokens // 4
                   for call in engine.calls)
        assert "".join(streamed).replace("\n", "") == outcome.markdown.replace("\n", "")
        assert "\n\n\n" not in "".join(streamed)  # one blank line before each label
    finally:
        worker.shutdown()


CART = '''\
class Cart:
    def __init__(self, prices):
        self.prices = list(prices)

    def total(self, tax):
        result = 0
        for p in self.prices:
            result = result + p * (1 + tax)
        return result
'''


async def test_a_method_using_self_is_behaviour_checked_on_instances(tmp_path):
    """The wrong answer drops the 1 +: the counterexample builds a `Cart` and calls the
    method on it; the repaired answer is applied with a behaviour-checked note."""
    wrong = "```python\ndef total(self, tax):\n    return sum(self.prices) * tax\n```"
    right = ("```python\ndef total(self, tax):\n"
             "    return sum(p * (1 + tax) for p in self.prices)\n```")
    assistant, engine, worker = await _assistant(tmp_path, [wrong, right])
    try:
        doc = OpenDocument.open("file:///cart.py", "/cart.py", "python", 1, CART, 5_000_000)
        source = doc.source(snapshot=True)
        offset = CART.index("total") + 2
        span = resolve_span(source, offset, offset, max_lines=400, need_syntax=True)
        outcome = await assistant.rewrite(Action.REFACTOR, source, span, GenParams(),
                                          lambda s: None)
        assert len(engine.calls) == 2, (outcome.notes, outcome.plan.new_text)
        repair = engine.calls[1].messages[-1]["content"]
        assert "behaves differently" in repair and ").total(" in repair, repair
        assert "Cart(" in repair, repair
        assert "sum(p * (1 + tax)" in outcome.plan.new_text
        assert any(n.startswith("behaviour-checked on") for n in outcome.notes), outcome.notes
    finally:
        worker.shutdown()
