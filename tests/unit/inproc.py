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
