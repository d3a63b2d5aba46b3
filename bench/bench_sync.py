"""Document sync: one keystroke applied incrementally vs a full reparse, in-process."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bench_fixtures import large_python_file, typing_spots

from qwen_lsp.documents import OpenDocument
from qwen_lsp.syntax.document import SyntaxDocument

MAX_FILE_BYTES = 5_000_000
WARMUP_KEYSTROKES = 5


@dataclass
class SyncResult:
    lines: int
    size_bytes: int
    keystrokes: int
    incremental: list[float]  # seconds per keystroke: OpenDocument.change (UTF-16 range)
    full: list[float]  # seconds per keystroke: SyntaxDocument(spec, new_bytes) from scratch
    trees_match: bool  # the incrementally kept tree equals a fresh parse at the end
    text_matches: bool


def _insert(lines: list[str], line: int, column16: int, char: str) -> None:
    """Insert ``char`` at a UTF-16 column (BMP text only, as the fixture is)."""
    text = lines[line]
    lines[line] = text[:column16] + char + text[column16:]


def run_sync_bench(keystrokes: int, lines: int = 5000) -> SyncResult:
    text = large_python_file(lines)
    spots = typing_spots(text)
    uri = "file:///bench/large.py"
    doc = OpenDocument.open(uri, "/bench/large.py", "python", 0, text, MAX_FILE_BYTES)
    assert doc.syntax is not None and doc.spec is not None
    spec = doc.spec
    current = text.splitlines(keepends=True)
    incremental: list[float] = []
    full: list[float] = []
    total = WARMUP_KEYSTROKES + keystrokes
    for k in range(total):
        line, column = spots[(k * 7919) % len(spots)]
        char = "xyz"[k % 3]
        _insert(current, line, column, char)
        new_bytes = "".join(current).encode("utf-8")

        started = time.perf_counter()
        doc.change(k + 1, [((line, column, line, column), char)], "utf-16")
        incremental_seconds = time.perf_counter() - started

        started = time.perf_counter()
        SyntaxDocument(spec, new_bytes)
        full_seconds = time.perf_counter() - started

        if k >= WARMUP_KEYSTROKES:
            incremental.append(incremental_seconds)
            full.append(full_seconds)
    final = "".join(current).encode("utf-8")
    fresh = SyntaxDocument(spec, final)
    assert doc.syntax is not None
    return SyncResult(
        lines=lines, size_bytes=len(text.encode("utf-8")), keystrokes=keystrokes,
        incremental=incremental, full=full,
        trees_match=str(doc.syntax.tree.root_node) == str(fresh.tree.root_node),
        text_matches=doc.text == final,
    )
