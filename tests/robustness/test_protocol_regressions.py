"""Regression tests, in process, for what the protocol fuzzer found (qwen_lsp/protocol.py
fixes 4-8): every request that has a usable id is answered, odd messages are refused
in one log line, and pygls' didChange no longer raises for a document that is not open."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from qwen_lsp.app import create_server
from qwen_lsp.server import QwenServer
from tests.unit.inproc import Wire, feed, feed_raw, server_on_wire, settle


def _server() -> tuple[QwenServer, Wire]:
    return server_on_wire()


def _initialize(server: QwenServer, tmp_path: Path) -> None:
    feed(server, {"id": "init", "method": "initialize", "params": {
        "processId": None, "rootUri": None, "capabilities": {},
        "initializationOptions": {"cache": {"directory": str(tmp_path / "results")}}}})


@pytest.mark.parametrize("method, params", [
    ("textDocument/didOpen", {"textDocument": {"uri": "file:///x.py", "languageId": "python",
                                               "version": 1, "text": "x = 1\n"}}),
    ("$/cancelRequest", {"id": 99}),
    ("workspace/didChangeConfiguration", {"settings": {}}),
])
async def test_a_notification_sent_with_an_id_is_handled_and_answered_null(method, params,
                                                                          tmp_path):
    server, wire = _server()
    _initialize(server, tmp_path)
    await settle()
    feed(server, {"id": 5, "method": method, "params": params})
    await settle()
    assert {"jsonrpc": "2.0", "id": 5, "result": None} in wire.responses()
    if method == "textDocument/didOpen":
        assert "file:///x.py" in server.documents  # it was handled, not only answered
    server.runtime.shutdown(0.1)


async def test_a_notification_with_an_id_and_bad_params_gets_invalid_params_once():
    server, wire = _server()
    feed(server, {"id": 6, "method": "textDocument/didClose", "params": {"textDocument": 3}})
    await settle()
    answers = [m for m in wire.responses() if m.get("id") == 6]
    assert len(answers) == 1 and answers[0]["error"]["code"] == -32602, answers


async def test_requests_after_shutdown_are_refused_with_invalid_request(tmp_path):
    server, wire = _server()
    _initialize(server, tmp_path)
    await settle()
    feed(server, {"id": 1, "method": "shutdown"})
    await settle()
    feed(server, {"id": 2, "method": "workspace/executeCommand",
                  "params": {"command": "qwenLsp.status", "arguments": [{}]}})
    await settle()
    late = next(m for m in wire.responses() if m.get("id") == 2)
    assert late["error"]["code"] == -32600 and "shut down" in late["error"]["message"]


@pytest.mark.parametrize("bad_id", [{"n": 1}, [1], True, 2.5])
async def test_a_request_whose_id_is_not_an_int_or_string_is_refused_not_run(bad_id, caplog):
    server, wire = _server()
    ran = []

    async def command(arguments, token):
        ran.append(arguments)
        return {}

    server.protocol.command_handlers["test.cmd"] = command
    with caplog.at_level(logging.WARNING):
        feed(server, {"id": bad_id, "method": "workspace/executeCommand",
                      "params": {"command": "test.cmd", "arguments": []}})
        await settle()
    assert ran == []
    assert wire.responses() == [{"jsonrpc": "2.0", "id": None, "error": {
        "code": -32600, "message": "invalid request: the id must be an integer or a string"}}]
    assert "never retrieved" not in caplog.text


@pytest.mark.parametrize("body, answered", [
    ('{"jsonrpc": "1.0", "id": 3, "method": "shutdown"}', 3),
    ('{"id": 4, "method": "shutdown"}', 4),
    ("null", None), ("[]", None), ("42", None), ('"text"', None),
])
async def test_a_message_that_is_not_json_rpc_2_is_refused_in_one_line(body, answered, caplog):
    server, wire = _server()
    with caplog.at_level(logging.WARNING):
        feed_raw(server, body)
        await settle()
    if answered is None:
        assert wire.responses() == []
    else:
        assert wire.responses()[0]["id"] == answered
        assert wire.responses()[0]["error"]["code"] == -32600
    assert "Traceback" not in caplog.text and not any(r.exc_info for r in caplog.records)
    assert not server.protocol._shutdown


@pytest.mark.parametrize("cancel_id", [[1], {"a": 1}, None, True])
async def test_a_cancel_with_an_id_that_is_no_request_id_is_ignored(cancel_id, caplog):
    server, wire = _server()
    with caplog.at_level(logging.WARNING):
        feed(server, {"method": "$/cancelRequest", "params": {"id": cancel_id}})
        await settle()
    assert wire.responses() == []
    assert not any(r.levelno >= logging.ERROR for r in caplog.records), caplog.text


async def test_did_change_of_a_document_that_is_not_open_is_one_warning(tmp_path, caplog):
    server, wire = _server()
    _initialize(server, tmp_path)
    await settle()
    with caplog.at_level(logging.WARNING):
        feed(server, {"method": "textDocument/didChange", "params": {
            "textDocument": {"uri": "file:///never/opened.py", "version": 2},
            "contentChanges": [{"text": "x = 2\n"}]}})
        await settle()
    assert not any(r.levelno >= logging.ERROR for r in caplog.records), caplog.text
    assert "not open" in caplog.text
    server.runtime.shutdown(0.1)


async def test_undecodable_params_log_one_line_not_a_traceback(caplog):
    server, wire = _server()
    with caplog.at_level(logging.INFO):
        feed(server, {"id": 8, "method": "textDocument/codeAction", "params": {"range": 1}})
        feed(server, {"method": "textDocument/didOpen", "params": {"textDocument": 1}})
        await settle()
    assert next(m for m in wire.responses() if m["id"] == 8)["error"]["code"] == -32602
    assert not any(r.exc_info for r in caplog.records), caplog.text
    assert "Unable to deserialize" not in caplog.text


@pytest.mark.parametrize("text, change, expected", [
    # past the end of the last line (no line break): pygls shortened it by one
    ("x = 1\ny = 22", {"start": (1, 4), "end": (1, 99)}, "x = 1\ny = "),
    ("a😀b", {"start": (0, 1), "end": (0, 40)}, "a"),
    ("a\nb\n", {"start": (0, 1), "end": (0, 7)}, "a\nb\n"),
])
async def test_did_change_reaches_our_document_with_the_clients_own_range(
        text, change, expected, tmp_path):
    server, wire = _server()
    _initialize(server, tmp_path)
    await settle()
    uri = "file:///t.py"
    feed(server, {"method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": uri, "languageId": "python", "version": 1, "text": text}}})
    (l0, c0), (l1, c1) = change["start"], change["end"]
    feed(server, {"method": "textDocument/didChange", "params": {
        "textDocument": {"uri": uri, "version": 2}, "contentChanges": [{
            "range": {"start": {"line": l0, "character": c0},
                      "end": {"line": l1, "character": c1}}, "text": ""}]}})
    await settle()
    assert server.documents[uri].text == expected.encode()
    server.runtime.shutdown(0.1)


async def test_nothing_is_written_after_exit_closed_stdout(caplog):
    import io

    from pygls.io_ import StdoutWriter

    server = create_server()
    stream = io.BytesIO()
    server.protocol.set_writer(StdoutWriter(stream))
    stream.close()  # what `exit` does before the last answers are ready
    with caplog.at_level(logging.DEBUG):
        server.protocol._send_response("late", result=None)
    assert not any(r.levelno >= logging.ERROR for r in caplog.records), caplog.text


async def test_a_second_initialize_does_not_build_a_second_runtime(tmp_path):
    import threading

    server, wire = _server()
    _initialize(server, tmp_path)
    await settle()
    runtime, threads = server.runtime, threading.active_count()
    for n in range(5):
        feed(server, {"id": f"again-{n}", "method": "initialize", "params": {
            "processId": None, "rootUri": None, "capabilities": {},
            "initializationOptions": {"cache": {"directory": str(tmp_path / f"r{n}")}}}})
        await settle()
    assert server.runtime is runtime
    assert threading.active_count() <= threads
    assert all(any(m.get("id") == f"again-{n}" for m in wire.responses()) for n in range(5))
    server.runtime.shutdown(0.1)
