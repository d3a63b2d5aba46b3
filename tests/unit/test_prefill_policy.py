"""When the explain prompt is evaluated ahead of time (setting ``prefill``).

The server runs in this process (messages fed to its protocol, as in
test_protocol_workarounds); `_maybe_prefill`, which would start the model, is
replaced by a recorder: these tests are about *when* it is asked for.
"""

from __future__ import annotations

import asyncio
import threading

import pytest

from qwen_lsp.app import create_server
from qwen_lsp.engine.base import GenParams
from qwen_lsp.engine.fake import FakeEngine
from qwen_lsp.engine.worker import EngineWorker
from qwen_lsp.features import code_actions
from tests.unit.inproc import Wire, feed

CODE = "def f(x):\n    return x + 1\n\n\ndef g(y):\n    return y * 2\n"


async def _session(tmp_path, monkeypatch, prefill: str):
    calls: list[tuple] = []
    monkeypatch.setattr(code_actions, "_maybe_prefill",
                        lambda ls, doc, source, span: calls.append((doc.version, span.start_byte)))
    monkeypatch.setattr(code_actions, "PREFILL_DEBOUNCE", 0.05)
    server = create_server()
    server.protocol.set_writer(Wire())
    feed(server, {"id": 1, "method": "initialize", "params": {
        "processId": None, "rootUri": None, "capabilities": {},
        "initializationOptions": {"prefill": prefill,
                                  "cache": {"directory": str(tmp_path / "results")}}}})
    await asyncio.sleep(0.01)
    feed(server, {"method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": "file:///m.py", "languageId": "python", "version": 1, "text": CODE}}})
    return server, calls


def _code_action(server, line: int, automatic: bool, msg_id: int) -> None:
    feed(server, {"id": msg_id, "method": "textDocument/codeAction", "params": {
        "textDocument": {"uri": "file:///m.py"},
        "range": {"start": {"line": line, "character": 4}, "end": {"line": line, "character": 4}},
        "context": {"diagnostics": [], "triggerKind": 2 if automatic else 1}}})


@pytest.mark.parametrize("prefill, automatic, expected", [
    ("idle", True, 1), ("idle", False, 1), ("menu", True, 0), ("menu", False, 1),
    ("off", True, 0), ("off", False, 0)])
async def test_the_policy_decides_which_requests_prefill(tmp_path, monkeypatch, prefill,
                                                         automatic, expected):
    server, calls = await _session(tmp_path, monkeypatch, prefill)
    try:
        _code_action(server, 1, automatic, 2)
        await asyncio.sleep(0.2)
        assert len(calls) == expected
    finally:
        server.runtime.shutdown(timeout=1)


async def test_a_resting_cursor_prefills_once_and_an_edit_drops_the_pending_one(tmp_path,
                                                                                monkeypatch):
    server, calls = await _session(tmp_path, monkeypatch, "idle")
    try:
        _code_action(server, 1, True, 2)
        _code_action(server, 5, True, 3)  # the cursor moved on: only g is prefilled
        await asyncio.sleep(0.2)
        assert len(calls) == 1 and calls[0][1] == CODE.index("def g")
        _code_action(server, 1, True, 4)
        feed(server, {"method": "textDocument/didChange", "params": {
            "textDocument": {"uri": "file:///m.py", "version": 2},
            "contentChanges": [{"range": {"start": {"line": 0, "character": 0},
                                          "end": {"line": 0, "character": 0}},
                                "text": "# typing\n"}]}})
        await asyncio.sleep(0.2)
        assert len(calls) == 1, "a prefill for a document that changed was started"
        assert server.documents["file:///m.py"].listeners == []
    finally:
        server.runtime.shutdown(timeout=1)


async def test_cancel_prefills_stops_a_running_prefill():
    worker = EngineWorker()
    gate = threading.Event()
    engine = FakeEngine("answer", prefill_gate=gate)
    worker.load(lambda: engine)
    await worker.wait_ready()
    try:
        assert worker.prefill([{"role": "user", "content": "hi"}]) is True
        for _ in range(100):
            if engine.prefills:
                break
            await asyncio.sleep(0.01)
        worker.cancel_prefills()
        for _ in range(100):
            if engine.prefills_cancelled:
                break
            await asyncio.sleep(0.01)
        assert engine.prefills_cancelled == 1
        assert await worker.run("k", [{"role": "user", "content": "x"}], GenParams()) == "answer"
    finally:
        gate.set()
        worker.shutdown()
