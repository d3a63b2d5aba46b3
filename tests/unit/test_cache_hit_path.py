"""A cached explanation is answered without progress (FakeEngine: a fake model)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from qwen_lsp.app import create_server
from qwen_lsp.engine.fake import FakeEngine
from tests.unit.inproc import Wire, feed, settle


async def _answered(wire: Wire, msg_id: int) -> dict:
    for _ in range(500):
        await asyncio.sleep(0.01)
        if wire.response(msg_id) is not None:
            return wire.response(msg_id)  # type: ignore[return-value]
    raise AssertionError(f"no response to {msg_id}")


async def test_a_cache_hit_sends_no_progress_and_asks_for_no_token(tmp_path: Path):
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF" + b"\0" * 60)
    engine = FakeEngine(answer=" adds one.")
    server = create_server(engine_factory=lambda path, settings: engine)
    wire = Wire()
    server.protocol.set_writer(wire)
    feed(server, {"id": 1, "method": "initialize", "params": {
        "processId": None, "rootUri": None, "capabilities": {"window": {"workDoneProgress": True}},
        "initializationOptions": {"modelPath": str(gguf), "explanationDisplay": "client",
                                  "cache": {"directory": str(tmp_path / "cache")}}}})
    await settle()
    feed(server, {"method": "initialized", "params": {}})
    uri = (tmp_path / "m.py").as_uri()
    feed(server, {"method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": uri, "languageId": "python", "version": 1,
        "text": "def f(x):\n    return x + 1\n"}}})
    argument = {"textDocument": {"uri": uri, "version": 1},
                "range": {"start": {"line": 1, "character": 4},
                          "end": {"line": 1, "character": 4}}}

    def command(msg_id: int) -> None:
        feed(server, {"id": msg_id, "method": "workspace/executeCommand",
                      "params": {"command": "qwenLsp.explain", "arguments": [argument]}})

    async def answer_token_requests() -> None:  # the client grants every progress token
        answered: set = set()
        while True:
            for request in wire.requests("window/workDoneProgress/create"):
                if request["id"] not in answered:
                    answered.add(request["id"])
                    feed(server, {"id": request["id"], "result": None})
            await asyncio.sleep(0.005)

    granting = asyncio.ensure_future(answer_token_requests())
    try:
        command(2)
        first = await _answered(wire, 2)
        assert first["result"]["cached"] is False
        asked, progressed = (len(wire.requests("window/workDoneProgress/create")),
                             len(wire.requests("$/progress")))
        assert asked == 1 and progressed >= 2  # begin ... end
        generated = len(engine.calls)
        command(3)
        again = await _answered(wire, 3)
        assert again["result"]["cached"] is True
        assert again["result"]["markdown"] == first["result"]["markdown"]
        assert len(wire.requests("window/workDoneProgress/create")) == asked
        assert len(wire.requests("$/progress")) == progressed
        assert len(engine.calls) == generated  # nothing generated again
    finally:
        granting.cancel()
        server.runtime.shutdown(timeout=1)
