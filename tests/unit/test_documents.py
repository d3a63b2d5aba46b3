"""OpenDocument: LSP content changes (UTF-16 or UTF-8 positions) applied in order."""

import random

from qwen_lsp.documents import OpenDocument
from qwen_lsp.edits import position_of
from qwen_lsp.syntax.document import SyntaxDocument

TEXT = 'def café(x):\n    """😀 émoji"""\n    return x + 1\n\n\nclass K:\n    pass\n'


def _random_changes(doc_text: bytes, rng: random.Random, encoding: str):
    text = doc_text.decode()
    # pick character boundaries, convert to LSP positions in the given encoding
    a, b = sorted(rng.randrange(0, len(text) + 1) for _ in range(2))
    start = len(text[:a].encode())
    end = len(text[:b].encode())
    l0, c0 = position_of(doc_text, start, encoding)
    l1, c1 = position_of(doc_text, end, encoding)
    new = rng.choice(["", "x", "é", "😀", "\n    y = 2\n", "def g():\n    pass\n", "("])
    expected = text[:a] + new + text[b:]
    return (l0, c0, l1, c1), new, expected


def test_incremental_changes_match_a_fresh_parse_in_utf16_and_utf8():
    for encoding in ("utf-16", "utf-8"):
        rng = random.Random(7)
        doc = OpenDocument.open("file:///t.py", "/t.py", "python", 1, TEXT, 5_000_000)
        for version in range(2, 80):
            rng_tuple, new, expected = _random_changes(doc.text, rng, encoding)
            doc.change(version, [(rng_tuple, new)], encoding)
            assert doc.text.decode() == expected
            fresh = SyntaxDocument(doc.spec, doc.text)
            assert str(doc.syntax.tree.root_node) == str(fresh.tree.root_node)
        assert doc.version == 79


def test_several_changes_in_one_notification_apply_in_order():
    doc = OpenDocument.open("file:///t.py", "/t.py", "python", 1, "a\nb\n", 5_000_000)
    doc.change(2, [((0, 0, 0, 1), "x = 1"), ((1, 0, 1, 1), "y = x")], "utf-16")
    assert doc.text == b"x = 1\ny = x\n"
    doc.change(3, [(None, "z = 3\n")], "utf-16")
    assert doc.text == b"z = 3\n" and doc.syntax is not None


def test_unknown_binary_and_huge_files_are_not_parsed_but_kept():
    doc = OpenDocument.open("file:///t.cob", "/t.cob", "cobol", 1, "MOVE A TO B.", 5_000_000)
    assert doc.syntax is None and "not parsed" in doc.parse_skipped_reason
    doc = OpenDocument.open("file:///b.py", "/b.py", "python", 1, "x = '\0'", 5_000_000)
    assert doc.syntax is None and "NUL" in doc.parse_skipped_reason
    doc = OpenDocument.open("file:///h.py", "/h.py", "python", 1, "x = 1\n" * 400, 1_000)
    assert doc.syntax is None and "maxFileBytes" in doc.parse_skipped_reason
    doc.change(2, [(None, "x = 1\n")], "utf-16")
    assert doc.syntax is not None  # small again: parsed again
