"""Defects the robustness tests found in files other engineers own.

Each test fails today and is marked ``xfail(strict=True)`` with the fix it needs, so
it turns into a failure (remove the mark) the day the fix lands. See the robustness
report for the exact change.
"""

from __future__ import annotations

import asyncio

import pytest

from qwen_lsp.actions.action import Action
from qwen_lsp.actions.errors import ActionError
from qwen_lsp.actions.runner import Assistant
from qwen_lsp.documents import OpenDocument
from qwen_lsp.engine.base import GenParams
from qwen_lsp.requests import Request, prepare


def _convert(text: str, line: int) -> object:
    """Convert to async by the exact rules, in process (no model: it fails if asked)."""
    uri = "file:///h.py"
    doc = OpenDocument.open(uri, "/h.py", "python", 1, text, 10**8)
    prepared = prepare(Request(Action.CONVERT_TO_ASYNC, uri, 1, (line, 4, line, 4)), doc,
                       "utf-16", 400)

    async def no_model() -> str:
        raise ActionError("no model here")

    assistant = Assistant(None, None, None, no_model)  # type: ignore[arg-type]
    return asyncio.run(assistant.rewrite(Action.CONVERT_TO_ASYNC, prepared.source,
                                         prepared.span, GenParams(), lambda _: None))


@pytest.mark.xfail(strict=True, raises=UnicodeDecodeError, reason=(
    "qwen_lsp/actions/asyncify.py _apply: out.decode('utf-8') is strict; a document "
    "holding a lone surrogate (JSON allows it) or any byte that is not UTF-8 makes the "
    "conversion an internal error. Decode like SyntaxDocument.text (errors='replace'), "
    "or return None (no rule conversion) when the span is not valid UTF-8."))
def test_async_rules_on_a_function_holding_a_lone_surrogate_are_no_internal_error():
    outcome = _convert("import time\n\n\ndef wait():\n    s = '\ud800'\n    time.sleep(1)\n",
                       3)
    assert outcome is not None


@pytest.mark.xfail(strict=True, raises=RecursionError, reason=(
    "qwen_lsp/actions/asyncify.py _walk is recursive (yield from _walk(child)); 10,000 "
    "levels of nesting exceed Python's recursion limit and convert-to-async fails on an "
    "internal error. Walk with an explicit stack or a TreeCursor."))
def test_async_rules_on_deeply_nested_code_are_no_internal_error():
    deep = "    x = " + "[" * 10_000 + "]" * 10_000 + "\n"
    outcome = _convert(f"import time\n\n\ndef wait():\n{deep}    time.sleep(1)\n", 3)
    assert outcome is not None
