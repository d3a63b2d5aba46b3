"""Load: overlapping commands with cancels and edits on the real model, shutdown and
exit during a generation, and memory after 1,000 commands (leaks)."""

from __future__ import annotations

import random
import threading
import time

import psutil
import pytest

from tests.robustness.conftest import scaled
from tests.robustness.test_protocol_fuzz import PY

pytestmark = [pytest.mark.e2e]


def _functions(n: int) -> str:
    """n small functions (3 lines each with the blank line); odd ones sleep, so that
    "convert to async" rewrites them by the exact rules, at once."""
    return "import time\n\n" + "\n".join(
        f"def f{i}(x):\n    time.sleep({i})\n" if i % 2 else
        f"def f{i}(x):\n    return x * {i + 2} + {i}\n" for i in range(n))


def _arg(uri: str, line: int, version: int | None = None) -> dict:
    doc: dict = {"uri": uri}
    if version is not None:
        doc["version"] = version
    return {"textDocument": doc, "range": {"start": {"line": line, "character": 4},
                                           "end": {"line": line, "character": 4}}}


class Versions:
    """The client's document versions. An edit for an older version is refused, as an
    editor does by the version the edit carries: the server checks the version before
    it sends, but a change the client made in the meantime can cross the edit on the
    wire (LSP's own race), and then the version is what keeps it out."""

    def __init__(self) -> None:
        self.current: dict[str, int] = {}
        self.lock = threading.Lock()
        self.applied: list[tuple[str, int]] = []
        self.stale: list[tuple[str, int, int]] = []

    def on_apply_edit(self, params: dict) -> dict:
        with self.lock:
            for change in params["edit"].get("documentChanges", []):
                uri, version = change["textDocument"]["uri"], change["textDocument"]["version"]
                if version != self.current.get(uri):
                    self.stale.append((uri, version, self.current.get(uri)))
                    return {"applied": False, "failureReason": "stale version"}
                self.applied.append((uri, version))
        return {"applied": True}


@pytest.mark.model
def test_fifty_overlapping_commands_with_cancels_and_edits_apply_nothing_stale(
        start_server, tmp_path, record_property):
    versions = Versions()
    server = start_server("real", {"maxOutputTokens": 24},
                          on_apply_edit=versions.on_apply_edit)
    text = _functions(10)
    uris = [(tmp_path / name).as_uri() for name in ("a.py", "b.py")]
    for uri in uris:  # the same functions in two documents: the same requests
        server.open(uri, text)
        versions.current[uri] = 1
    rng = random.Random(5)
    ids = []
    edits = 0
    for n in range(50):
        uri = rng.choice(uris)
        command = rng.choice(["qwenLsp.explain", "qwenLsp.refactor",
                              "qwenLsp.convertToAsync"])
        msg_id = f"job-{n}"
        server.send({"jsonrpc": "2.0", "id": msg_id, "method": "workspace/executeCommand",
                     "params": {"command": command,
                                "arguments": [_arg(uri, 2 + 3 * rng.randrange(10),
                                                   versions.current[uri])]}})
        ids.append(msg_id)
        time.sleep(rng.uniform(0, 0.15))
        if rng.random() < 0.5:  # cancel an earlier request, at a random moment
            server.notify("$/cancelRequest", {"id": rng.choice(ids)})
        if rng.random() < 0.2:  # an edit arrives while the model may be generating
            with versions.lock:
                versions.current[uris[0]] += 1
                version = versions.current[uris[0]]
            server.notify("textDocument/didChange", {
                "textDocument": {"uri": uris[0], "version": version},
                "contentChanges": [{"range": {"start": {"line": 10**6, "character": 0},
                                              "end": {"line": 10**6, "character": 0}},
                                    "text": f"# edit {version}\n"}]})
            edits += 1
    outcomes: dict[object, int] = {}
    reasons: dict[str, int] = {}
    not_applied = 0
    for msg_id in ids:
        response = server.wait_response(msg_id, timeout=300)
        code = response["error"]["code"] if "error" in response else "result"
        outcomes[code] = outcomes.get(code, 0) + 1
        if code == "result" and response["result"].get("applied") is False and \
                response["result"].get("edit"):
            not_applied += 1
        if code == -32803:
            reason = response["error"]["message"].split(":", 2)[-1][:70]
            reasons[reason] = reasons.get(reason, 0) + 1
    assert set(outcomes) <= {"result", -32800, -32803}, outcomes
    deadline = time.monotonic() + 30
    while server.command("qwenLsp.status", {})["result"]["queue"] and \
            time.monotonic() < deadline:
        time.sleep(0.2)
    assert server.command("qwenLsp.status", {})["result"]["queue"] == 0  # drained
    # every edit carried a version; none was applied over a newer text, and the server
    # reported each one the editor refused as not applied
    assert all(version is not None for _, version in versions.applied)
    assert not_applied >= len(versions.stale), (not_applied, versions.stale)
    summary = (f"50 commands, {edits} edits: {outcomes}, applied {len(versions.applied)}, "
               f"refused by version (crossed on the wire) {len(versions.stale)}; "
               f"refusals {reasons}")
    record_property("concurrency", summary)
    print("\n" + summary)
    assert server.stop() == 0


@pytest.mark.model
@pytest.mark.parametrize("how", ["shutdown then exit", "exit alone"])
def test_shutdown_and_exit_during_a_generation_end_the_process_cleanly(start_server,
                                                                     tmp_path, how):
    server = start_server("real", {"maxOutputTokens": 400})
    uri = (tmp_path / "m.py").as_uri()
    server.open(uri, PY)
    server.send({"jsonrpc": "2.0", "id": "long", "method": "workspace/executeCommand",
                 "params": {"command": "qwenLsp.explain", "arguments": [_arg(uri, 3)]}})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait for streamed text: it is generating
        reports = [n for n in server.notifications if n["method"] == "$/progress"
                   and n["params"]["value"].get("kind") == "report"
                   and len(n["params"]["value"].get("message") or "") > 20]
        if reports:
            break
        time.sleep(0.05)
    assert reports, "the model never started generating"
    started = time.monotonic()
    if how == "shutdown then exit":
        answer = server.request("shutdown", None, timeout=10)
        assert answer.get("result", "missing") is None, answer
        assert time.monotonic() - started < 3, "shutdown waited for the generation"
        server.notify("exit")
        expected = 0
    else:
        server.notify("exit")  # LSP: exit without shutdown ends with code 1
        expected = 1
    assert server.proc.wait(15) == expected, server.stderr_tail()
    assert time.monotonic() - started < 15
    if how == "shutdown then exit":
        # the request in flight was answered before the process ended
        assert server.wait_response("long", timeout=5), "the pending request got no answer"
    server.close()


def _rss(pid: int) -> int:
    return psutil.Process(pid).memory_info().rss


def test_memory_after_1000_commands_stays_within_5_percent_of_after_100(start_server,
                                                                      tmp_path,
                                                                      record_property):
    server = start_server("fake")
    uri = (tmp_path / "m.py").as_uri()
    server.open(uri, PY)
    total = scaled(1000)

    def one_round(n: int) -> None:
        kind = n % 4
        if kind == 0:  # cached after the first time
            response = server.command("qwenLsp.explain", _arg(uri, 3))
            assert "result" in response, response
        elif kind == 1:  # a fast failure: already async
            response = server.command("qwenLsp.convertToAsync", _arg(uri, 8, 999))
            assert "error" in response, response
        elif kind == 2:  # a document opened, listed, explained, closed
            other = (tmp_path / f"tmp{n}.py").as_uri()
            server.open(other, PY.replace("add", f"add{n % 50}"))
            assert "result" in server.code_actions(other, (3, 4))
            assert "result" in server.command("qwenLsp.explain", _arg(other, 3))
            server.notify("textDocument/didClose", {"textDocument": {"uri": other}})
        else:  # a command for a document that is not open
            response = server.command("qwenLsp.refactor", _arg(f"file:///gone{n}.py", 0))
            assert "error" in response, response

    for n in range(total // 10):
        one_round(n)
    time.sleep(0.5)
    after_100 = _rss(server.proc.pid)
    for n in range(total // 10, total):
        one_round(n)
    time.sleep(0.5)
    after_1000 = _rss(server.proc.pid)
    growth = (after_1000 - after_100) / after_100
    summary = (f"RSS after {total // 10} commands {after_100 / 1e6:.1f} MB, after {total} "
               f"{after_1000 / 1e6:.1f} MB ({growth:+.1%})")
    record_property("leak", summary)
    print("\n" + summary)
    assert growth < 0.05, summary
    assert server.stop() == 0
