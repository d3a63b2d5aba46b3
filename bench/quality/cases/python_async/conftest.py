"""A local HTTP server on 127.0.0.1 for the HTTP cases (started by the tests)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # quiet
        pass

    def _send(self, status: int, body: bytes, ctype: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/hello":
            self._send(200, "héllo wörld".encode(), "text/plain; charset=utf-8")
        elif self.path.startswith("/items/"):
            n = int(self.path.rsplit("/", 1)[1])
            self._send(200, json.dumps({"id": n, "name": f"item{n}", "price": n * 1.5}).encode())
        elif self.path == "/users":
            self._send(200, json.dumps([{"name": "ada", "age": 36},
                                        {"name": "alan", "age": 41}]).encode())
        elif self.path == "/missing":
            self._send(404, b'{"error": "not found"}')
        elif self.path == "/boom":
            self._send(500, b'{"error": "boom"}')
        else:
            self._send(404, b"{}")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        payload = json.loads(self.rfile.read(length) or b"null")
        self._send(201, json.dumps({"received": payload,
                                    "type": self.headers.get("Content-Type")}).encode())


@pytest.fixture(scope="session")
def base_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
