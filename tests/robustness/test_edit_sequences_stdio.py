"""Edit sequences over stdio against the real `qwen-lsp` process.

Hypothesis drives random incremental didChange sequences (CRLF, lone CR, surrogate
pairs, lone surrogates, ranges past the end). Then the client appends a function that
the exact async rules convert (no model is involved, so the real server runs with a
model file that fails fast) and asks for "Convert to async". The edit the server
sends is applied to the client's text by the client model, and must give exactly what
the same conversion gives on a fresh parse of the client's text, in process: so the
server's incrementally kept text and tree were the client's, and its edit landed.
"""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from qwen_lsp.actions.action import Action
from qwen_lsp.actions.errors import ActionError
from qwen_lsp.actions.runner import Assistant
from qwen_lsp.documents import OpenDocument
from qwen_lsp.edits import apply_edits
from qwen_lsp.engine.base import GenParams
from qwen_lsp.requests import Request, prepare
from tests.robustness import client_model as client
from tests.robustness.conftest import scaled
from tests.robustness.test_edit_sequences import changes, texts

pytestmark = [pytest.mark.e2e]


def _expected(uri: str, text: str, version: int, line: int,
              debug: bool = False) -> bytes | None:
    """The conversion on a fresh document of the client's text (None: it fails)."""
    doc = OpenDocument.open(uri, "/fresh.py", "python", version, text, 5_000_000)
    try:
        prepared = prepare(Request(Action.CONVERT_TO_ASYNC, uri, version, (line, 4, line, 4)),
                           doc, "utf-16", 400)
    except ActionError:
        return None
    async def no_model() -> str:  # the exact rules need none; anything else fails here
        raise ActionError("no model in this oracle")

    assistant = Assistant(None, None, None, no_model)  # type: ignore[arg-type]
    try:
        outcome = asyncio.run(assistant.rewrite(Action.CONVERT_TO_ASYNC, prepared.source,
                                                prepared.span, GenParams(), lambda _: None))
    except (ActionError, AttributeError):  # AttributeError: it went for the prompts
        if debug:
            raise
        return None
    except UnicodeDecodeError:  # asyncify's defect with lone surrogates: test_handoffs.py
        return None
    return apply_edits(doc.text, outcome.plan.edits)


def test_random_edit_sequences_over_stdio_leave_the_server_with_the_clients_text(
        start_server, tmp_path, record_property):
    server = start_server("broken")
    counts = {"sequences": 0, "changes": 0, "converted": 0, "refused": 0}

    @settings(max_examples=scaled(150), deadline=None, database=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(data=st.data(), initial=texts)
    def run(data, initial):
        counts["sequences"] += 1
        n = counts["sequences"]
        uri = (tmp_path / f"seq{n}.py").as_uri()
        text = client.over_json("import time\n" + initial)
        server.open(uri, text, "python", 1)
        version = 1
        for _ in range(data.draw(st.integers(1, 8))):
            batch = data.draw(st.lists(changes(text, "utf-16"), min_size=1, max_size=3))
            for change in batch:
                text = client.over_json(client.apply_change(text, change))
            version += 1
            server.notify("textDocument/didChange", {
                "textDocument": {"uri": uri, "version": version}, "contentChanges": batch})
            counts["changes"] += len(batch)
        # append a function the exact rules convert; the range lies past the end
        tail = f"\n\n\ndef waiter_{n}():\n    time.sleep(1)\n"
        lines = len(client.line_starts(text))
        append = {"range": {"start": {"line": lines + 5, "character": 0},
                            "end": {"line": lines + 9, "character": 3}}, "text": tail}
        text = client.over_json(client.apply_change(text, append))
        version += 1
        server.notify("textDocument/didChange", {
            "textDocument": {"uri": uri, "version": version}, "contentChanges": [append]})
        line = len(client.line_starts(text)) - 3  # the def line
        response = server.command("qwenLsp.convertToAsync", {
            "textDocument": {"uri": uri, "version": version},
            "range": {"start": {"line": line, "character": 4},
                      "end": {"line": line, "character": 4}}}, timeout=20)
        expected = _expected(uri, text, version, line)
        if expected is None:
            assert "error" in response, (response, text, _expected(uri, text, version, line,
                                                                      debug=True))
            counts["refused"] += 1
        else:
            assert "result" in response, (response, text, [
                line for line in server.stderr_text().splitlines()[-30:] if "rule" in line])
            edits = response["result"]["edit"]["documentChanges"][0]["edits"]
            got = client.over_json(client.apply_text_edits(text, edits))
            assert client.wire_bytes(got) == expected, (text, edits)
            counts["converted"] += 1
        server.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
        assert server.alive and not server.violations

    run()
    record_property("edit_sequences", str(counts))
    print(f"\nstdio edit sequences: {counts}")
    assert counts["converted"] >= counts["sequences"] // 3, counts
    assert server.stop() == 0
