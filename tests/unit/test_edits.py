"""Positions (UTF-8/16/32 <-> byte offsets), line-diff edits, applying edits, unified diffs."""

from __future__ import annotations

import random
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from qwen_lsp.edits import (
    TextEdit,
    apply_edits,
    byte_offset,
    line_diff_edits,
    position_of,
    unified_diff,
)

ENCODINGS = ("utf-8", "utf-16", "utf-32")

# 'é' = 2 bytes / 1 UTF-16 unit, '中' = 3 bytes / 1 unit, '😀' = 4 bytes / 2 units (a pair)
MIXED = "def café():\n    return '中文'  # 😀 ok\r\n\tx = '😀😀'\rlast"


def _units(text: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-16":
        return len(text.encode("utf-16-le")) // 2
    return len(text)


def _reference_offset(source: bytes, line: int, character: int, encoding: str) -> int:
    """Slow but obviously right: decode everything, walk characters."""
    text = source.decode("utf-8")
    lines = re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", text) or [""]
    if re.search(r"(\r\n|\r|\n)$", text) or not text:
        lines.append("")
    if line >= len(lines):
        return len(source)
    before = "".join(lines[:line])
    content = re.sub(r"(\r\n|\r|\n)$", "", lines[line])
    taken = ""
    for char in content:
        if _units(taken + char, encoding) > character:
            break
        taken += char
    return len((before + taken).encode("utf-8"))


def _char_boundaries(source: bytes) -> list[int]:
    return [i for i in range(len(source) + 1) if i == len(source) or source[i] & 0xC0 != 0x80]


# -- byte_offset ----------------------------------------------------------------------


def test_utf16_counts_a_surrogate_pair_as_two_units_and_four_bytes() -> None:
    source = "a😀b\n".encode()
    assert byte_offset(source, 0, 1, "utf-16") == 1
    assert byte_offset(source, 0, 3, "utf-16") == 5  # after the pair
    assert byte_offset(source, 0, 4, "utf-16") == 6  # after 'b'
    assert byte_offset(source, 0, 2, "utf-32") == 5
    assert byte_offset(source, 0, 5, "utf-8") == 5


def test_position_inside_a_surrogate_pair_rounds_down_to_the_character() -> None:
    source = "a😀b".encode()
    assert byte_offset(source, 0, 2, "utf-16") == 1


def test_utf8_column_inside_a_multibyte_character_rounds_down() -> None:
    source = "é中😀".encode()
    assert byte_offset(source, 0, 1, "utf-8") == 0
    assert byte_offset(source, 0, 3, "utf-8") == 2
    assert byte_offset(source, 0, 4, "utf-8") == 2
    assert byte_offset(source, 0, 7, "utf-8") == 5


@pytest.mark.parametrize(
    ("encoding", "character", "expected"),
    [
        ("utf-16", 1, 2),  # after 'é'
        ("utf-16", 2, 5),  # after '中'
        ("utf-16", 4, 9),  # after '😀'
        ("utf-8", 9, 9),
        ("utf-32", 3, 9),
    ],
)
def test_non_ascii_columns_per_encoding(encoding: str, character: int, expected: int) -> None:
    assert byte_offset("é中😀x\n".encode(), 0, character, encoding) == expected


def test_crlf_is_one_line_break() -> None:
    source = b"ab\r\ncd\r\nef"
    assert byte_offset(source, 1, 0, "utf-16") == 4
    assert byte_offset(source, 2, 1, "utf-16") == 9
    assert position_of(source, 9, "utf-16") == (2, 1)


def test_lone_cr_and_lf_are_line_breaks() -> None:
    source = b"a\rb\nc\r\nd"
    assert [byte_offset(source, n, 0, "utf-8") for n in range(4)] == [0, 2, 4, 7]
    assert [position_of(source, o, "utf-8")[0] for o in (0, 2, 4, 7)] == [0, 1, 2, 3]


def test_character_past_line_end_clamps_before_the_break() -> None:
    assert byte_offset(b"ab\r\ncd", 0, 99, "utf-16") == 2
    assert byte_offset(b"ab\ncd", 0, 99, "utf-8") == 2
    assert byte_offset("é😀\nx".encode(), 0, 99, "utf-16") == 6
    assert byte_offset(b"ab\ncd", 1, 99, "utf-32") == 5


def test_line_past_end_clamps_to_source_length() -> None:
    assert byte_offset(b"ab\ncd", 2, 0, "utf-16") == 5
    assert byte_offset(b"ab\n", 1, 0, "utf-16") == 3  # the empty last line exists
    assert byte_offset(b"ab\n", 7, 3, "utf-16") == 3
    assert byte_offset(b"", 0, 5, "utf-16") == 0


def test_negative_positions_clamp_to_zero() -> None:
    assert byte_offset(b"ab\ncd", -1, -5, "utf-16") == 0
    assert position_of(b"ab", -3, "utf-16") == (0, 0)


def test_unknown_encoding_is_rejected() -> None:
    with pytest.raises(ValueError, match="utf-16"):
        byte_offset(b"x", 0, 0, "latin-1")
    with pytest.raises(ValueError):
        position_of(b"x", 0, "ucs-2")


# -- position_of ----------------------------------------------------------------------


def test_position_of_counts_code_units_of_the_encoding() -> None:
    source = "x\né中😀!".encode()
    end = len(source) - 1  # before '!'
    assert position_of(source, end, "utf-8") == (1, 9)
    assert position_of(source, end, "utf-16") == (1, 4)
    assert position_of(source, end, "utf-32") == (1, 3)


def test_position_of_inside_a_character_or_a_crlf_rounds_down() -> None:
    source = "a😀\r\nb".encode()
    assert position_of(source, 3, "utf-16") == (0, 1)  # inside the emoji
    assert position_of(source, 6, "utf-16") == (0, 3)  # between \r and \n
    assert position_of(source, 7, "utf-16") == (1, 0)
    assert position_of(source, 99, "utf-16") == (1, 1)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_round_trip_at_every_character_boundary(encoding: str) -> None:
    source = MIXED.encode()
    for offset in _char_boundaries(source):
        if source[offset - 1 : offset + 1] == b"\r\n":
            continue  # between \r and \n is not a position
        line, character = position_of(source, offset, encoding)
        assert byte_offset(source, line, character, encoding) == offset


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_byte_offset_matches_a_reference_on_random_text(encoding: str) -> None:
    rng = random.Random(1234)
    alphabet = ["a", "b", " ", "é", "中", "😀", "\n", "\r\n", "\r", "\t"]
    for _ in range(200):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 30)))
        source = text.encode()
        for _ in range(10):
            line, character = rng.randrange(0, 8), rng.randrange(0, 12)
            expected = _reference_offset(source, line, character, encoding)
            assert byte_offset(source, line, character, encoding) == expected, (text, line)
            if line <= text.count("\n") + text.count("\r") - text.count("\r\n"):
                got = position_of(source, expected, encoding)
                assert byte_offset(source, *got, encoding) == expected


def test_invalid_utf8_counts_one_unit_per_bad_byte_and_round_trips() -> None:
    source = b"a\xff\xfeb\n"
    assert byte_offset(source, 0, 3, "utf-16") == 3
    for offset in range(5):
        assert byte_offset(source, *position_of(source, offset, "utf-16"), "utf-16") == offset


def test_conversions_are_fast_on_a_5000_line_file() -> None:
    line = "    value = compute('données', 中文, 😀)  # comment\n"
    for ending in ("\n", "\r\n"):
        source = "".join(line.replace("\n", ending) for _ in range(5000)).encode()
        best = float("inf")
        for _ in range(5):
            started = time.perf_counter()
            offset = byte_offset(source, 4999, 30, "utf-16")
            position_of(source, offset, "utf-16")
            best = min(best, time.perf_counter() - started)
        assert position_of(source, offset, "utf-16") == (4999, 30)
        assert best < 0.02, f"{best * 1000:.1f} ms for one conversion ({ending!r})"


# -- line_diff_edits / apply_edits --------------------------------------------------------


def test_line_diff_edits_touch_only_changed_lines() -> None:
    source = b"header\ndef f():\n    a = 1\n    b = 2\n    c = 3\nfooter\n"
    start = source.index(b"def")
    end = source.index(b"footer")
    new = "def f():\n    a = 1\n    b = 'é'\n    c = 3\n    d = 4\n"
    edits = line_diff_edits(source, start, end, new)
    b_line = source.index(b"    b = 2")
    c_line = source.index(b"    c = 3")
    assert edits == [
        TextEdit(b_line, c_line, "    b = 'é'\n"),
        TextEdit(end, end, "    d = 4\n"),
    ]
    assert apply_edits(source, edits) == source[:start] + new.encode() + source[end:]


def test_line_diff_edits_of_identical_text_is_empty() -> None:
    source = "x = '😀'\r\ny = 2\r\n".encode()
    assert line_diff_edits(source, 0, len(source), source.decode()) == []


def test_line_diff_edits_rejects_a_bad_range() -> None:
    with pytest.raises(ValueError):
        line_diff_edits(b"abc", 2, 1, "")
    with pytest.raises(ValueError):
        line_diff_edits(b"abc", 0, 4, "")


def _random_text(rng: random.Random) -> str:
    pieces = ["x = 1", "y", "é", "中文", "😀", "    ", "return z", "", "pass"]
    breaks = ["\n", "\n", "\n", "\r\n", "\r"]
    lines = [
        "".join(rng.choice(pieces) for _ in range(rng.randrange(0, 4))) + rng.choice(breaks)
        for _ in range(rng.randrange(0, 12))
    ]
    text = "".join(lines)
    if text and rng.random() < 0.3:  # missing final newline
        text = text.rstrip("\r\n")
    return text


def test_line_diff_edits_reproduce_the_replacement_exactly() -> None:
    rng = random.Random(20240611)
    for _ in range(1500):
        source = _random_text(rng).encode()
        boundaries = _char_boundaries(source)
        start, end = sorted((rng.choice(boundaries), rng.choice(boundaries)))
        old = source[start:end].decode()
        if rng.random() < 0.5:
            old_lines = old.splitlines(keepends=True)
            for _ in range(rng.randrange(1, 4)):  # mutate a few lines of the old text
                position = rng.randrange(0, len(old_lines) + 1)
                action = rng.choice(("insert", "delete", "replace"))
                if action == "insert" or not old_lines:
                    old_lines.insert(position, _random_text(rng) + "\n")
                elif action == "delete":
                    del old_lines[min(position, len(old_lines) - 1)]
                else:
                    old_lines[min(position, len(old_lines) - 1)] = _random_text(rng)
            new = "".join(old_lines)
        else:
            new = _random_text(rng)
        edits = line_diff_edits(source, start, end, new)
        expected = source[:start] + new.encode() + source[end:]
        assert apply_edits(source, edits) == expected, (source, start, end, new)
        assert apply_edits(source, list(reversed(edits))) == expected
        for edit in edits:
            assert start <= edit.start_byte <= edit.end_byte <= end
            assert edit.start_byte != edit.end_byte or edit.new_text
            source[edit.start_byte : edit.end_byte].decode()  # whole characters only


def test_apply_edits_accepts_any_order() -> None:
    source = b"0123456789"
    edits = [TextEdit(8, 9, "é"), TextEdit(0, 2, ""), TextEdit(4, 4, "😀"), TextEdit(2, 4, "ab")]
    assert apply_edits(source, edits) == "ab😀4567é9".encode()


def test_apply_edits_keeps_the_order_of_inserts_at_one_offset() -> None:
    edits = [TextEdit(1, 1, "x"), TextEdit(1, 1, "y"), TextEdit(1, 2, "Z")]
    assert apply_edits(b"abc", edits) == b"axyZc"


def test_apply_edits_rejects_overlaps_and_out_of_range() -> None:
    with pytest.raises(ValueError, match="overlap"):
        apply_edits(b"0123456789", [TextEdit(5, 7, "x"), TextEdit(2, 6, "y")])
    with pytest.raises(ValueError, match="outside"):
        apply_edits(b"0123", [TextEdit(3, 5, "x")])
    assert apply_edits(b"0123", []) == b"0123"


# -- unified_diff -----------------------------------------------------------------------


def test_unified_diff_of_equal_texts_is_empty() -> None:
    assert unified_diff("a.py", b"same\n", b"same\n") == ""


def test_unified_diff_has_diff_u_shape() -> None:
    old = b"a\nb\nc\n"
    new = "a\nbé\nc\n".encode()
    assert unified_diff("src/m.py", old, new) == (
        "--- a/src/m.py\n+++ b/src/m.py\n@@ -1,3 +1,3 @@\n a\n-b\n+bé\n c\n"
    )


def test_unified_diff_marks_a_missing_final_newline() -> None:
    diff = unified_diff("m.py", b"a\nb", b"a\nc\n")
    assert diff == (
        "--- a/m.py\n+++ b/m.py\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n"
    )


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("a\nb\nc\n", "a\nB\nc\n"),
        ("x = 1\r\ny = '😀'\r\n", "x = 1\r\ny = '中'\r\nz = 3\r\n"),
        ("one\ntwo", "one\ntwo\nthree"),
        ("", "new file\n"),
        ("\n".join(str(i) for i in range(30)), "\n".join(str(i) for i in range(1, 31)) + "\n"),
    ],
)
def test_unified_diff_applies_with_git_apply(tmp_path: Path, old: str, new: str) -> None:
    target = tmp_path / "pkg" / "m.py"
    target.parent.mkdir()
    target.write_bytes(old.encode())
    patch = tmp_path / "change.diff"
    patch.write_bytes(unified_diff("pkg/m.py", old.encode(), new.encode()).encode())
    subprocess.run(["git", "apply", str(patch)], cwd=tmp_path, check=True, capture_output=True)
    assert target.read_bytes() == new.encode()
