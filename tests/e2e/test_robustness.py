"""End to end: cancellation, stale documents, bad input, a missing model.

The server is the real process over stdio with the real model; every test also
checks that the server still answers afterwards.
"""

from __future__ import annotations

import asyncio
import time

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.e2e.conftest import start, stop
from tests.e2e.helpers import (
    argument,
    code_actions_raw,
    cpu_percent_over,
    execute,
    open_document,
    server_process,
)

pytestmark = [pytest.mark.e2e]

SMALL = '''\
def add(a, b):
    """Add two numbers."""
    return a + b
'''


def long_function(lines: int) -> str:
    """A long function: its prompt takes many seconds to evaluate."""
    body = "\n".join(f"    total = total + values[{i}] * {i + 3} - (values[{i}] // 7)"
                     for i in range(lines))
    return f"def crunch(values):\n    total = 0\n{body}\n    return total\n"


async def _cancel_after(client, command: str, arg: dict, delay: float) -> Exception:
    future = client.protocol.send_request(
        types.WORKSPACE_EXECUTE_COMMAND,
        types.ExecuteCommandParams(command=command, arguments=[arg]), msg_id="job-1")
    await asyncio.sleep(delay)
    client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="job-1"))
    with pytest.raises(JsonRpcException) as info:
        await asyncio.wrap_future(future)
    return info.value


async def _assert_goes_idle(client) -> None:
    process = server_process(client)
    await asyncio.sleep(0.3)
    busy = cpu_percent_over(process, 1.5)
    assert busy < 25.0, f"server still busy after cancel: {busy:.0f}% CPU"


@pytest.mark.model
@pytest.mark.parametrize("phase,delay", [("prompt evaluation", 1.0), ("generation", None)])
async def test_cancel_stops_the_model_applies_nothing_and_server_answers_next(
        tmp_path, env, phase, delay):
    path = tmp_path / "crunch.py"
    path.write_text(long_function(70) + "\n\n" + SMALL)
    client = await start(tmp_path, env)
    try:
        uri = open_document(client, path, "python")
        if delay is None:
            # wait for streamed text: the prompt is evaluated, the model is generating
            future = client.protocol.send_request(
                types.WORKSPACE_EXECUTE_COMMAND,
                types.ExecuteCommandParams(command="qwenLsp.refactor",
                                           arguments=[argument(uri, 1, 4)]), msg_id="job-1")
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                texts = [r.message for rs in client.progress_reports.values() for r in rs
                         if getattr(r, "kind", "") == "report" and r.message
                         and r.message not in ("Loading model…", "Thinking…")]
                if texts:
                    break
                await asyncio.sleep(0.05)
            else:
                pytest.fail("no streamed text within 120 s")
            client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="job-1"))
            with pytest.raises(JsonRpcException) as info:
                await asyncio.wrap_future(future)
            error = info.value
        else:
            error = await _cancel_after(client, "qwenLsp.refactor", argument(uri, 1, 4), delay)
        assert error.code == -32800, f"{phase}: expected RequestCancelled, got {error}"
        assert client.applied_edits == []  # type: ignore[attr-defined]
        await _assert_goes_idle(client)
        status = await execute(client, "qwenLsp.status", {})
        assert status["queue"] == 0
        result = await execute(client, "qwenLsp.explain",
                               argument(uri, path.read_text().count("\n") - 1, 4))
        assert result["markdown"]
    finally:
        await stop(client)


@pytest.mark.model
async def test_cancelling_the_progress_cancels_the_command(tmp_path, env):
    path = tmp_path / "crunch.py"
    path.write_text(long_function(70))
    client = await start(tmp_path, env)
    try:
        uri = open_document(client, path, "python")
        future = client.protocol.send_request(
            types.WORKSPACE_EXECUTE_COMMAND,
            types.ExecuteCommandParams(command="qwenLsp.explain",
                                       arguments=[argument(uri, 1, 4)]), msg_id="job-2")
        for _ in range(200):
            if client.progress_reports:
                break
            await asyncio.sleep(0.05)
        token = next(iter(client.progress_reports))
        await asyncio.sleep(0.5)
        client.protocol.notify(types.WINDOW_WORK_DONE_PROGRESS_CANCEL,
                               types.WorkDoneProgressCancelParams(token=token))
        with pytest.raises(JsonRpcException) as info:
            await asyncio.wrap_future(future)
        assert info.value.code == -32800
        await _assert_goes_idle(client)
    finally:
        await stop(client)


@pytest.mark.model
async def test_stale_version_and_edit_during_generation_are_refused(tmp_path, env):
    path = tmp_path / "small.py"
    path.write_text(long_function(40) + "\n\n" + SMALL)
    client = await start(tmp_path, env)
    try:
        uri = open_document(client, path, "python", version=3)
        with pytest.raises(JsonRpcException) as info:
            await execute(client, "qwenLsp.refactor", argument(uri, 1, 4, version=2))
        assert "changed" in str(info.value) and "version 2" in str(info.value)

        # the user types while the model is thinking: nothing may be applied
        pending = asyncio.ensure_future(
            execute(client, "qwenLsp.refactor", argument(uri, 1, 4, version=3)))
        await asyncio.sleep(0.3)
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=4),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(start=types.Position(line=0, character=0),
                                  end=types.Position(line=0, character=0)),
                text="# edited meanwhile\n")]))
        with pytest.raises(JsonRpcException) as info:
            await pending
        assert "changed while the model was working" in str(info.value)
        assert client.applied_edits == []  # type: ignore[attr-defined]
        assert any("changed" in m.message for m in client.messages)
    finally:
        await stop(client)


async def test_missing_model_is_a_clear_error_while_code_actions_still_list(tmp_path, env):
    path = tmp_path / "small.py"
    path.write_text(SMALL)
    missing = tmp_path / "nowhere" / "model.gguf"
    env = dict(env)
    env.pop("QWEN_LSP_MODEL")
    client = await start(tmp_path, env, modelPath=str(missing))
    try:
        uri = open_document(client, path, "python")
        actions = await code_actions_raw(client, uri, (2, 4))
        titles = [a["title"] for a in actions]
        assert titles == ["Ask AI to explain", "Refactor with AI", "Convert to async with AI"]
        assert actions[2]["command"]["command"] == "qwenLsp.convertToAsync"
        assert actions[2]["command"]["arguments"][0]["textDocument"]["version"] == 1
        assert all("disabled" not in a for a in actions)
        with pytest.raises(JsonRpcException) as info:
            await execute(client, "qwenLsp.explain", argument(uri, 2, 4))
        assert str(missing) in str(info.value)
        assert any(str(missing) in m.message for m in client.messages)
        status = await execute(client, "qwenLsp.status", {})
        assert status["model"]["state"] == "error"
        assert str(missing) in status["model"]["error"]
    finally:
        await stop(client)


@pytest.mark.model
async def test_unknown_language_offers_explain_on_selection_only(tmp_path, env):
    path = tmp_path / "report.cob"
    path.write_text("       IDENTIFICATION DIVISION.\n       PROGRAM-ID. HELLO.\n")
    client = await start(tmp_path, env)
    try:
        uri = open_document(client, path, "cobol")

        async def titles(end_character: int) -> list[str]:
            actions = await code_actions_raw(client, uri, (0, 0), (1, end_character))
            return [a["title"] for a in actions]

        assert await titles(10) == ["Ask AI to explain"]
        with pytest.raises(JsonRpcException) as info:
            await execute(client, "qwenLsp.refactor", argument(uri, 0, 0, end=(1, 10)))
        assert "does not parse cobol" in str(info.value)
        with pytest.raises(JsonRpcException) as info:
            await execute(client, "qwenLsp.explain", argument(uri, 0, 3))
        assert "select the code to explain" in str(info.value)
        # a selection is explained as text, by the real model
        result = await execute(client, "qwenLsp.explain", argument(uri, 0, 0, end=(1, 25)))
        assert result["markdown"].startswith("**Purpose:**")
        assert result["target"]["end"] == {"line": 1, "character": 25}
    finally:
        await stop(client)


async def test_malformed_requests_get_clear_errors_and_the_server_keeps_running(
        tmp_path, env):
    client = await start(tmp_path, env)
    try:
        for bad in ([], [{"textDocument": {}}], [{"textDocument": {"uri": "file:///x.py"},
                                                  "range": {"start": {"line": -1}}}]):
            with pytest.raises(JsonRpcException) as info:
                await asyncio.wrap_future(client.protocol.send_request(
                    types.WORKSPACE_EXECUTE_COMMAND,
                    types.ExecuteCommandParams(command="qwenLsp.explain", arguments=bad)))
            assert info.value.code == -32602, info.value
        with pytest.raises(JsonRpcException) as info:
            await execute(client, "qwenLsp.explain", argument("file:///not/open.py", 0))
        assert "not open" in str(info.value)
        status = await execute(client, "qwenLsp.status", {})
        assert status["model"]["state"] in ("loading", "ready")
    finally:
        await stop(client)
