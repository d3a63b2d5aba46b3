"""Positions and edits: LSP (line, character) <-> UTF-8 byte offsets, line diffs -> edits.

Inside the project every span is a pair of byte offsets into the UTF-8 source. LSP
positions count ``character`` in code units of the negotiated encoding ("utf-16" unless
the client asked for "utf-8" or "utf-32"). Lines end at "\\r\\n", "\\n" or a lone "\\r",
each one break. Out-of-range positions clamp (LSP semantics): a character past the end
of its line means the end of that line (before the break), a line past the last one
means the end of the source. Everything here works on one line at a time and never
decodes the whole file, because it runs on every keystroke.

Source bytes that are not valid UTF-8 count as follows, so conversions stay
invertible: a lone surrogate a client sent (JSON allows "\\ud800"; the server keeps it
as its 3-byte "surrogatepass" form) is one character, one UTF-16 unit, as in the
client's string; any other bad byte (a file read from disk) is one character on its
own, one code unit in every encoding.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass

ENCODINGS = ("utf-8", "utf-16", "utf-32")

_BREAK = re.compile(rb"\r\n|\r|\n")
_LONE_CR = re.compile(rb"\r(?!\n)")
_DIFF_LINE = re.compile(r"[^\n]*\n|[^\n]+")  # `diff` splits at "\n" only
# one character of text that may not be valid UTF-8: a well-formed sequence, an encoded
# surrogate (ED A0..BF xx), or else a single bad byte
_CHAR = re.compile(
    rb"[\x00-\x7f]|[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]"
    rb"|[\xe1-\xef][\x80-\xbf]{2}|\xf0[\x90-\xbf][\x80-\xbf]{2}"
    rb"|[\xf1-\xf3][\x80-\xbf]{3}|\xf4[\x80-\x8f][\x80-\xbf]{2}|.",
    re.S,
)


@dataclass(frozen=True)
class TextEdit:
    """Replace ``source[start_byte:end_byte]`` with ``new_text``."""

    start_byte: int
    end_byte: int
    new_text: str


def _check_encoding(encoding: str) -> None:
    if encoding not in ENCODINGS:
        raise ValueError(f"unknown position encoding {encoding!r}; expected one of {ENCODINGS}")


def _line_start(source: bytes, line: int) -> int | None:
    """Offset where ``line`` starts, counting lines at "\\n" only (None: no such line)."""
    if line == 0:
        return 0
    parts = source.split(b"\n", line)  # C speed; cheaper than a find() loop in Python
    return None if len(parts) <= line else len(source) - len(parts[-1])


def _line_span(source: bytes, line: int) -> tuple[int, int] | None:
    """(start, end) of ``line`` without its break, or None when there is no such line."""
    start = _line_start(source, line)
    if b"\r" in source and (start is None or _LONE_CR.search(source, 0, start)):
        return _line_span_slow(source, line)  # old Mac line ends: rare
    if start is None:
        return None
    end = source.find(b"\n", start)
    if end < 0:
        end = len(source)
    cr = source.find(b"\r", start, end)
    return start, (end if cr < 0 else cr)


def _line_span_slow(source: bytes, line: int) -> tuple[int, int] | None:
    start = 0
    for _ in range(line):
        match = _BREAK.search(source, start)
        if match is None:
            return None
        start = match.end()
    match = _BREAK.search(source, start)
    return start, (len(source) if match is None else match.start())


def _char_start(source: bytes, offset: int, floor: int) -> int:
    """Move ``offset`` back to the first byte of the UTF-8 character it points into."""
    while offset > floor and offset < len(source) and source[offset] & 0xC0 == 0x80:
        offset -= 1
    return offset


def _units(char: bytes, encoding: str) -> int:
    """Code units of one character matched by ``_CHAR``, in "utf-16" or "utf-32"."""
    return 2 if encoding == "utf-16" and len(char) == 4 else 1


def _offset_by_walk(text: bytes, character: int, encoding: str) -> int:
    """Bytes of ``text`` covered by its first ``character`` code units (text not UTF-8)."""
    units = offset = 0
    for match in _CHAR.finditer(text):
        units += _units(match.group(), encoding)
        if units > character:
            break
        offset = match.end()
    return offset


def _count_by_walk(text: bytes, encoding: str) -> int:
    return sum(_units(match.group(), encoding) for match in _CHAR.finditer(text))


def byte_offset(source: bytes, line: int, character: int, encoding: str) -> int:
    """The byte offset in ``source`` of the LSP position (line, character).

    ``character`` counts code units of ``encoding`` ("utf-8", "utf-16" or "utf-32").
    Past-end characters clamp to the end of the line, past-end lines to ``len(source)``,
    negative values to 0. A position inside a character (the middle of a surrogate pair
    in UTF-16, of a multi-byte sequence in UTF-8) rounds down to that character's start.
    """
    _check_encoding(encoding)
    span = _line_span(source, max(line, 0))
    if span is None:
        return len(source)
    start, end = span
    character = max(character, 0)
    if encoding == "utf-8":
        return _char_start(source, min(start + character, end), start)
    text = source[start:end]
    if text.isascii():
        return start + min(character, len(text))
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError:
        return start + _offset_by_walk(text, character, encoding)
    if encoding == "utf-32":
        return start + len(decoded[:character].encode("utf-8"))
    units = decoded.encode("utf-16-le")[: 2 * character]
    if len(units) >= 2 and 0xD8 <= units[-1] <= 0xDB:  # a high surrogate cut from its pair
        units = units[:-2]
    return start + len(units.decode("utf-16-le").encode("utf-8"))


def position_of(source: bytes, offset: int, encoding: str) -> tuple[int, int]:
    """The LSP position (line, character) of byte ``offset`` in ``source``.

    Offsets clamp to ``[0, len(source)]``; an offset inside a character rounds down to
    its start, one between "\\r" and "\\n" to the end of that line.
    """
    _check_encoding(encoding)
    offset = min(max(offset, 0), len(source))
    if 0 < offset < len(source) and source[offset - 1 : offset + 1] == b"\r\n":
        offset -= 1
    if b"\r" in source and _LONE_CR.search(source, 0, min(offset + 1, len(source))):
        line = (
            source.count(b"\n", 0, offset)
            + source.count(b"\r", 0, offset)
            - source.count(b"\r\n", 0, offset)
        )
        start = max(source.rfind(b"\n", 0, offset), source.rfind(b"\r", 0, offset)) + 1
    else:
        line = source.count(b"\n", 0, offset)
        start = source.rfind(b"\n", 0, offset) + 1
    offset = _char_start(source, offset, start)
    text = source[start:offset]
    if encoding == "utf-8" or text.isascii():
        return line, len(text)
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError:
        return line, _count_by_walk(text, encoding)
    if encoding == "utf-32":
        return line, len(decoded)
    return line, len(decoded.encode("utf-16-le")) // 2


def line_diff_edits(source: bytes, start_byte: int, end_byte: int, new_text: str) -> list[TextEdit]:
    """Minimal line-level edits turning ``source[start_byte:end_byte]`` into ``new_text``.

    One edit per changed hunk (difflib over lines, line breaks included), each with its
    byte range in the original ``source``; unchanged lines are left alone so the
    editor keeps cursors, folds and marks there. ``apply_edits(source, edits)`` gives
    ``source[:start_byte] + new_text.encode() + source[end_byte:]``.
    """
    if not 0 <= start_byte <= end_byte <= len(source):
        raise ValueError(f"bad range {start_byte}..{end_byte} for a source of {len(source)} bytes")
    old_lines = source[start_byte:end_byte].splitlines(keepends=True)
    new_lines = new_text.encode("utf-8").splitlines(keepends=True)
    offsets = [start_byte]
    for old_line in old_lines:
        offsets.append(offsets[-1] + len(old_line))
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    return [
        TextEdit(offsets[i1], offsets[i2], b"".join(new_lines[j1:j2]).decode("utf-8"))
        for tag, i1, i2, j1, j2 in matcher.get_opcodes()
        if tag != "equal"
    ]


def apply_edits(source: bytes, edits: Iterable[TextEdit]) -> bytes:
    """Apply non-overlapping ``edits`` (in any order) to ``source``.

    Edits may touch but not overlap; inserts at the same offset keep their given order
    (as in LSP). Raises ValueError for an overlap or a range outside ``source``.
    """
    ordered = sorted(
        enumerate(edits), key=lambda item: (item[1].start_byte, item[1].end_byte, item[0])
    )
    pieces: list[bytes] = []
    position = 0
    for _, edit in ordered:
        if not 0 <= edit.start_byte <= edit.end_byte <= len(source):
            raise ValueError(f"edit {edit} lies outside a source of {len(source)} bytes")
        if edit.start_byte < position:
            raise ValueError(f"edit {edit} overlaps an earlier edit ending at byte {position}")
        pieces.append(source[position : edit.start_byte])
        pieces.append(edit.new_text.encode("utf-8"))
        position = edit.end_byte
    pieces.append(source[position:])
    return b"".join(pieces)


def _text_lines(data: bytes) -> list[str]:
    return _DIFF_LINE.findall(data.decode("utf-8", "replace"))


def unified_diff(path: str, old: bytes, new: bytes, context: int = 3) -> str:
    """``diff -u`` of old -> new with a/ and b/ prefixes; "" when they are equal.

    A last line without a line break is marked "\\ No newline at end of file" as
    ``diff`` and ``git apply`` expect. Undecodable bytes show as U+FFFD.
    """
    if old == new:
        return ""
    name = path.lstrip("/")
    lines = difflib.unified_diff(
        _text_lines(old), _text_lines(new), f"a/{name}", f"b/{name}", n=context
    )
    out: list[str] = []
    for line in lines:
        if line.endswith("\n"):
            out.append(line)
        else:
            out.append(line + "\n\\ No newline at end of file\n")
    return "".join(out)
