"""A cached explanation is answered without progress (FakeEngine: a fake model)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from qwen_lsp.engine.fake import FakeEngine
from tests.unit.inproc import FakeModelSession, feed


async def test_a_cache_hit_sends_no_progress_and_asks_for_no_token(tmp_path: Path):
    engine = FakeEngine(answer=" adds one.")
    session = await FakeModelSession(
        tmp_path, engine, capabilities={"window": {"workDoneProgress": True}},
        options={"explanationDisplay": "client",
                 "cache": {"directory": str(tmp_path / "cache")}}).start()
    wire = session.wire

    async def answer_token_requests() -> None:  # the client grants every progress token
        answered: set = set()
        while True:
            for request in wire.requests("window/workDoneProgress/create"):
                if request["id"] not in answered:
                    answered.add(request["id"])
                    feed(session.server, {"id": request["id"], "result": None})
            await asyncio.sleep(0.005)

    granting = asyncio.ensure_future(answer_token_requests())
    try:
        session.command(2, "qwenLsp.explain")
        first = await session.response(2)
        assert first["result"]["cached"] is False
        asked, progressed = (len(wire.requests("window/workDoneProgress/create")),
                             len(wire.requests("$/progress")))
        assert asked == 1 and progressed >= 2  # begin ... end
        generated = len(engine.calls)
        session.command(3, "qwenLsp.explain")
        again = await session.response(3)
        assert again["result"]["cached"] is True
        assert again["result"]["markdown"] == first["result"]["markdown"]
        assert len(wire.requests("window/workDoneProgress/create")) == asked
        assert len(wire.requests("$/progress")) == progressed
        assert len(engine.calls) == generated  # nothing generated again
    finally:
        granting.cancel()
        session.close()
