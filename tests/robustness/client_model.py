"""The client's side of document sync, written from the LSP specification alone.

An editor holds a string; an LSP position is (line, character) where lines end at
"\\r\\n", "\\n" or "\\r" and ``character`` counts code units of the negotiated encoding
(UTF-16 by default: a character above U+FFFF is two units, a lone surrogate one).
A character past the end of its line means the end of the line; a line past the last
means the end of the document. Nothing here shares code with the server.
"""

from __future__ import annotations

import re

_BREAK = re.compile(r"\r\n|\r|\n")


def unit_width(char: str, encoding: str) -> int:
    if encoding == "utf-16":
        return 2 if ord(char) > 0xFFFF else 1
    if encoding == "utf-8":
        return len(char.encode("utf-8", "surrogatepass"))
    return 1


def line_starts(text: str) -> list[int]:
    return [0] + [m.end() for m in _BREAK.finditer(text)]


def _line_end(text: str, start: int) -> int:
    match = _BREAK.search(text, start)
    return len(text) if match is None else match.start()


def index_of(text: str, line: int, character: int, encoding: str = "utf-16") -> int:
    """The string index of an LSP position (clamped as the specification says)."""
    starts = line_starts(text)
    if line >= len(starts):
        return len(text)
    index, end, units = starts[line], _line_end(text, starts[line]), 0
    while index < end:
        width = unit_width(text[index], encoding)
        if units + width > character:
            break
        units += width
        index += 1
    return index


def position_at(text: str, index: int, encoding: str = "utf-16") -> tuple[int, int]:
    """The LSP position of a string index (an index inside a line break: its line's end)."""
    starts = line_starts(text)
    line = max(i for i, s in enumerate(starts) if s <= index)
    start = starts[line]
    index = min(index, _line_end(text, start))
    return line, sum(unit_width(c, encoding) for c in text[start:index])


def apply_change(text: str, change: dict, encoding: str = "utf-16") -> str:
    """One TextDocumentContentChangeEvent (or TextEdit: ``newText``) applied to ``text``."""
    new = change["text"] if "text" in change else change["newText"]
    rng = change.get("range")
    if rng is None:
        return new
    a = index_of(text, rng["start"]["line"], rng["start"]["character"], encoding)
    b = index_of(text, rng["end"]["line"], rng["end"]["character"], encoding)
    return text[:a] + new + text[max(a, b):]


def apply_text_edits(text: str, edits: list[dict], encoding: str = "utf-16") -> str:
    """TextEdits of one WorkspaceEdit: all ranges refer to the text before any of them."""
    spans = []
    for edit in edits:
        rng = edit["range"]
        a = index_of(text, rng["start"]["line"], rng["start"]["character"], encoding)
        b = index_of(text, rng["end"]["line"], rng["end"]["character"], encoding)
        spans.append((a, b, edit["newText"]))
    spans.sort(key=lambda s: (s[0], s[1]))
    for (_, b, _), (a2, _, _) in zip(spans, spans[1:], strict=False):
        assert b <= a2, f"overlapping edits: {spans}"
    for a, b, new in reversed(spans):
        text = text[:a] + new + text[b:]
    return text


def over_json(text: str) -> str:
    """The string as it arrives through JSON: "\\ud83d\\ude00" escapes become one
    character, as in the client's own UTF-16 string; lone surrogates stay."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def wire_bytes(text: str) -> bytes:
    """How the server stores a client string (lone surrogates kept, 3 bytes each)."""
    return text.encode("utf-8", "surrogatepass")
