"""Pins the pygls 2.1 internals that `qwen_lsp.protocol` relies on.

The server runs in this process; messages are fed to its protocol the way pygls'
reader loop does (``json.loads(body, object_hook=protocol.structure_message)`` then
``handle_message``), and what it writes is read back frame by frame. If a pygls
upgrade changes one of these behaviours, these tests fail first.
"""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path

import pytest
from pygls.protocol import JsonRPCProtocol, LanguageServerProtocol

from qwen_lsp.app import create_server
from tests.unit.inproc import feed, server_on_wire, settle


def test_the_pygls_internals_we_override_keep_their_shape():
    def params(func) -> list[str]:
        return list(inspect.signature(func).parameters)

    assert params(JsonRPCProtocol._handle_request) == ["self", "msg_id", "method_name", "params"]
    assert params(JsonRPCProtocol._execute_handler)[:5] == ["self", "msg_id", "handler",
                                                            "callback", "args"]
    assert params(JsonRPCProtocol._send_handler_result) == ["self", "future", "msg_id"]
    assert params(JsonRPCProtocol._send_response)[:4] == ["self", "msg_id", "result", "error"]
    assert params(JsonRPCProtocol.structure_message) == ["self", "data"]
    protocol = create_server().protocol
    assert isinstance(protocol, LanguageServerProtocol)
    for name in ("_ctx_msg_id", "_request_futures", "_converter"):
        assert hasattr(protocol, name), name


async def test_a_cancel_for_the_clients_id_cancels_the_command_task():
    server, wire = server_on_wire()
    started = asyncio.Event()
    seen: dict = {}

    async def forever(arguments, work_done_token):
        seen["token"] = work_done_token
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            seen["cancelled"] = True
            raise

    server.protocol.command_handlers["test.forever"] = forever
    feed(server, {"id": 7, "method": "workspace/executeCommand",
                  "params": {"command": "test.forever", "arguments": [{}],
                             "workDoneToken": "client-token"}})
    await asyncio.wait_for(started.wait(), 5)
    assert seen["token"] == "client-token"
    feed(server, {"method": "$/cancelRequest", "params": {"id": 7}})
    await settle()
    assert seen.get("cancelled") is True
    assert wire.response(7)["error"]["code"] == -32800  # RequestCancelled


@pytest.mark.parametrize("message, field", [
    ({"method": "textDocument/codeAction",
      "params": {"textDocument": {"uri": "file:///x.py"}, "range": "everything",
                 "context": {"diagnostics": []}}}, "range"),
    ({"method": "textDocument/codeAction",
      "params": {"textDocument": {"uri": "file:///x.py"},
                 "range": {"start": {"line": -1, "character": 0},
                           "end": {"line": 0, "character": 0}},
                 "context": {"diagnostics": []}}}, "line"),
    ({"method": "textDocument/codeAction", "params": None}, "params"),
    ({"method": "workspace/executeCommand", "params": ["qwenLsp.explain"]}, "params"),
])
async def test_a_request_whose_params_do_not_decode_is_answered_invalid_params(message, field):
    server, wire = server_on_wire()
    feed(server, {"id": 41, **message})
    await settle()
    response = wire.response(41)
    assert response is not None, "the request got no answer"
    assert response["error"]["code"] == -32602
    assert field in response["error"]["message"], response["error"]["message"]


async def test_a_cancel_while_the_progress_is_being_created_leaks_nothing(tmp_path: Path):
    server, wire = server_on_wire()
    feed(server, {"id": 1, "method": "initialize", "params": {
        "processId": None, "rootUri": None, "locale": "en",
        "capabilities": {"window": {"workDoneProgress": True}},
        "initializationOptions": {"cache": {"directory": str(tmp_path / "results")}}}})
    await settle()
    try:
        uri = (tmp_path / "m.py").as_uri()
        feed(server, {"method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": "python", "version": 1,
            "text": "def f(x):\n    return x + 1\n"}}})
        feed(server, {"id": 11, "method": "workspace/executeCommand", "params": {
            "command": "qwenLsp.refactor", "arguments": [{
                "textDocument": {"uri": uri, "version": 1},
                "range": {"start": {"line": 1, "character": 4},
                          "end": {"line": 1, "character": 4}}}]}})
        await settle()
        # The server asked the client for a progress token and waits for the answer.
        assert wire.requests("window/workDoneProgress/create")
        doc = server.documents[uri]
        assert len(doc.listeners) == 1  # the rewrite watches its document from the start
        feed(server, {"method": "$/cancelRequest", "params": {"id": 11}})
        await settle()
        assert wire.response(11)["error"]["code"] == -32800
        assert doc.listeners == []
        assert not [m for m in wire.requests("$/progress")
                    if m["params"]["value"].get("kind") == "begin"]
    finally:
        server.runtime.shutdown(timeout=1)
