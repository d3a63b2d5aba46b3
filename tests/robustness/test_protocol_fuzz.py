"""Protocol fuzzing over stdio against the real `qwen-lsp` process.

Hypothesis generates the messages: malformed JSON bodies, wrong types in every field of
the requests we handle, unknown methods, unopened documents, out-of-range and negative
positions, huge ids, lone surrogates, notifications with ids, cancels for unknown ids.
Every request with a usable id must be answered (a result or an error), the process
must stay up, stdout must carry nothing but JSON-RPC frames, and a normal request must
still work afterwards. CI runs ~1,400 messages per server; the benchmark mode
(bench/bench_robustness.py) runs more than 10,000.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.robustness.conftest import scaled
from tests.robustness.strategies import messages, mutated
from tests.robustness.wire import WireServer

pytestmark = [pytest.mark.e2e]

PY = '''\
import time


def add(a, b):
    """Add two numbers."""
    return a + b


def pause(seconds):
    time.sleep(seconds)
    return seconds


class Box:
    def get(self, key):
        return self.items[key]
'''
JS = "function twice(x) {\n  return x * 2;\n}\n\nasync function later() {\n  return 1;\n}\n"

_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d [\d:,]+ (\w+) ([\w.]+): (.*)")
_EXCEPTION = re.compile(r"^(?:[\w.]+\.)?(\w+(?:Error|Exception|Exit|Interrupt))\b(.*)")


# pygls hands a body that is not JSON (json.loads guesses UTF-16/32 from NUL bytes, so
# any codec may complain) and an unknown method to QwenServer.report_server_error, and
# QwenServer.notify_user logs every refusal it shows the user ("qwen-lsp: ...") at
# ERROR. server.py is not ours (see the report): nothing failed in our code there.
_EXPECTED = re.compile(r"^qwen_lsp\.server: ('[\w-]+' codec can't decode|Expecting |Extra data|"
                       r"Unterminated string|Invalid control character|Invalid \\escape|"
                       r"Method Not Found|qwen-lsp: (?!.*internal error))")
# the broken-model server reports the model it cannot load, as it should
_BROKEN_MODEL = re.compile(r"model load failed|the model is not available")


def internal_errors(log: str) -> list[str]:
    """One line per traceback or ERROR record in a server log: 'logger: message | exception'.

    Refusals of bad input are warnings; an ERROR or a traceback means our code failed.
    """
    found: list[str] = []
    current: str | None = None
    for line in log.splitlines():
        match = _LOG_LINE.match(line)
        if match:
            if current is not None:
                found.append(current)
            level, name, message = match.groups()
            current = f"{name}: {message[:160]}" if level in ("ERROR", "CRITICAL") else None
            continue
        if line.startswith(("Traceback", "  + Exception Group")) and current is None:
            current = "(traceback without a log record)"
        exception = _EXCEPTION.match(line.strip("| "))
        if current is not None and exception and "|" not in current:
            current += f" | {exception.group(1)}{exception.group(2)[:120]}"
    if current is not None:
        found.append(current)
    return [line for line in found if not _EXPECTED.match(line)]


def _open_samples(server: WireServer, tmp_path) -> list[str]:
    uris = []
    for name, text, lang in (("sample.py", PY, "python"), ("sample.js", JS, "javascript"),
                             ("notes.txt", "plain words\nand more\n", "plaintext")):
        uri = (tmp_path / name).as_uri()
        server.open(uri, text, lang)
        uris.append(uri)
    return uris


def _check_response(response: dict, msg_id: object) -> None:
    assert response.get("jsonrpc") == "2.0", response
    assert ("result" in response) != ("error" in response), response
    if "error" in response:
        error = response["error"]
        assert isinstance(error.get("code"), int) and isinstance(error.get("message"), str), \
            response


def _still_works(server: WireServer, uri: str) -> None:
    server.open(uri, PY)
    actions = server.code_actions(uri, (3, 4))
    assert [a["title"] for a in actions["result"]][:2] == ["Ask AI to explain",
                                                           "Refactor with AI"], actions
    status = server.command("qwenLsp.status", {})
    assert status["result"]["queue"] >= 0, status


class Tally:
    def __init__(self) -> None:
        self.sent = 0
        self.answered = 0
        self.by_code: dict[object, int] = {}


def _fuzz(server: WireServer, tmp_path, count: int, tally: Tally) -> None:
    opened = _open_samples(server, tmp_path)
    serial = [0]

    # One server for the whole run: shrinking a stateful session only wastes time, so
    # a failure reports the batch that broke it, as generated.
    @settings(max_examples=max(1, int(count / 2.5)), deadline=None, database=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(st.lists(messages(opened, serial), min_size=1, max_size=7))
    def run(batch: list) -> None:
        owed = []
        for message, msg_id in batch:
            if isinstance(message, bytes):
                server.send_raw(message)
            else:
                server.send(message)
            tally.sent += 1
            if msg_id is not None:
                owed.append(msg_id)
        for msg_id in owed:
            response = server.wait_response(msg_id, timeout=10)
            _check_response(response, msg_id)
            tally.answered += 1
            code = response["error"]["code"] if "error" in response else "result"
            if code == -32602:  # InvalidParams says what was wrong, not just that
                message = response["error"]["message"]
                assert len(message) > 20 and message != "Invalid Params", response
            tally.by_code[code] = tally.by_code.get(code, 0) + 1
        assert server.alive, server.stderr_tail()
        assert not server.violations, server.violations[:5]

    run()


@pytest.mark.parametrize("kind", ["fake", "broken"])
def test_generated_messages_are_all_answered_and_the_server_survives(
        start_server, tmp_path, kind, record_property):
    """`fake`: commands reach the FakeEngine in the real server; `broken`: the real
    `qwen-lsp` with a model file that is not GGUF, so every model call fails fast."""
    server = start_server(kind)
    tally = Tally()
    _fuzz(server, tmp_path, scaled(1000), tally)
    _still_works(server, (tmp_path / "after.py").as_uri())
    assert server.stop() == 0, server.stderr_tail()
    assert not server.violations, server.violations[:5]
    internal = [line for line in internal_errors(server.stderr_text())
                if not (kind == "broken" and _BROKEN_MODEL.search(line))]
    record_property("fuzz", f"{tally.sent} sent, {tally.answered} answered, {tally.by_code}")
    print(f"\n{kind}: {tally.sent} messages sent, {tally.answered} requests answered "
          f"{tally.by_code}; internal errors logged: {len(internal)}")
    assert not internal, "\n".join(internal[:20])
    assert tally.sent >= scaled(1000) * 0.8


@settings(max_examples=scaled(25), deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(params=mutated({"x": [1, {"y": "z"}]}) | st.none(), msg_id=st.integers(1, 2**70))
def test_shutdown_with_any_params_is_answered_then_requests_are_refused_and_exit_is_clean(
        start_server, tmp_path_factory, params, msg_id):
    server = start_server("broken", root=tmp_path_factory.mktemp("root"))
    message = {"jsonrpc": "2.0", "id": msg_id, "method": "shutdown"}
    if params is not None:
        message["params"] = params
    server.send(message)
    response = server.wait_response(msg_id, timeout=20)
    assert "result" in response or "error" in response, response
    if "result" in response:
        # after shutdown, a request is answered with InvalidRequest (LSP), not dropped
        late = server.command("qwenLsp.status", {}, timeout=10)
        assert late.get("error", {}).get("code") == -32600, late
        server.notify("exit")
        assert server.proc.wait(15) == 0, server.stderr_tail()
    assert not server.violations
    server.close()
