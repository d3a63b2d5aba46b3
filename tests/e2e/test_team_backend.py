"""End to end, the team backend: the real `qwen-lsp` over stdio with `backend: "openai"`,
against a real OpenAI-compatible server (``python -m llama_cpp.server`` serving the
embedded GGUF on 127.0.0.1 with an API key), started once for the module.

The language server runs under an audit hook (tests/e2e/team/audited_server.py)
that records every internet socket it opens: with the embedded backend there must
be none, with the HTTP backend only connections to ``openai.baseUrl``.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.e2e.conftest import stop
from tests.e2e.helpers import (
    WORDS_FIXTURE,
    apply_text_edits,
    argument,
    check_count_words,
    cpu_percent_over,
    edits_of,
    execute,
    load_module,
    open_document,
    server_process,
)
from tests.e2e.team.lsp import network_events, start_audited
from tests.e2e.team.model_server import ModelServer

pytestmark = [pytest.mark.e2e, pytest.mark.model]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
KEY = "team-secret-7f3a91"
KEY_ENV = "TEAM_QWEN_KEY"

@pytest.fixture(scope="module")
def model_server(model_path: str, tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[ModelServer]:
    server = ModelServer(model_path, KEY, tmp_path_factory.mktemp("llama-server") / "log.txt")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def team_env(env: dict[str, str]) -> dict[str, str]:
    env = dict(env, **{KEY_ENV: KEY})
    env.pop("QWEN_LSP_MODEL", None)  # the embedded model must not be needed at all
    return env


def team_options(server: ModelServer, **extra: object) -> dict:
    return {"backend": "openai",
            "openai": {"baseUrl": server.base_url, "apiKeyEnv": KEY_ENV}, **extra}


async def _status(client) -> dict:
    return await execute(client, "qwenLsp.status", {})


async def _until_ready(client, seconds: float = 60.0) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status = await _status(client)
        if status["model"]["state"] in ("ready", "error"):
            return status
        await asyncio.sleep(0.1)
    raise AssertionError("the model never became ready")


def _reports(client) -> list[str]:
    return [r.message for values in client.progress_reports.values() for r in values
            if getattr(r, "kind", "") == "report" and r.message]


async def _start_streaming(client, arg: dict, msg_id: str, command: str = "qwenLsp.explain"):
    """Send a command and return its future once model-written text has streamed."""
    future = client.protocol.send_request(
        types.WORKSPACE_EXECUTE_COMMAND,
        types.ExecuteCommandParams(command=command, arguments=[arg]), msg_id=msg_id)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if any(len(text) > len("**Purpose:**") + 10 for text in _reports(client)):
            return future
        await asyncio.sleep(0.05)
    pytest.fail("no streamed text within 120 s")


def _only_to(events: list[dict], server: ModelServer) -> None:
    connects = [e for e in events if e["event"] == "socket.connect"]
    assert connects, "no connection to the model server was recorded"
    assert all(e["detail"] == repr(("127.0.0.1", server.port)) for e in connects), connects
    binds = [e for e in events if e["event"] == "socket.bind"]
    assert binds == [], binds  # it listens on nothing


# -- the user-facing paths ------------------------------------------------------------------


async def test_explain_streams_from_the_team_server_is_cached_and_talks_only_to_it(
        tmp_path, team_env, model_server):
    path = tmp_path / "orders.py"
    shutil.copy(EXAMPLES / "orders.py", path)
    audit = tmp_path / "net.jsonl"
    client = await start_audited(tmp_path, team_env, audit, **team_options(model_server))
    try:
        status = await _until_ready(client)
        model = status["model"]
        assert (model["backend"], model["name"], model["state"]) == (
            "openai", "team-qwen", "ready"), model
        assert model["baseUrl"] == model_server.base_url and model["path"] is None

        uri = open_document(client, path, "python")
        result = await execute(client, "qwenLsp.explain", argument(uri, 16, 4))
        assert result["cached"] is False
        markdown = result["markdown"]
        # llama_cpp.server closes a trailing assistant turn (the engine's probe finds that
        # out), so the answer start was left out of the request and is there once
        logs = " ".join(m.message for m in client.log_messages)
        assert "does not continue a trailing assistant message" in logs
        assert markdown.startswith("**Purpose:**") and markdown.count("**Purpose:**") == 1
        assert len(markdown.split()) > 15 and "order" in markdown.lower(), markdown
        reports = _reports(client)
        assert len(reports) >= 3, "the answer was not streamed as progress"
        assert markdown.startswith(reports[-1].strip()[:40])

        again = await execute(client, "qwenLsp.explain", argument(uri, 20, 0))
        assert again["cached"] is True and again["markdown"] == markdown

        lsp = server_process(client)
        mapped = [m.path for m in lsp.memory_maps()]
        assert not any(p.endswith(".gguf") or "libllama" in p for p in mapped), \
            "the embedded model or llama.cpp was loaded"
    finally:
        await stop(client)
    _only_to(network_events(audit), model_server)


async def test_a_refactor_from_the_team_server_is_applied_and_still_passes_its_tests(
        tmp_path, team_env, model_server):
    path = tmp_path / "words.py"
    path.write_text(WORDS_FIXTURE)
    client = await start_audited(tmp_path, team_env, tmp_path / "net.jsonl",
                                 **team_options(model_server, cache={"enabled": False}))
    try:
        uri = open_document(client, path, "python")
        result = await execute(client, "qwenLsp.refactor", argument(uri, 6, 4, version=1))
        assert result["applied"] is True, result["notes"]
        edits = edits_of(result, uri)
        assert edits, "the refactor changed nothing"
        new_code = apply_text_edits(WORDS_FIXTURE, edits)
    finally:
        await stop(client)
    assert new_code != WORDS_FIXTURE
    assert new_code.endswith(WORDS_FIXTURE[WORDS_FIXTURE.index("def most_common"):])
    check_count_words(load_module(new_code))


async def test_cancel_mid_stream_frees_the_model_server_and_the_next_request_is_answered(
        tmp_path, team_env, model_server):
    path = tmp_path / "orders.py"
    shutil.copy(EXAMPLES / "orders.py", path)
    client = await start_audited(tmp_path, team_env, tmp_path / "net.jsonl",
                                 **team_options(model_server, cache={"enabled": False}))
    try:
        uri = open_document(client, path, "python")
        future = await _start_streaming(client, argument(uri, 16, 4), "team-job-1")
        assert cpu_percent_over(model_server.process, 0.5) > 50, "the server was not working"
        client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="team-job-1"))
        with pytest.raises(JsonRpcException) as info:
            await asyncio.wrap_future(future)
        assert info.value.code == -32800  # RequestCancelled
        await asyncio.sleep(0.3)
        busy = cpu_percent_over(model_server.process, 1.5)
        assert busy < 25.0, f"the model server kept generating: {busy:.0f}% CPU"
        assert (await _status(client))["queue"] == 0
        small = await execute(client, "qwenLsp.explain", argument(uri, 40, 4))
        assert small["markdown"].startswith("**Purpose:**")
    finally:
        await stop(client)


async def test_a_wrong_key_is_a_clear_error_naming_the_variable_not_the_key(
        tmp_path, team_env, model_server):
    path = tmp_path / "orders.py"
    shutil.copy(EXAMPLES / "orders.py", path)
    wrong = "wrong-key-0000"
    client = await start_audited(tmp_path, dict(team_env, **{KEY_ENV: wrong}),
                                 tmp_path / "net.jsonl", **team_options(model_server))
    try:
        uri = open_document(client, path, "python")
        with pytest.raises(JsonRpcException) as info:
            await execute(client, "qwenLsp.explain", argument(uri, 16, 4))
        message = str(info.value)
        assert "HTTP 401" in message and KEY_ENV in message and "refused" in message
        assert wrong not in message and KEY not in message
        shown = [m.message for m in client.messages]
        assert any(KEY_ENV in m for m in shown), shown
        assert not any(wrong in m for m in shown)
        status = await _status(client)  # still answering
        assert status["model"]["backend"] == "openai" and wrong not in str(status)
    finally:
        await stop(client)
    log = "".join(str(m.message) for m in client.log_messages)
    assert wrong not in log


async def test_a_model_server_killed_mid_answer_is_a_clear_error_and_recovery_needs_no_restart(
        tmp_path, team_env, model_server):
    path = tmp_path / "orders.py"
    shutil.copy(EXAMPLES / "orders.py", path)
    client = await start_audited(tmp_path, team_env, tmp_path / "net.jsonl",
                                 **team_options(model_server, cache={"enabled": False}))
    try:
        uri = open_document(client, path, "python")
        future = await _start_streaming(client, argument(uri, 16, 4), "team-job-2")
        model_server.kill()
        try:
            with pytest.raises(JsonRpcException) as info:
                await asyncio.wrap_future(future)
            message = str(info.value)
            assert "mid-answer" in message and model_server.base_url in message, message
            status = await _status(client)  # the language server answers at once
            assert status["queue"] == 0
            with pytest.raises(JsonRpcException, match="cannot reach the model server at "
                               + model_server.base_url):
                await execute(client, "qwenLsp.explain", argument(uri, 40, 4))
        finally:
            model_server.start()  # back, on the same address, for the next tests
        result = await execute(client, "qwenLsp.explain", argument(uri, 40, 4))
        assert result["markdown"].startswith("**Purpose:**")
    finally:
        await stop(client)


async def test_switching_to_the_team_backend_applies_without_a_restart(
        tmp_path, env, model_server):
    path = tmp_path / "orders.py"
    shutil.copy(EXAMPLES / "orders.py", path)
    client = await start_audited(tmp_path, dict(env, **{KEY_ENV: KEY}), tmp_path / "net.jsonl")
    try:
        before = await _until_ready(client)
        assert before["model"]["backend"] == "embedded" and before["model"]["sha256"]
        client.set_configuration(team_options(model_server), section="qwenLsp")
        client.workspace_did_change_configuration(
            types.DidChangeConfigurationParams(settings=None))
        deadline = time.monotonic() + 30
        while (await _status(client))["model"]["backend"] != "openai":
            assert time.monotonic() < deadline, "the switch was not applied"
            await asyncio.sleep(0.1)
        after = await _until_ready(client)
        assert after["model"]["name"] == "team-qwen" and after["model"]["state"] == "ready"
        uri = open_document(client, path, "python")
        result = await execute(client, "qwenLsp.explain", argument(uri, 40, 4))
        assert result["cached"] is False and result["markdown"].startswith("**Purpose:**")
    finally:
        await stop(client)


# -- privacy of the embedded backend ----------------------------------------------------------


async def test_the_embedded_backend_opens_no_network_socket(tmp_path, env):
    path = tmp_path / "orders.py"
    shutil.copy(EXAMPLES / "orders.py", path)
    audit = tmp_path / "net.jsonl"
    client = await start_audited(tmp_path, env, audit, cache={"enabled": False})
    try:
        uri = open_document(client, path, "python")
        result = await execute(client, "qwenLsp.explain", argument(uri, 40, 4))
        assert result["markdown"].startswith("**Purpose:**")
        assert server_process(client).net_connections(kind="inet") == []
    finally:
        await stop(client)
    assert audit.exists(), "the audit hook did not run"
    assert network_events(audit) == []
