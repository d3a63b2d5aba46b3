"""The HTTP engine against a small scripted OpenAI-compatible server on 127.0.0.1.

The scripted server (``http.server`` in a thread, written here) produces the faults a
real server will not produce on demand: a slow first byte, a stall mid-answer, a
broken stream line, a 500, a non-JSON reply, a 404 with a model list, a dropped
connection. The scenario is the first part of the URL path:
``http://127.0.0.1:PORT/<scenario>/v1``. The real server (llama_cpp.server) is in
tests/e2e/test_team_backend.py.
"""

from __future__ import annotations

import json
import logging
import select
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from qwen_lsp.engine.base import Cancelled, EngineError, GenParams
from qwen_lsp.engine.openai import OpenAIEngine, ServedModel, fold_answer_start

KEY = "sk-test-0123456789abcdef"
MODELS = {"object": "list", "data": [
    {"id": "team-coder", "object": "model", "created": 1, "owned_by": "me"},
    {"id": "other-model", "object": "model", "created": 2, "owned_by": "me"},
]}
EXPLAIN = [{"role": "system", "content": "You explain code."},
           {"role": "user", "content": "Explain `add`."},
           {"role": "assistant", "content": "**Purpose:**"}]
PLAIN = [{"role": "user", "content": "Say hello."}]


def chunk(content: str | None = None, finish: str | None = None) -> bytes:
    delta = {} if content is None else {"content": content}
    event = {"object": "chat.completion.chunk",
             "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return b"data: " + json.dumps(event).encode() + b"\n\n"


class Scripted(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[dict] = []  # (path, headers, body) of every request, newest last
    events: dict[str, float] = {}  # what the server noticed, and when
    answer: list[str] = ["**Purpose:**", " Adds", " two numbers."]

    def log_message(self, *_args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    # -- helpers ------------------------------------------------------------------

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        scenario, _, rest = self.path.lstrip("/").partition("/")
        self.seen.append({"path": self.path, "headers": dict(self.headers), "body": body})
        endpoint = rest.removeprefix("v1/")
        if scenario == "auth" and self.headers.get("Authorization") != f"Bearer {KEY}":
            self._send(401, {"detail": "Invalid API key"})
        elif endpoint == "chat/completions" and body and body.get("stream") is False \
                and not scenario.startswith("probe"):
            self._probe(scenario, body)
        else:
            getattr(self, f"_{scenario.replace('-', '_')}")(endpoint, body)

    def _probe(self, scenario: str, body: dict) -> None:
        """The engine's continuation probe: a one-token answer with ``usage``, counted
        as a chat template would (one token per word, 4 per closed turn, 2 per open one).
        Only the "cont" server continues a trailing assistant message."""
        messages = body["messages"]
        continues = scenario == "cont" and body.get("continue_final_message") is True \
            and messages[-1]["role"] == "assistant"
        closed = messages[:-1] if continues else messages
        tokens = sum(4 + len(m["content"].split()) for m in closed)
        tokens += 2 + (len(messages[-1]["content"].split()) if continues else 0)
        self._send(200, {"choices": [{"message": {"role": "assistant", "content": "Y"}}],
                         "usage": {"prompt_tokens": tokens, "completion_tokens": 1}})

    def _send(self, status: int, payload: object, kind: str = "application/json") -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _piece(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _end_stream(self) -> None:
        self._piece(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")

    def _models_or(self, endpoint: str) -> bool:
        if endpoint == "models":
            self._send(200, MODELS)
            return True
        return False

    def _wait_for_close(self, seconds: float) -> None:
        """Note when the client closes the connection (select readable + empty recv)."""
        deadline = time.monotonic() + seconds
        sock = self.connection
        while time.monotonic() < deadline:
            readable, _, _ = select.select([sock], [], [], 0.01)
            if readable and sock.recv(1, socket.MSG_PEEK) == b"":
                self.events["closed"] = time.monotonic()
                return

    # -- scenarios ------------------------------------------------------------------

    def _ok(self, endpoint: str, body: dict | None) -> None:
        if self._models_or(endpoint):
            return
        self._start_stream()
        self._piece(b": keep-alive comment\n\n")
        for text in self.answer:
            self._piece(chunk(text))
        self._piece(chunk(finish="stop"))
        self._end_stream()

    def _auth(self, endpoint: str, body: dict | None) -> None:
        self._ok(endpoint, body)  # a wrong key was answered in _handle

    def _cont(self, endpoint: str, body: dict | None) -> None:
        """A server that continues the trailing assistant message (llama-server, vLLM)."""
        if self._models_or(endpoint):
            return
        self._start_stream()
        for text in (" Adds", " two numbers."):
            self._piece(chunk(text))
        self._piece(chunk(finish="stop"))
        self._end_stream()

    def _probe500(self, endpoint: str, body: dict | None) -> None:
        """The probe fails (HTTP 500); streamed answers work."""
        if body and body.get("stream") is False:
            self._send(500, {"error": {"message": "probe broke"}})
        else:
            self._ok(endpoint, body)

    def _slow(self, endpoint: str, body: dict | None) -> None:
        if not self._models_or(endpoint):
            time.sleep(1.5)  # longer than the test's timeout, before any byte
            self._send(200, {})

    def _stall(self, endpoint: str, body: dict | None) -> None:
        if not self._models_or(endpoint):
            self._start_stream()
            self._piece(chunk("partial"))
            time.sleep(1.5)

    def _prefill(self, endpoint: str, body: dict | None) -> None:
        """Reading a long prompt: nothing is sent, not even headers."""
        if not self._models_or(endpoint):
            self._wait_for_close(5.0)

    def _endless(self, endpoint: str, body: dict | None) -> None:
        if self._models_or(endpoint):
            return
        self._start_stream()
        try:
            for _ in range(200):
                self._piece(chunk(" word"))
                time.sleep(0.02)
        except OSError:
            self.events["write_failed"] = time.monotonic()

    def _broken(self, endpoint: str, body: dict | None) -> None:
        if not self._models_or(endpoint):
            self._start_stream()
            self._piece(chunk("fine so far"))
            self._piece(b'data: {"choices": [{"delta": {"content": "x"\n\n')
            self._end_stream()

    def _cut(self, endpoint: str, body: dict | None) -> None:
        if not self._models_or(endpoint):
            self._start_stream()
            self._piece(chunk("half an ans"))
            self.connection.shutdown(socket.SHUT_RDWR)  # no final chunk: a broken body
            self.close_connection = True

    def _short(self, endpoint: str, body: dict | None) -> None:
        """A well-formed body that ends without finish_reason or [DONE]."""
        if not self._models_or(endpoint):
            self._start_stream()
            self._piece(chunk("half"))
            self.wfile.write(b"0\r\n\r\n")

    def _fails(self, endpoint: str, body: dict | None) -> None:
        if not self._models_or(endpoint):
            self._send(500, {"error": {"message": "CUDA out of memory", "code": 500}})

    def _html(self, endpoint: str, body: dict | None) -> None:
        self._send(200, b"<html><body>Welcome to nginx!</body></html>", "text/html")

    def _nomodel(self, endpoint: str, body: dict | None) -> None:
        if not self._models_or(endpoint):
            self._send(404, {"error": {"message": f"The model `{body['model']}` does not "
                                                  "exist."}})

    def _nolist(self, endpoint: str, body: dict | None) -> None:
        """A server without GET /models (the model must then be named)."""
        if endpoint == "models":
            self._send(404, {"detail": "Not Found"})
        else:
            self._ok(endpoint, body)

    def _empty(self, endpoint: str, body: dict | None) -> None:
        self._send(200, {"object": "list", "data": []})

    def _whole(self, endpoint: str, body: dict | None) -> None:
        """Ignores stream: true and answers with one JSON completion."""
        if not self._models_or(endpoint):
            self._send(200, {"choices": [{"message": {"role": "assistant",
                                                      "content": "**Purpose:** Adds."}}]})

    def _errorevent(self, endpoint: str, body: dict | None) -> None:
        if not self._models_or(endpoint):
            self._start_stream()
            self._piece(b'data: {"error": {"message": "the prompt exceeds the context"}}\n\n')
            self._end_stream()

    def _nochoices(self, endpoint: str, body: dict | None) -> None:
        if not self._models_or(endpoint):
            self._start_stream()
            self._piece(b'data: {"response": "hello"}\n\n')
            self._end_stream()


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(autouse=True)
def _fresh_records(monkeypatch: pytest.MonkeyPatch) -> None:
    Scripted.seen.clear()
    Scripted.events.clear()
    monkeypatch.setenv("QWEN_LSP_API_KEY", KEY)


def engine(server: str, scenario: str, **kwargs) -> OpenAIEngine:
    return OpenAIEngine(f"{server}/{scenario}/v1", **kwargs)


def generate(eng: OpenAIEngine, messages=EXPLAIN, params: GenParams | None = None,
             cancel: threading.Event | None = None) -> tuple[str, list[str]]:
    pieces: list[str] = []
    text = eng.generate(messages, params or GenParams(), pieces.append,
                        cancel or threading.Event())
    return text, pieces


def failure(server: str, scenario: str, messages=EXPLAIN, **kwargs) -> str:
    eng = engine(server, scenario, **kwargs)
    try:
        with pytest.raises(EngineError) as caught:
            generate(eng, messages)
    finally:
        eng.close()
    return str(caught.value)


# -- what is sent and what comes back -----------------------------------------------------


def test_streams_the_continuation_of_the_answer_start_and_sends_an_openai_request(server):
    eng = engine(server, "ok")
    try:
        assert eng.served == ServedModel(f"{server}/ok/v1", "team-coder", eng.served.fingerprint)
        text, pieces = generate(eng, params=GenParams(max_tokens=99, temperature=0.0))
    finally:
        eng.close()
    assert text == " Adds two numbers."  # continuation only: the start was written already
    assert "".join(pieces) == text and len(pieces) >= 2  # streamed, not in one go
    request = Scripted.seen[-1]
    assert request["path"].endswith("/v1/chat/completions")
    assert request["headers"]["Authorization"] == f"Bearer {KEY}"
    body = request["body"]
    assert body["model"] == "team-coder" and body["stream"] is True
    assert body["temperature"] == 0.0 and body["max_tokens"] == 99
    # this server closes a trailing assistant turn (the probe said so): it is left out
    assert eng.continues is False
    assert body["messages"] == EXPLAIN[:2] and "continue_final_message" not in body


def test_a_server_that_continues_gets_the_answer_start_as_an_open_turn(server):
    eng = engine(server, "cont")
    try:
        assert eng.continues is True
        text, pieces = generate(eng)
    finally:
        eng.close()
    body = Scripted.seen[-1]["body"]
    assert body["messages"] == EXPLAIN and body["stream"] is True
    assert body["continue_final_message"] is True and body["add_generation_prompt"] is False
    assert text == " Adds two numbers." and "".join(pieces) == text
    eng = engine(server, "cont")
    try:
        generate(eng, PLAIN)  # no answer start: no continuation flags
    finally:
        eng.close()
    assert "continue_final_message" not in Scripted.seen[-1]["body"]


def test_a_failed_probe_means_fold_not_an_error(server):
    eng = engine(server, "probe500")
    try:
        assert eng.continues is False
        assert generate(eng)[0] == " Adds two numbers."
    finally:
        eng.close()


def test_an_answer_that_does_not_begin_with_the_start_is_kept_whole(server):
    Scripted.answer = ["This", " adds."]
    eng = engine(server, "ok")
    try:
        text, pieces = generate(eng)
    finally:
        Scripted.answer = ["**Purpose:**", " Adds", " two numbers."]
        eng.close()
    assert text == " This adds." and "".join(pieces) == text


def test_messages_without_an_answer_start_go_unchanged(server):
    eng = engine(server, "ok")
    try:
        text, _ = generate(eng, PLAIN)
    finally:
        eng.close()
    assert Scripted.seen[-1]["body"]["messages"] == PLAIN
    assert text == "**Purpose:** Adds two numbers."


def test_fold_leaves_the_answer_start_out():
    assert fold_answer_start(EXPLAIN) == (EXPLAIN[:2], "**Purpose:**")
    assert fold_answer_start(PLAIN) == (PLAIN, "")


def test_the_named_model_is_used_and_the_model_id_names_backend_server_and_model(server):
    eng = engine(server, "ok", model="other-model")
    try:
        generate(eng, PLAIN)
        first = eng.served
    finally:
        eng.close()
    assert Scripted.seen[-1]["body"]["model"] == "other-model"
    assert first.model_id.startswith(f"openai|{server}/ok/v1|other-model|")
    again = OpenAIEngine(f"{server}/ok/v1/")  # a trailing slash is the same server
    try:
        assert again.served.base_url == f"{server}/ok/v1"
        assert again.served.model_id != first.model_id  # another model, another id
    finally:
        again.close()


def test_a_server_without_a_model_list_is_used_with_the_named_model(server):
    eng = engine(server, "nolist", model="coder")
    try:
        text, _ = generate(eng, PLAIN)
    finally:
        eng.close()
    assert eng.served.name == "coder" and text


def test_a_server_that_ignores_stream_true_is_still_understood(server):
    eng = engine(server, "whole")
    try:
        text, pieces = generate(eng)
    finally:
        eng.close()
    assert text == " Adds." and pieces == [" Adds."]


def test_no_api_key_means_no_authorization_header(server, monkeypatch):
    monkeypatch.delenv("QWEN_LSP_API_KEY")
    eng = engine(server, "ok")
    try:
        generate(eng, PLAIN)
    finally:
        eng.close()
    assert "Authorization" not in Scripted.seen[-1]["headers"]


# -- cancellation ------------------------------------------------------------------------


def _cancel_after(seconds: float) -> tuple[threading.Event, list[float]]:
    cancel = threading.Event()
    when: list[float] = []

    def fire() -> None:
        time.sleep(seconds)
        when.append(time.monotonic())
        cancel.set()

    threading.Thread(target=fire, daemon=True).start()
    return cancel, when


def test_cancel_while_the_server_reads_the_prompt_stops_at_once_and_closes_the_connection(
        server):
    eng = engine(server, "prefill")
    cancel, when = _cancel_after(0.3)
    try:
        with pytest.raises(Cancelled):
            generate(eng, cancel=cancel)
        stopped = time.monotonic()
        assert stopped - when[0] < 0.1  # within ~100 ms of the cancel
        deadline = time.monotonic() + 1.0
        while "closed" not in Scripted.events and time.monotonic() < deadline:
            time.sleep(0.01)
        # the server sees its client go away: it can stop and free the slot
        assert "closed" in Scripted.events, "the connection stayed open after the cancel"
        assert Scripted.events["closed"] - when[0] < 0.5
    finally:
        eng.close()


def test_cancel_mid_stream_stops_the_stream(server):
    eng = engine(server, "endless")
    cancel = threading.Event()
    pieces: list[str] = []

    def on_text(piece: str) -> None:
        pieces.append(piece)
        if len(pieces) == 3:
            cancel.set()

    try:
        with pytest.raises(Cancelled):
            eng.generate(PLAIN, GenParams(), on_text, cancel)
        assert len(pieces) == 3
        deadline = time.monotonic() + 2.0
        while "write_failed" not in Scripted.events and time.monotonic() < deadline:
            time.sleep(0.01)
        assert "write_failed" in Scripted.events, "the server could still write after a cancel"
    finally:
        eng.close()


def test_the_engine_answers_again_after_a_cancel(server):
    eng = engine(server, "ok")
    cancel = threading.Event()
    cancel.set()
    try:
        with pytest.raises(Cancelled):
            generate(eng, cancel=cancel)
        assert generate(eng)[0] == " Adds two numbers."
    finally:
        eng.close()


# -- errors a person can act on ------------------------------------------------------------


def test_connection_refused_names_the_url():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(EngineError) as caught:
        OpenAIEngine(f"http://127.0.0.1:{port}/v1")
    message = str(caught.value)
    assert f"cannot reach the model server at http://127.0.0.1:{port}/v1" in message
    assert "qwenLsp.openai.baseUrl" in message


def test_a_wrong_key_names_the_variable_and_never_shows_the_key(server, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("TEAM_KEY", "sk-wrong-key-42")
    with pytest.raises(EngineError) as caught:
        engine(server, "auth", api_key_env="TEAM_KEY")
    message = str(caught.value)
    assert "HTTP 401" in message and "Invalid API key" in message
    assert "TEAM_KEY" in message and "is set but was refused" in message
    assert "sk-wrong-key-42" not in message and "sk-wrong-key-42" not in caplog.text
    monkeypatch.delenv("TEAM_KEY")
    with pytest.raises(EngineError, match="TEAM_KEY .*is not set"):
        engine(server, "auth", api_key_env="TEAM_KEY")


def test_the_right_key_is_accepted(server):
    eng = engine(server, "auth")
    try:
        assert generate(eng)[0] == " Adds two numbers."
    finally:
        eng.close()


def test_an_unknown_model_lists_what_the_server_offers(server):
    with pytest.raises(EngineError) as caught:
        engine(server, "ok", model="gpt-5")
    message = str(caught.value)
    assert "no model 'gpt-5'" in message and "team-coder, other-model" in message
    assert "qwenLsp.openai.model" in message


def test_a_404_for_the_model_while_answering_lists_the_models(server):
    message = failure(server, "nomodel")
    assert "HTTP 404" in message and "does not exist" in message
    assert "it offers: team-coder, other-model" in message


def test_a_wrong_address_says_baseurl_usually_ends_with_v1(server):
    with pytest.raises(EngineError, match="usually ends with /v1"):
        OpenAIEngine(f"{server}/nolist/v1")  # no model named, and no list of models there


def test_a_slow_first_byte_is_a_timeout_that_names_the_setting(server):
    started = time.monotonic()
    message = failure(server, "slow", timeout_seconds=1)
    assert time.monotonic() - started < 1.45  # the timeout, not the server's delay
    assert "sent nothing for 1 s before answering" in message
    assert "qwenLsp.openai.timeoutSeconds" in message


def test_a_stall_between_chunks_is_a_timeout_mid_answer(server):
    message = failure(server, "stall", timeout_seconds=1)
    assert "in the middle of its answer" in message


def test_a_broken_stream_line_is_reported_as_not_json(server):
    message = failure(server, "broken")
    assert "stream line that is not JSON" in message and '"content": "x"' in message


def test_a_dropped_connection_mid_answer_is_reported(server):
    message = failure(server, "cut")
    assert "broke mid-answer" in message or "ended mid-answer" in message


def test_a_stream_that_ends_without_finishing_is_reported(server):
    assert "ended mid-answer" in failure(server, "short")


def test_a_500_carries_the_servers_message(server):
    message = failure(server, "fails")
    assert "HTTP 500" in message and "CUDA out of memory" in message and "try again" in message


def test_a_reply_that_is_not_json_is_reported(server):
    with pytest.raises(EngineError) as caught:
        engine(server, "html")
    assert "not JSON" in str(caught.value) and "Welcome to nginx" in str(caught.value)


def test_a_server_with_no_models_says_so(server):
    with pytest.raises(EngineError, match="lists no models"):
        engine(server, "empty")


def test_an_error_event_in_the_stream_is_reported(server):
    assert "the prompt exceeds the context" in failure(server, "errorevent")


def test_a_reply_that_ignores_the_format_is_reported(server):
    assert "not an OpenAI chat completion chunk" in failure(server, "nochoices")


def test_bad_base_urls_are_refused_before_any_connection():
    with pytest.raises(EngineError, match="baseUrl is empty"):
        OpenAIEngine("")
    with pytest.raises(EngineError, match="not an http"):
        OpenAIEngine("gpu-box:8000/v1")
