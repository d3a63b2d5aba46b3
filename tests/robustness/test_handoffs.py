"""Defects the robustness tests found in files other engineers own.

Each was handed off as an ``xfail(strict=True)`` test naming the fix; the marks go when
the fix lands, and the test stays as the regression test. Both asyncify defects below
are fixed (the lone surrogate is now a readable refusal, the walk is no longer
recursive).
"""

from __future__ import annotations

import asyncio

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


def test_async_rules_on_a_function_holding_a_lone_surrogate_are_no_internal_error():
    # was: UnicodeDecodeError from asyncify._apply's strict decode (an internal error)
    try:
        outcome = _convert("import time\n\n\ndef wait():\n    s = '\ud800'\n"
                           "    time.sleep(1)\n", 3)
    except ActionError as exc:  # a readable refusal is fine
        assert "surrogate" in str(exc) or "Unicode" in str(exc), exc
    else:
        assert outcome is not None


def test_async_rules_on_deeply_nested_code_are_no_internal_error():
    # was: RecursionError from asyncify._walk (recursive) at 10,000 levels
    deep = "    x = " + "[" * 10_000 + "]" * 10_000 + "\n"
    outcome = _convert(f"import time\n\n\ndef wait():\n{deep}    time.sleep(1)\n", 3)
    assert outcome is not None
