"""End to end: settings without restart, and a clean stdout under bad input."""

from __future__ import annotations

import asyncio
import json
import subprocess

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.e2e.conftest import SERVER, start, stop
from tests.e2e.helpers import argument, code_actions_raw, execute, open_document

pytestmark = [pytest.mark.e2e]


async def _wait_for(predicate, seconds: float = 30.0):
    for _ in range(int(seconds / 0.05)):
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached")


async def test_configuration_changes_take_effect_without_a_restart(tmp_path, env):
    path = tmp_path / "small.py"
    path.write_text("def add(a, b):\n    return a + b\n")
    client = await start(tmp_path, env)
    try:
        uri = open_document(client, path, "python")

        async def ready():
            return (await execute(client, "qwenLsp.status", {}))["model"]["state"] == "ready"

        await _wait_for(ready)
        missing = tmp_path / "gone.gguf"
        client.set_configuration({"modelPath": str(missing), "maxSpanLines": "many"},
                                 section="qwenLsp")
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings=None))

        async def errored():
            status = await execute(client, "qwenLsp.status", {})
            return status if status["model"]["state"] == "error" else None

        status = await _wait_for(errored)
        assert str(missing) in status["model"]["error"]
        # the bad value was reported, and its default kept
        warnings = [m.message for m in client.messages if m.type == types.MessageType.Warning]
        assert any("qwenLsp.maxSpanLines" in w for w in warnings), warnings
        with pytest.raises(JsonRpcException) as info:
            await execute(client, "qwenLsp.explain", argument(uri, 1, 4))
        assert str(missing) in str(info.value)

        # back to the embedded model: reloaded, answers again
        client.set_configuration({"modelPath": ""}, section="qwenLsp")
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings=None))
        await _wait_for(ready)
    finally:
        await stop(client)


def _frame(payload: dict | bytes) -> bytes:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _read_frames(data: bytes) -> list[dict]:
    frames = []
    while data:
        header, sep, rest = data.partition(b"\r\n\r\n")
        assert sep, f"stdout holds bytes that are not a JSON-RPC frame: {data[:200]!r}"
        length = int(header.split(b"Content-Length:")[1].split(b"\r\n")[0])
        frames.append(json.loads(rest[:length]))
        data = rest[length:]
    return frames


def test_stdout_is_only_json_rpc_even_after_garbage(tmp_path, env):
    messages = [
        _frame({"jsonrpc": "2.0", "id": 1, "method": "initialize",
                "params": {"processId": None, "rootUri": None, "capabilities": {},
                           "initializationOptions": {"cache": {"directory": str(tmp_path)}}}}),
        _frame({"jsonrpc": "2.0", "method": "initialized", "params": {}}),
        _frame(b"{this is not json"),
        _frame({"jsonrpc": "2.0", "id": 2, "method": "no/such/method", "params": {}}),
        _frame({"jsonrpc": "2.0", "id": 3, "method": "workspace/executeCommand",
                "params": {"command": "qwenLsp.explain", "arguments": ["nonsense"]}}),
        _frame({"jsonrpc": "2.0", "id": 4, "method": "workspace/executeCommand",
                "params": {"command": "qwenLsp.status", "arguments": [{}]}}),
        _frame({"jsonrpc": "2.0", "id": 5, "method": "shutdown"}),
        _frame({"jsonrpc": "2.0", "method": "exit"}),
    ]
    proc = subprocess.run(SERVER, input=b"".join(messages), capture_output=True, env=env,
                          timeout=120)
    frames = _read_frames(proc.stdout)
    by_id = {f.get("id"): f for f in frames if "id" in f and "method" not in f}
    assert "capabilities" in by_id[1]["result"]
    commands = by_id[1]["result"]["capabilities"]["executeCommandProvider"]["commands"]
    assert set(commands) >= {"qwenLsp.explain", "qwenLsp.refactor", "qwenLsp.convertToAsync"}
    assert by_id[2]["error"]["code"] == -32601
    assert by_id[3]["error"]["code"] == -32602
    assert "queue" in by_id[4]["result"]
    assert by_id[5]["result"] is None
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]


async def test_a_too_long_function_is_listed_disabled_with_the_reason(tmp_path, env):
    path = tmp_path / "small.py"
    path.write_text("def add(a, b):\n    c = a + b\n    return c\n")
    client = await start(tmp_path, env, maxSpanLines=2)
    try:
        uri = open_document(client, path, "python")
        actions = await code_actions_raw(client, uri, (1, 4))
        assert [a["kind"] for a in actions] == [
            "qwen.explain", "refactor.rewrite.qwen", "refactor.rewrite.qwen.async"]
        for action in actions:
            assert "3 lines long, more than maxSpanLines (2)" in action["disabled"]["reason"]
        with pytest.raises(JsonRpcException) as info:
            await execute(client, "qwenLsp.explain", argument(uri, 1, 4))
        assert "maxSpanLines" in str(info.value)
    finally:
        await stop(client)
