"""Client-side helpers for the end-to-end tests."""

from __future__ import annotations

import asyncio
import time
import types as pytypes
from pathlib import Path

import psutil
from lsprotocol import types
from pytest_lsp import LanguageClient


def install_apply_edit_handler(client: LanguageClient) -> None:
    """pytest-lsp has no workspace/applyEdit handler: record edits and accept them."""
    client.applied_edits = []  # type: ignore[attr-defined]

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        client.applied_edits.append(params)  # type: ignore[attr-defined]
        return types.ApplyWorkspaceEditResult(applied=True)


def open_document(client: LanguageClient, path: Path, language_id: str, version: int = 1,
                  text: str | None = None) -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(
            uri=uri, language_id=language_id, version=version,
            text=path.read_text() if text is None else text)))
    return uri


def argument(uri: str, line: int, character: int = 0, version: int | None = None,
             end: tuple[int, int] | None = None) -> dict:
    end_line, end_char = end or (line, character)
    doc: dict = {"uri": uri}
    if version is not None:
        doc["version"] = version
    return {"textDocument": doc,
            "range": {"start": {"line": line, "character": character},
                      "end": {"line": end_line, "character": end_char}}}


async def execute(client: LanguageClient, command: str, arg: dict, msg_id: str | None = None,
                  work_done_token: str | None = None):
    """Send workspace/executeCommand (optionally under a chosen request id and with the
    client's own progress token)."""
    params = types.ExecuteCommandParams(command=command, arguments=[arg],
                                        work_done_token=work_done_token)
    future = client.protocol.send_request(types.WORKSPACE_EXECUTE_COMMAND, params,
                                          msg_id=msg_id)
    return await asyncio.wrap_future(future)


def _offset(lines: list[str], line: int, character: int) -> int:
    """UTF-16 position -> index into the joined text (tests use BMP text only)."""
    return sum(len(x) for x in lines[:line]) + character


def apply_text_edits(text: str, edits: list[dict]) -> str:
    """Apply the raw JSON text edits of a WorkspaceEdit to a text."""
    lines = text.splitlines(keepends=True)
    spans = []
    for e in edits:
        r = e["range"]
        spans.append((_offset(lines, r["start"]["line"], r["start"]["character"]),
                      _offset(lines, r["end"]["line"], r["end"]["character"]), e["newText"]))
    for start, end, new in sorted(spans, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def edits_of(result: dict, uri: str) -> list[dict]:
    edit = result["edit"]
    if edit.get("documentChanges"):
        return [e for dc in edit["documentChanges"] if dc["textDocument"]["uri"] == uri
                for e in dc["edits"]]
    return edit.get("changes", {}).get(uri, [])


def server_process(client: LanguageClient) -> psutil.Process:
    return psutil.Process(client._server.pid)  # type: ignore[union-attr]


def cpu_percent_over(process: psutil.Process, seconds: float) -> float:
    """Average CPU use (100 = one core busy) of the process and its threads."""
    before = process.cpu_times()
    start = time.monotonic()
    time.sleep(seconds)
    after = process.cpu_times()
    used = (after.user - before.user) + (after.system - before.system)
    return 100.0 * used / (time.monotonic() - start)


async def code_actions_raw(client: LanguageClient, uri: str, start: tuple[int, int],
                           end: tuple[int, int] | None = None) -> list[dict]:
    """textDocument/codeAction, answered as raw JSON.

    lsprotocol 2025 decodes a CodeAction that carries a command as a Command on the
    client side; the wire JSON is right, so the tests read that.
    """
    end = end or start
    params = types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=types.Position(line=start[0], character=start[1]),
                          end=types.Position(line=end[0], character=end[1])),
        context=types.CodeActionContext(diagnostics=[]))
    msg_id = f"code-action-{time.monotonic_ns()}"
    future = client.protocol.send_request(types.TEXT_DOCUMENT_CODE_ACTION, params,
                                          msg_id=msg_id)
    client.protocol._result_types[msg_id] = None  # keep the result as raw JSON
    return await asyncio.wrap_future(future) or []


# A function with its own tests, refactored by both backends' e2e tests.
WORDS_FIXTURE = '''\
"""Word statistics."""


def count_words(text, ignore=()):
    """Count how often each word occurs, case-insensitively."""
    counts = {}
    for word in text.split():
        word = word.strip(".,;:!?").lower()
        if word == "" or word in ignore:
            continue
        if word in counts:
            counts[word] = counts[word] + 1
        else:
            counts[word] = 1
    return counts


def most_common(text):
    counts = count_words(text)
    return max(counts, key=counts.get) if counts else None
'''


def check_count_words(module: pytypes.ModuleType) -> None:
    """count_words' own tests."""
    assert module.count_words("") == {}
    assert module.count_words("A a b. B! c", ignore=("c",)) == {"a": 2, "b": 2}
    assert module.count_words("Hi, hi; HI? ...") == {"hi": 3}
    assert module.most_common("x y y") == "y"


def load_module(code: str) -> pytypes.ModuleType:
    """The code run as a fresh module."""
    module = pytypes.ModuleType("rewritten")
    exec(compile(code, "rewritten.py", "exec"), module.__dict__)
    return module
