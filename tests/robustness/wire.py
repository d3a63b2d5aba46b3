"""A raw JSON-RPC client for the real server over stdio: frames written by hand.

Unlike pytest-lsp, it can send anything (bytes that are not JSON, wrong types in any
field, odd ids) and it checks the other direction strictly: every byte the server
writes to stdout must belong to a well-formed ``Content-Length`` frame holding a JSON
object. Requests the server sends (configuration, progress, applyEdit, showDocument)
are answered by a small scripted client.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SERVER = [sys.executable, "-m", "qwen_lsp"]
FAKE_SERVER = [sys.executable, "-m", "tests.robustness.fake_engine_server"]
_HEADER = re.compile(rb"(?:Content-Length|Content-Type): [^\r\n]*\r\n")


def frame(body: bytes | str | dict | list) -> bytes:
    """One LSP frame around ``body`` (a JSON value, or raw text/bytes sent as is)."""
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode("utf-8", "surrogatepass")
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


class WireServer:
    """The server process and a reader thread that sorts its frames."""

    def __init__(self, argv: list[str], env: dict[str, str], stderr_path: Path,
                 settings: dict | None = None,
                 on_apply_edit: Callable[[dict], dict] | None = None,
                 preexec_fn: Callable[[], None] | None = None) -> None:
        self.stderr_path = stderr_path
        self._stderr = stderr_path.open("wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self._stderr, env=env, cwd=ROOT,
                                     start_new_session=True, preexec_fn=preexec_fn)
        self.settings = settings  # answered to workspace/configuration
        self.on_apply_edit = on_apply_edit or (lambda params: {"applied": True})
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self.responses: dict[Any, dict] = {}
        self.notifications: list[dict] = []
        self.server_requests: list[dict] = []
        self.violations: list[str] = []  # stdout bytes that were not a JSON-RPC frame
        self.frames = 0
        self._next_id = 0
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    # -- sending ---------------------------------------------------------------------

    def send_raw(self, data: bytes) -> None:
        with self._lock:
            assert self.proc.stdin is not None
            self.proc.stdin.write(data)
            self.proc.stdin.flush()

    def send(self, message: dict) -> None:
        self.send_raw(frame(message))

    def notify(self, method: str, params: Any = None) -> None:
        message: dict = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)

    def new_id(self) -> int:
        with self._lock:
            self._next_id += 1
            return self._next_id

    def request(self, method: str, params: Any = None, msg_id: Any = None,
                timeout: float = 30.0) -> dict:
        """Send a request and wait for its response (the whole response object)."""
        msg_id = self.new_id() if msg_id is None else msg_id
        message: dict = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return self.wait_response(msg_id, timeout)

    def command(self, command: str, argument: Any, msg_id: Any = None,
                timeout: float = 30.0) -> dict:
        return self.request("workspace/executeCommand",
                            {"command": command, "arguments": [argument]}, msg_id, timeout)

    def wait_response(self, msg_id: Any, timeout: float = 30.0) -> dict:
        key = _key(msg_id)
        deadline = time.monotonic() + timeout
        with self._cond:
            while key not in self.responses:
                left = deadline - time.monotonic()
                if left <= 0 or not self._reader.is_alive():
                    raise TimeoutError(f"no response to request {msg_id!r} within {timeout} s "
                                       f"(server alive: {self.alive}); stderr tail:\n"
                                       f"{self.stderr_tail()}")
                self._cond.wait(min(left, 0.5))
            return self.responses.pop(key)

    # -- the session -----------------------------------------------------------------

    def initialize(self, root: Path, options: dict, capabilities: dict | None = None) -> dict:
        caps = capabilities if capabilities is not None else CLIENT_CAPABILITIES
        response = self.request("initialize", {
            "processId": os.getpid(), "rootUri": root.as_uri(), "capabilities": caps,
            "locale": "en", "initializationOptions": options}, timeout=60)
        assert "result" in response, response
        self.notify("initialized", {})
        return response["result"]

    def open(self, uri: str, text: str, language_id: str = "python", version: int = 1) -> None:
        self.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": language_id, "version": version, "text": text}})

    def code_actions(self, uri: str, start: tuple[int, int], end: tuple[int, int] | None = None,
                     timeout: float = 30.0) -> dict:
        end = end or start
        return self.request("textDocument/codeAction", {
            "textDocument": {"uri": uri},
            "range": {"start": {"line": start[0], "character": start[1]},
                      "end": {"line": end[0], "character": end[1]}},
            "context": {"diagnostics": [], "triggerKind": 1}}, timeout=timeout)

    def stop(self, timeout: float = 20.0) -> int:
        """shutdown + exit; the exit code (the group is killed if it hangs)."""
        try:
            if self.alive:
                self.request("shutdown", None, timeout=timeout)
                self.notify("exit")
            return self.proc.wait(timeout)
        except (TimeoutError, subprocess.TimeoutExpired, BrokenPipeError, OSError):
            self.kill()
            raise
        finally:
            self.close()

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass

    def close(self) -> None:
        self.kill()
        self._reader.join(5)
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass
        self._stderr.close()

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def stderr_tail(self, chars: int = 3000) -> str:
        try:
            return self.stderr_path.read_bytes()[-chars:].decode("utf-8", "replace")
        except OSError:
            return ""

    def stderr_text(self) -> str:
        return self.stderr_path.read_bytes().decode("utf-8", "replace")

    # -- reading ---------------------------------------------------------------------

    def _read(self) -> None:
        stream = self.proc.stdout
        assert stream is not None
        while True:
            length = None
            while True:  # headers up to the empty line
                line = stream.readline()
                if not line:
                    return
                if line == b"\r\n":
                    break
                if not _HEADER.fullmatch(line):
                    self._violation(f"not a header line: {line[:200]!r}")
                    continue
                if line.startswith(b"Content-Length:"):
                    length = int(line.split(b":")[1])
            if length is None:
                self._violation("a frame without Content-Length")
                continue
            body = stream.read(length)
            try:
                message = json.loads(body)
            except ValueError as exc:
                self._violation(f"a frame body that is not JSON ({exc}): {body[:200]!r}")
                continue
            if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
                self._violation(f"not a JSON-RPC message: {body[:200]!r}")
                continue
            self.frames += 1
            self._dispatch(message)

    def _violation(self, what: str) -> None:
        with self._lock:
            self.violations.append(what)

    def _dispatch(self, message: dict) -> None:
        if "method" in message and "id" in message:
            with self._lock:
                self.server_requests.append(message)
            self._answer(message)
        elif "method" in message:
            with self._lock:
                self.notifications.append(message)
        else:
            with self._cond:
                self.responses[_key(message.get("id"))] = message
                self._cond.notify_all()

    def _answer(self, message: dict) -> None:
        method, params = message["method"], message.get("params")
        result: Any = None
        if method == "workspace/configuration":
            result = [self.settings for _ in (params or {}).get("items", [])]
        elif method == "workspace/applyEdit":
            result = self.on_apply_edit(params)
        elif method == "window/showDocument":
            result = {"success": True}
        try:
            self.send({"jsonrpc": "2.0", "id": message["id"], "result": result})
        except (BrokenPipeError, OSError, ValueError):
            pass


def _key(msg_id: Any) -> str:
    """Ids compare by their JSON form (1 and "1" are different ids)."""
    return json.dumps(msg_id)


CLIENT_CAPABILITIES: dict = {
    "workspace": {"applyEdit": True, "configuration": True,
                  "workspaceEdit": {"documentChanges": True}},
    "textDocument": {"synchronization": {"dynamicRegistration": False},
                     "codeAction": {"codeActionLiteralSupport": {"codeActionKind": {
                         "valueSet": ["", "quickfix", "refactor", "refactor.rewrite"]}}}},
    "window": {"workDoneProgress": True, "showDocument": {"support": True}},
    "general": {"positionEncodings": ["utf-16"]},
}


def server_env(tmp_path: Path, model_path: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg-cache")
    env["QWEN_LSP_CACHE_DIR"] = str(tmp_path / "qwen-cache")
    env["PYTHONPATH"] = str(ROOT)
    if model_path:
        env["QWEN_LSP_MODEL"] = model_path
    else:
        env.pop("QWEN_LSP_MODEL", None)
    return env
