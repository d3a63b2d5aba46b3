"""Regression tests for what the edit-sequence fuzzer found in qwen_lsp/edits.py."""

from __future__ import annotations

import pytest

from qwen_lsp.documents import OpenDocument
from qwen_lsp.edits import byte_offset, position_of
from tests.robustness import client_model as client


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_deleting_a_lone_surrogate_the_client_sent_leaves_no_stray_bytes(encoding):
    # JSON allows "\ud800"; the server keeps it as 3 bytes, the client counts 1 unit
    doc = OpenDocument.open("file:///t.py", "/t.py", "python", 1, "a\ud800b = 1\n", 10**6)
    doc.change(2, [((0, 1, 0, 2), "")], encoding)
    assert doc.text == b"ab = 1\n"
    assert doc.syntax is not None and not doc.syntax.tree.root_node.has_error


def test_a_lone_surrogate_is_one_utf16_unit_both_ways():
    text = "x\udc80y😀z"
    source = client.wire_bytes(text)
    for index in range(len(text) + 1):
        offset = len(client.wire_bytes(text[:index]))
        line, character = client.position_at(text, index)
        assert position_of(source, offset, "utf-16") == (line, character)
        assert byte_offset(source, line, character, "utf-16") == offset


def test_other_invalid_bytes_still_count_one_unit_each():
    source = b"a\xff\xfeb\n"
    assert byte_offset(source, 0, 3, "utf-16") == 3
    assert position_of(source, 3, "utf-16") == (0, 3)


def test_an_edit_that_brings_a_lone_high_and_low_surrogate_together_makes_one_character():
    doc = OpenDocument.open("file:///t.py", "/t.py", "python", 1, "s = '\ud83d'\n", 10**6)
    doc.change(2, [((0, 6, 0, 6), "\ude00")], "utf-16")  # after the high surrogate
    assert doc.text == "s = '😀'\n".encode()
    assert position_of(doc.text, len(doc.text) - 2, "utf-16") == (0, 7)  # the pair: 2 units
    doc.change(3, [((0, 5, 0, 7), "\ud83d!")], "utf-16")  # replace the pair, keep a high
    doc.change(4, [((0, 6, 0, 7), "")], "utf-16")  # delete "!": high meets "'"
    assert doc.text == "s = '\ud83d'\n".encode("utf-8", "surrogatepass")


@pytest.mark.parametrize("language_id", [42, None, 1.5, ["python"]])
def test_a_language_id_that_is_not_a_string_opens_the_document_as_unknown(language_id):
    # found by the protocol fuzzer: language_for() called .lower() on an int
    doc = OpenDocument.open("file:///t.py", "/t.py", language_id, 1, "x = 1\n", 10**6)
    assert doc.text == b"x = 1\n"
    assert doc.spec is not None and doc.spec.name == "python"  # from the extension
