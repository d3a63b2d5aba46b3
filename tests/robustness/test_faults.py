"""Faults: kill -9 after an answer and during cache writes, garbage over the SQLite
file, a cache folder that cannot exist or a disk that is full, a truncated or non-GGUF
model. Each: a clear message, the server alive, code actions still listed."""

from __future__ import annotations

import json
import os
import random
import resource
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest

from qwen_lsp.cache import DB_NAME, ResultCache
from tests.robustness.test_protocol_fuzz import PY
from tests.robustness.wire import ROOT

pytestmark = [pytest.mark.e2e]

SMALL = "def double(x):\n    return x * 2\n"


def _explain(server, uri: str, line: int = 0, timeout: float = 120) -> dict:
    return server.command("qwenLsp.explain", {
        "textDocument": {"uri": uri}, "range": {"start": {"line": line, "character": 4},
                                                 "end": {"line": line, "character": 4}}},
        timeout=timeout)


def _actions_listed(server, uri: str, line: int = 0) -> None:
    titles = [a["title"] for a in server.code_actions(uri, (line, 4))["result"]]
    assert "Ask AI to explain" in titles, titles


def _messages(server) -> str:
    return "\n".join(n["params"]["message"] for n in server.notifications
                     if n["method"] in ("window/showMessage", "window/logMessage"))


# -- kill -9 ------------------------------------------------------------------------------


@pytest.mark.model
def test_kill_9_right_after_an_answer_then_the_restart_answers_from_the_cache(
        start_server, tmp_path):
    options = {"maxOutputTokens": 24}
    server = start_server("real", options)
    uri = (tmp_path / "small.py").as_uri()
    server.open(uri, SMALL)
    first = _explain(server, uri)
    assert first["result"]["cached"] is False, first
    server.kill(signal.SIGKILL)  # no shutdown: the answer was just sent
    assert server.proc.returncode == -signal.SIGKILL
    again = start_server("real", options)
    again.open(uri, SMALL)
    second = _explain(again, uri)
    assert second["result"]["cached"] is True, second
    assert second["result"]["markdown"] == first["result"]["markdown"]
    assert again.stop() == 0


_WRITER = textwrap.dedent("""
    import sys, itertools
    from pathlib import Path
    from qwen_lsp.cache import ResultCache
    cache = ResultCache(Path(sys.argv[1]), max_bytes=400_000, memory_entries=0)
    print("ready", flush=True)
    for i in itertools.count(int(sys.argv[2])):
        cache.put(f"key-{i}", {"markdown": "x" * (i % 5000), "i": i})
""")


def test_kill_9_during_cache_writes_never_leaves_a_corrupt_or_unreadable_cache(tmp_path):
    directory = tmp_path / "results"
    rng = random.Random(11)
    seen = 0
    for round_ in range(8):
        writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(directory),
                                   str(round_ * 100_000)], cwd=ROOT, stdout=subprocess.PIPE,
                                  env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert writer.stdout is not None and writer.stdout.readline() == b"ready\n"
        time.sleep(rng.uniform(0.02, 0.4))  # the writer is in the middle of some put
        writer.send_signal(signal.SIGKILL)
        writer.wait(10)
        with sqlite3.connect(directory / DB_NAME) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            rows = conn.execute("SELECT key, value FROM results").fetchall()
        assert rows, f"round {round_}: nothing was committed"
        cache = ResultCache(directory, max_bytes=400_000, memory_entries=0)
        for key, value in rows[:50]:
            assert cache.get(key) == json.loads(value)
        cache.close()
        assert not list(directory.glob(f"{DB_NAME}.corrupt-*")), "a kill was taken for damage"
        seen += len(rows)
    assert seen > 8


# -- a damaged or unusable cache ----------------------------------------------------------


def test_garbage_over_the_sqlite_file_before_and_while_serving(start_server, tmp_path):
    results = tmp_path / "results"
    results.mkdir(mode=0o700)
    (results / DB_NAME).write_bytes(os.urandom(50_000))
    server = start_server("fake")
    uri = (tmp_path / "m.py").as_uri()
    server.open(uri, PY)
    assert "result" in _explain(server, uri, 3)
    assert list(results.glob(f"{DB_NAME}.corrupt-*")), "the garbage was not set aside"
    assert _explain(server, uri, 3)["result"]["cached"] is True
    # now garbage under the running server
    (results / DB_NAME).write_bytes(b"\0garbage\xff" * 10_000)
    assert "result" in _explain(server, uri, 8)  # a new answer must still be stored
    assert "result" in _explain(server, uri, 14)
    _actions_listed(server, uri, 3)
    status = server.command("qwenLsp.status", {})["result"]
    assert status["cache"]["entries"] >= 0, status
    assert server.alive and server.stop() == 0


def test_a_cache_folder_that_cannot_be_created_means_memory_only(start_server, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    server = start_server("fake", {"cache": {"directory": str(blocker / "results")}})
    uri = (tmp_path / "m.py").as_uri()
    server.open(uri, PY)
    assert "result" in _explain(server, uri, 3)
    assert _explain(server, uri, 3)["result"]["cached"] is True  # from memory
    status = server.command("qwenLsp.status", {})["result"]
    assert status["cache"]["persistent"] is False, status
    assert "caching in memory only" in server.stderr_text()
    _actions_listed(server, uri, 3)
    assert server.stop() == 0


def test_a_full_disk_under_the_cache_degrades_to_memory_with_a_message(start_server, tmp_path):
    results = tmp_path / "results"
    cache = ResultCache(results, max_bytes=50_000_000, memory_entries=0)
    for i in range(300):
        cache.put(f"filler-{i}", {"markdown": "f" * 3000})
    cache.close()
    # writes past `limit` fail (EFBIG), as on a full disk: the database's last pages,
    # where a new row goes, lie beyond it
    limit = (results / DB_NAME).stat().st_size // 2

    def full_disk() -> None:  # in the server process
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    server = start_server("fake", preexec_fn=full_disk)
    uri = (tmp_path / "m.py").as_uri()
    server.open(uri, PY)
    for line in (3, 8, 14, 3):
        assert "result" in _explain(server, uri, line)
    log = server.stderr_text()
    assert "caching in memory only" in log or "full" in log.lower(), log[-2000:]
    _actions_listed(server, uri, 3)
    assert server.stop() == 0
    with sqlite3.connect(results / DB_NAME) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


# -- a model that cannot be used ----------------------------------------------------------


@pytest.mark.parametrize("kind", ["truncated GGUF", "not GGUF", "empty"])
def test_a_model_that_fails_to_load_is_a_clear_message_and_the_server_lives(
        start_server, tmp_path, kind, real_model_path):
    path = tmp_path / "model.gguf"
    if kind == "truncated GGUF":
        with open(real_model_path, "rb") as handle:
            path.write_bytes(handle.read(3_000_000))
    elif kind == "not GGUF":
        path.write_bytes(b"<html>404 not found</html>\n" * 100)
    else:
        path.write_bytes(b"")
    server = start_server("real", model_path=str(path))
    uri = (tmp_path / "m.py").as_uri()
    server.open(uri, PY)
    response = _explain(server, uri, 3, timeout=60)
    assert response["error"]["code"] == -32803, response
    message = response["error"]["message"]
    assert str(path) in message or "model" in message.lower(), message
    _actions_listed(server, uri, 3)
    deadline = time.monotonic() + 30
    while True:
        status = server.command("qwenLsp.status", {})["result"]["model"]
        if status["state"] == "error" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert status["state"] == "error" and status["error"], status
    shown = _messages(server)
    assert "model" in shown.lower(), shown
    print(f"\n{kind}: {message}")
    assert server.alive and server.stop() == 0
