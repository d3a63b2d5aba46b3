"""Convert to async by exact rules: the converted file is run and gives the same results."""

from __future__ import annotations

import asyncio
import inspect
import sys
import types

import pytest

from qwen_lsp.actions.action import Action
from qwen_lsp.actions.asyncify import rule_based_async
from qwen_lsp.actions.checks import check_candidate
from qwen_lsp.actions.rewrite import async_offer_reason
from qwen_lsp.actions.span import resolve_span
from qwen_lsp.documents import OpenDocument
from qwen_lsp.edits import apply_edits


def _convert(code: str, name: str, language: str = "python", path: str = "/m.py"):
    doc = OpenDocument.open("file://" + path, path, language, 1, code, 5_000_000)
    source = doc.source(snapshot=True)
    offset = code.index(f"{name}(") + 1
    span = resolve_span(source, offset, offset, max_lines=400, need_syntax=True)
    assert async_offer_reason(source, span) is None
    conversion = rule_based_async(source, span)
    assert conversion is not None
    checked = check_candidate(Action.CONVERT_TO_ASYNC, source, span, conversion.code)
    assert checked.plan is not None, checked.problems
    new = apply_edits(source.text, checked.plan.edits).decode()
    return new, conversion.notes + checked.notes


def _load(code: str) -> types.ModuleType:
    module = types.ModuleType("converted")
    exec(compile(code, "converted.py", "exec"), module.__dict__)
    return module


def test_a_blocking_call_runs_in_a_thread_with_its_arguments_and_import_aliases():
    code = f'''\
import sys
from subprocess import run as sh


def version(flag, *, text=True):
    out = sh([{sys.executable!r}, flag], capture_output=True, text=text).stdout
    return out.strip()
'''
    new, notes = _convert(code, "version")
    assert "async def version" in new
    assert "(await asyncio.to_thread(sh, [" in new and ").stdout" in new
    assert new.startswith("import asyncio\n") or "\nimport asyncio\n" in new
    module = _load(new)
    assert inspect.iscoroutinefunction(module.version)
    assert asyncio.run(module.version("--version")) == f"Python {sys.version.split()[0]}"
    assert any("runs in a thread" in n for n in notes)


def test_a_function_with_no_blocking_call_only_becomes_async():
    code = '''\
PRICES = {"apple": 0.5}


def fetch_price(sku):
    return PRICES.get(sku, 1.0)


def price_list(skus):
    return [fetch_price(sku) for sku in skus]
'''
    new, notes = _convert(code, "price_list")
    assert new == code.replace("def price_list", "async def price_list")
    assert asyncio.run(_load(new).price_list(["apple", "x"])) == [0.5, 1.0]
    assert any("only `async` was added" in n for n in notes)


def test_sleep_in_a_generator_that_sum_reads_becomes_a_list_comprehension():
    code = '''\
import time


def total(delays):
    return sum(time.sleep(d) or d for d in delays)
'''
    new, _ = _convert(code, "total")
    assert "sum([await asyncio.sleep(d) or d for d in delays])" in new
    assert asyncio.run(_load(new).total([0.0, 0.001])) == pytest.approx(0.001)


def test_recursion_is_awaited_and_a_method_chain_keeps_its_meaning():
    code = '''\
def countdown(n):
    if n <= 0:
        return [0]
    return [n] + countdown(n - 1).copy()
'''
    new, _ = _convert(code, "countdown")
    assert "(await countdown(n - 1)).copy()" in new
    assert asyncio.run(_load(new).countdown(3)) == [3, 2, 1, 0]


def test_asyncio_run_inside_becomes_await_and_a_lambda_is_left_with_a_note():
    code = '''\
import asyncio
import time


async def double(x):
    return 2 * x


def work(xs):
    later = lambda: time.sleep(0)
    later()
    return asyncio.run(double(len(xs)))
'''
    new, notes = _convert(code, "work")
    assert "return await double(len(xs))" in new
    assert "lambda: time.sleep(0)" in new  # unchanged: a lambda cannot await
    assert any("inside a lambda" in n for n in notes)
    assert asyncio.run(_load(new).work([1, 2])) == 4


def test_a_generator_is_not_offered():
    code = "def gen(n):\n    for i in range(n):\n        yield i\n"
    doc = OpenDocument.open("file:///g.py", "/g.py", "python", 1, code, 5_000_000)
    source = doc.source(snapshot=True)
    span = resolve_span(source, 4, 4, max_lines=400, need_syntax=True)
    assert "generator" in (async_offer_reason(source, span) or "")


def test_javascript_without_promise_chains_is_converted_by_rule_and_chains_go_to_the_model():
    code = "function fact(n) {\n  return n <= 1 ? 1 : n * fact(n - 1);\n}\n"
    new, _ = _convert(code, "fact", "javascript", "/f.js")
    assert new.startswith("async function fact(n)") and "n * await fact(n - 1)" in new
    chained = "function load(url) {\n  return fetch(url).then(r => r.json());\n}\n"
    doc = OpenDocument.open("file:///l.js", "/l.js", "javascript", 1, chained, 5_000_000)
    source = doc.source(snapshot=True)
    span = resolve_span(source, 10, 10, max_lines=400, need_syntax=True)
    assert rule_based_async(source, span) is None
    kept = rule_based_async(source, span, keep_promise_chains=True)
    assert kept is not None and ".then(r => r.json())" in kept.code


def test_async_callers_await_in_the_right_place_and_generators_become_lists():
    code = '''\
import time


def fetch(sku):
    time.sleep(0)
    return {"a": 1.0}.get(sku, 2.0)


async def total(skus):
    return sum(fetch(s) for s in skus) + fetch("a").real


async def first(skus):
    return max(fetch(s) for s in skus if fetch(s) > 0)
'''
    new, _ = _convert(code, "fetch")
    assert "sum([await fetch(s) for s in skus]) + (await fetch(\"a\")).real" in new
    assert "max([await fetch(s) for s in skus if await fetch(s) > 0])" in new
    module = _load(new)
    assert asyncio.run(module.total(["a", "b"])) == 4.0
    assert asyncio.run(module.first(["a", "b"])) == 2.0


STATUS_OF = '''function statusOf(url) {
  return fetch(url)
    .then((response) => response.status)
    .catch(() => 0);
}
'''


def _js_candidate(code: str, rewrite: str):
    doc = OpenDocument.open("file:///net.js", "/net.js", "javascript", 1, code, 5_000_000)
    source = doc.source(snapshot=True)
    span = resolve_span(source, code.index("statusOf(") + 1, code.index("statusOf(") + 1,
                        max_lines=400, need_syntax=True)
    return check_candidate(Action.CONVERT_TO_ASYNC, source, span, rewrite)


def test_a_conversion_that_drops_a_catch_is_refused_with_why():
    """Seen in the quality bench: `.catch(() => 0)` dropped, so a failed request throws
    instead of giving 0 (fetch cannot be behaviour-checked)."""
    checked = _js_candidate(STATUS_OF, "async function statusOf(url) {\n"
                            "  const response = await fetch(url);\n  return response.status;\n}")
    assert checked.plan is None
    assert "drops the original's `catch` handling" in checked.problems[0]
    kept = _js_candidate(STATUS_OF, "async function statusOf(url) {\n  try {\n"
                         "    const response = await fetch(url);\n    return response.status;\n"
                         "  } catch {\n    return 0;\n  }\n}")
    assert kept.plan is not None, kept.problems
