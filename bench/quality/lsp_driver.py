"""The real `qwen-lsp` server over stdio, driven the way an editor drives it.

One server process serves many cases: each case is opened (`didOpen`), its command
is executed under `workspace/executeCommand`, the `workspace/applyEdit` the server
sends is recorded and accepted, and the document is closed again. If the process
dies, the next case starts a new one (and the restart is recorded).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

SERVER = [sys.executable, "-m", "qwen_lsp"]


def server_command(snapshot: Path | None) -> list[str]:
    """`python -m qwen_lsp`, from the source tree or from a snapshot of one commit."""
    if snapshot is None:
        return list(SERVER)
    prelude = (f"import sys; sys.path.insert(0, {str(snapshot)!r}); import runpy; "
               "runpy.run_module('qwen_lsp', run_name='__main__', alter_sys=True)")
    return [sys.executable, "-c", prelude]
COMMANDS = {"refactor": "qwenLsp.refactor", "async": "qwenLsp.convertToAsync",
            "explain": "qwenLsp.explain"}
LANGUAGE_IDS = {"python": "python", "javascript": "javascript", "typescript": "typescript"}


@dataclass
class CommandOutcome:
    status: str                      # "ok" | "refused" | "timeout" | "crash"
    result: Any = None               # the command's JSON result
    error: str | None = None         # JSON-RPC error message / crash description
    applied_edits: list[dict] = field(default_factory=list)  # raw WorkspaceEdits sent
    seconds: float = 0.0


async def _forward(stream: asyncio.StreamReader, path: Path) -> None:
    with path.open("ab") as out:
        while line := await stream.readline():
            out.write(line)
            out.flush()


class ServerSession:
    """A `qwen-lsp` process with an initialized LSP session."""

    def __init__(self, workdir: Path, options: dict[str, Any], locale: str = "en",
                 command_timeout: float = 240.0, snapshot: Path | None = None) -> None:
        self.workdir = workdir
        self.snapshot = snapshot
        self.options = options
        self.locale = locale
        self.command_timeout = command_timeout
        self.client: LanguageClient | None = None
        self.starts = 0
        self.version = 0
        self._applied: list[dict] = []

    async def start(self) -> None:
        env = dict(os.environ)
        env["XDG_CACHE_HOME"] = str(self.workdir / "xdg-cache")
        from qwen_lsp.engine.model import resolve_model
        env["QWEN_LSP_MODEL"] = str(resolve_model(None))
        env.pop("QWEN_LSP_CACHE_DIR", None)
        config = ClientServerConfig(server_command=server_command(self.snapshot),
                                    server_env=env)
        client = await config.start()
        # The server's stderr goes to a log file, not into the bench's progress lines.
        if client._stderr_forwarder is not None:
            client._stderr_forwarder.cancel()
        assert client._server is not None and client._server.stderr is not None
        self._stderr_task = asyncio.ensure_future(
            _forward(client._server.stderr, self.workdir / "server-stderr.log"))
        self._applied = []

        @client.feature(types.WORKSPACE_APPLY_EDIT)
        def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
            self._applied.append(client.protocol._converter.unstructure(params.edit))
            return types.ApplyWorkspaceEditResult(applied=True)

        await client.initialize_session(types.InitializeParams(
            capabilities=client_capabilities("visual-studio-code"),
            root_uri=self.workdir.as_uri(),
            locale=self.locale,
            initialization_options=self.options,
        ))
        self.client = client
        self.starts += 1

    def alive(self) -> bool:
        c = self.client
        return c is not None and c._server is not None and c._server.returncode is None

    async def stop(self) -> None:
        client, self.client = self.client, None
        if client is None:
            return
        try:
            if client._server is not None and client._server.returncode is None:
                await asyncio.wait_for(client.shutdown_session(), 20)
        except Exception:  # noqa: BLE001 - a dead server is stopped below regardless
            pass
        finally:
            try:
                await asyncio.wait_for(client.stop(), 20)
            except Exception:  # noqa: BLE001
                if client._server is not None and client._server.returncode is None:
                    client._server.kill()
            self._stderr_task.cancel()

    async def run(self, action: str, path: Path, text: str, language: str, line: int,
                  character: int) -> CommandOutcome:
        """didOpen, executeCommand at (line, character), didClose."""
        if not self.alive():
            await self.stop()
            await self.start()
        client = self.client
        assert client is not None
        self.version += 1
        uri = path.as_uri()
        client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id=LANGUAGE_IDS[language],
                                                 version=self.version, text=text)))
        arg = {"textDocument": {"uri": uri, "version": self.version},
               "range": {"start": {"line": line, "character": character},
                         "end": {"line": line, "character": character}}}
        params = types.ExecuteCommandParams(command=COMMANDS[action], arguments=[arg])
        self._applied.clear()
        start = time.perf_counter()
        msg_id = f"bench-{uuid.uuid4()}"
        future = asyncio.wrap_future(client.protocol.send_request(
            types.WORKSPACE_EXECUTE_COMMAND, params, msg_id=msg_id))
        done, _ = await asyncio.wait({future}, timeout=self.command_timeout)
        if not done:
            # Too slow: cancel it the way an editor does; a server that does not answer
            # even that is replaced for the next case.
            client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id=msg_id))
            done, _ = await asyncio.wait({future}, timeout=30)
            outcome = CommandOutcome("timeout", error=f"no answer in {self.command_timeout} s"
                                     + ("" if done else "; no answer to $/cancelRequest either"))
            if done:
                future.exception()  # retrieved: the expected RequestCancelled
            else:
                await self.stop()
        else:
            try:
                outcome = CommandOutcome("ok", result=future.result())
            except Exception as exc:  # noqa: BLE001 - JSON-RPC errors and dead servers alike
                if self.alive():
                    outcome = CommandOutcome("refused", error=str(exc))
                else:
                    outcome = CommandOutcome("crash", error=f"the server died: {exc}")
        outcome.seconds = time.perf_counter() - start
        outcome.applied_edits = list(self._applied)
        if self.alive() and self.client is not None:
            self.client.text_document_did_close(types.DidCloseTextDocumentParams(
                text_document=types.TextDocumentIdentifier(uri=uri)))
        return outcome


def _utf16_index(line: str, character: int) -> int:
    """The str index of a UTF-16 column in one line."""
    units = 0
    for i, ch in enumerate(line):
        if units >= character:
            return i
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(line)


def _offset(lines: list[str], line: int, character: int) -> int:
    if line >= len(lines):
        return sum(len(x) for x in lines)
    return sum(len(x) for x in lines[:line]) + _utf16_index(lines[line], character)


def edits_for(workspace_edit: dict, uri: str) -> list[dict]:
    if workspace_edit.get("documentChanges"):
        return [e for dc in workspace_edit["documentChanges"]
                if dc.get("textDocument", {}).get("uri") == uri for e in dc.get("edits", [])]
    return (workspace_edit.get("changes") or {}).get(uri, [])


def apply_text_edits(text: str, edits: list[dict]) -> str:
    """Apply LSP text edits (UTF-16 positions, as negotiated by VS Code) to a text."""
    lines = text.splitlines(keepends=True)
    spans = []
    for e in edits:
        r = e["range"]
        spans.append((_offset(lines, r["start"]["line"], r["start"]["character"]),
                      _offset(lines, r["end"]["line"], r["end"]["character"]), e["newText"]))
    for start, end, new in sorted(spans, reverse=True):
        text = text[:start] + new + text[end:]
    return text
