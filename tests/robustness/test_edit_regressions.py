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
