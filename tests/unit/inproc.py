"""The server in this process: messages fed to its protocol the way pygls' reader loop
does (``json.loads(body, object_hook=protocol.structure_message)`` then
``handle_message``), and what it writes read back frame by frame."""

from __future__ import annotations

import asyncio
import json

from qwen_lsp.app import create_server
from qwen_lsp.server import QwenServer


class Wire:
    """The server's output: Content-Length frames, decoded."""

    def __init__(self) -> None:
        self.messages: list[dict] = []

    def write(self, data: bytes) -> None:
        header, _, body = data.partition(b"\r\n\r\n")
        assert header.startswith(b"Content-Length:"), data[:80]
        self.messages.append(json.loads(body))

    def close(self) -> None:
        pass

    def response(self, msg_id: object) -> dict | None:
        return next((m for m in self.messages if m.get("id") == msg_id and "method" not in m),
                    None)

    def requests(self, method: str) -> list[dict]:
        return [m for m in self.messages if m.get("method") == method]

    def responses(self) -> list[dict]:
        return [m for m in self.messages if "method" not in m]


def server_on_wire() -> tuple[QwenServer, Wire]:
    server = create_server()
    wire = Wire()
    server.protocol.set_writer(wire)
    return server, wire


def feed_raw(server: QwenServer, body: str) -> None:
    """What pygls' reader loop does with one frame's body."""
    server.protocol.handle_message(json.loads(body, object_hook=server.protocol.structure_message))


def feed(server: QwenServer, message: dict) -> None:
    feed_raw(server, json.dumps({"jsonrpc": "2.0", **message}))


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


class FakeModelSession:
    """The server in this process with a fake model (FakeEngine) behind it, initialized
    (`initializationOptions` plus a placeholder model file), with one Python document
    open: `def f(x): return x + 1`."""

    TEXT = "def f(x):\n    return x + 1\n"

    def __init__(self, tmp_path, engine, *, options: dict | None = None,
                 capabilities: dict | None = None, locale: str | None = None) -> None:
        gguf = tmp_path / "model.gguf"
        gguf.write_bytes(b"GGUF" + b"\0" * 60)
        self.server = create_server(engine_factory=lambda path, settings: engine)
        self.wire = Wire()
        self.server.protocol.set_writer(self.wire)
        params = {"processId": None, "rootUri": None, "capabilities": capabilities or {},
                  "initializationOptions": {"modelPath": str(gguf), **(options or {})}}
        if locale:
            params["locale"] = locale
        feed(self.server, {"id": 1, "method": "initialize", "params": params})
        self.uri = (tmp_path / "m.py").as_uri()

    async def start(self) -> FakeModelSession:
        await settle()
        feed(self.server, {"method": "initialized", "params": {}})
        feed(self.server, {"method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": self.uri, "languageId": "python", "version": 1, "text": self.TEXT}}})
        return self

    def command(self, msg_id: int, command: str) -> None:
        """`command` on `f` (the cursor in its body)."""
        argument = {"textDocument": {"uri": self.uri, "version": 1},
                    "range": {"start": {"line": 1, "character": 4},
                              "end": {"line": 1, "character": 4}}}
        feed(self.server, {"id": msg_id, "method": "workspace/executeCommand",
                           "params": {"command": command, "arguments": [argument]}})

    async def response(self, msg_id: int, seconds: float = 5.0) -> dict:
        for _ in range(int(seconds / 0.01)):
            await asyncio.sleep(0.01)
            answer = self.wire.response(msg_id)
            if answer is not None:
                return answer
        raise AssertionError(f"no response to {msg_id} within {seconds} s")

    def close(self) -> None:
        self.server.runtime.shutdown(timeout=1)
