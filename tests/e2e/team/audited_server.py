"""The real qwen-lsp server, with an audit hook that records its network activity.

Every socket operation on an internet address (creating an AF_INET/AF_INET6 socket,
connect, bind, getaddrinfo, sendto) is appended as one JSON line to the file named
by ``QWEN_LSP_NET_AUDIT``. Local AF_UNIX sockets (asyncio's self-pipe) are not
network. Nothing else differs from ``python -m qwen_lsp``.

Run: ``python tests/e2e/team/audited_server.py``.
"""

from __future__ import annotations

import json
import os
import socket
import sys

_INET = (socket.AF_INET, socket.AF_INET6)
_EVENTS = ("socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg")
_LOOKUPS = ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex",
            "socket.gethostbyaddr")


def _install(path: str) -> None:
    out = open(path, "a", buffering=1, encoding="utf-8")  # open for the process lifetime

    def record(event: str, detail: object) -> None:
        out.write(json.dumps({"event": event, "detail": repr(detail)}) + "\n")

    def hook(event: str, args: tuple) -> None:
        if event == "socket.__new__":
            if args[1] in _INET:
                record(event, args[1])
        elif event in _EVENTS:
            sock, address = args[0], args[1]
            if getattr(sock, "family", None) in _INET:
                record(event, address)
        elif event in _LOOKUPS:
            record(event, args[:2])

    sys.addaudithook(hook)


def main() -> int:
    _install(os.environ["QWEN_LSP_NET_AUDIT"])
    from qwen_lsp.cli import main as cli_main

    return cli_main(["serve"])


if __name__ == "__main__":
    raise SystemExit(main())
