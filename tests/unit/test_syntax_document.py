import random

import pytest

from qwen_lsp.syntax.document import SyntaxDocument, point_at
from qwen_lsp.syntax.languages import new_parser, spec_named

PYTHON = """import os

class Café(Base):
    \"\"\"Dokumentation – 😀\"\"\"

    def méthode(self, x):
        return x + "é"


async def main():
    await run("😀")
"""

JAVASCRIPT = """const é = "😀";
class A {
  async m(x) { return 'é' + x; }
}
function f(a, b) {
  return a + b;
}
"""

GO = """package main

func f(s string) string {
	return s + "é😀"
}
"""

PIECES = ["é", "😀", "\n", "x", "def ", "(", ")", ":", "    ", "return 1\n", '"', "#", "{", "}",
          ";", "\n\n", "é😀é", "\r\n"]


def nodes(tree):
    """Every node of a tree with its type, byte range and points, in order."""
    out, cursor = [], tree.walk()
    while True:
        node = cursor.node
        out.append((node.type, node.start_byte, node.end_byte,
                    tuple(node.start_point), tuple(node.end_point)))
        if cursor.goto_first_child():
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return out


def random_edit(rnd, doc):
    """Insert, delete or replace at a random character boundary (never inside a
    multi-byte character), with multi-byte text and newlines among the insertions."""
    text = doc.source.decode()
    start = rnd.randrange(len(text) + 1)
    end = min(len(text), start + rnd.choice([0, 0, 1, 2, 5, 12]))
    new = rnd.choice(PIECES) if rnd.random() < 0.8 else ""
    return len(text[:start].encode()), len(text[:end].encode()), new.encode()


def row_and_byte_column(source: bytes, offset: int) -> tuple[int, int]:
    return source.count(b"\n", 0, offset), offset - (source.rfind(b"\n", 0, offset) + 1)


@pytest.mark.parametrize(("language", "source"),
                         [("python", PYTHON), ("javascript", JAVASCRIPT), ("go", GO)])
@pytest.mark.parametrize("seed", range(25))
def test_incremental_tree_after_random_edits_equals_a_fresh_parse(language, source, seed):
    rnd = random.Random(seed)
    doc = SyntaxDocument(spec_named(language), source.encode())
    for _ in range(30):
        start, end, new = random_edit(rnd, doc)
        expected = doc.source[:start] + new + doc.source[end:]
        old_tree = doc.tree
        doc.edit(start, end, new)
        assert doc.source == expected
        fresh = new_parser(doc.spec).parse(doc.source)
        assert str(doc.tree.root_node) == str(fresh.root_node)
        assert nodes(doc.tree) == nodes(fresh)
        # tree-sitter recomputes positions while reparsing, so wrong points given to
        # tree.edit() only show in the edited old tree: every point there must match its
        # byte offset in the new text.
        for _type, start_byte, end_byte, start_point, end_point in nodes(old_tree):
            assert start_point == row_and_byte_column(doc.source, start_byte)
            assert end_point == row_and_byte_column(doc.source, end_byte)


def test_multibyte_insertion_keeps_the_positions_of_what_follows():
    doc = SyntaxDocument(spec_named("python"), b"x = 1\ny = 2\n")
    doc.edit(0, 0, "é😀 = 0\n".encode())
    second = doc.tree.root_node.named_children[1]
    assert doc.source[second.start_byte:second.end_byte] == b"x = 1"
    assert tuple(second.start_point) == (1, 0)
    third = doc.tree.root_node.named_children[2]
    assert tuple(third.start_point) == (2, 0)


def test_edit_changing_a_function_name_is_seen_by_the_tree():
    doc = SyntaxDocument(spec_named("python"), b"def load(path):\n    return path\n")
    start = doc.source.index(b"load")
    doc.edit(start, start + 4, "chargé".encode())
    function = doc.tree.root_node.named_children[0]
    name = function.child_by_field_name("name")
    assert doc.source[name.start_byte:name.end_byte].decode() == "chargé"


def test_deleting_everything_and_typing_again():
    doc = SyntaxDocument(spec_named("javascript"), b"function f() {}\n")
    doc.edit(0, len(doc.source), b"")
    assert doc.source == b""
    assert doc.tree.root_node.named_child_count == 0
    doc.edit(0, 0, b"let x = 1;\n")
    assert str(doc.tree.root_node) == str(new_parser(doc.spec).parse(doc.source).root_node)


def test_replace_all_parses_the_new_text_from_scratch():
    doc = SyntaxDocument(spec_named("rust"), b"fn a() {}\n")
    doc.replace_all(b"struct S;\nfn b() {}\n")
    assert [n.type for n in doc.tree.root_node.named_children] == ["struct_item", "function_item"]


@pytest.mark.parametrize(("start", "end"), [(-1, 0), (3, 2), (0, 99)])
def test_edit_outside_the_document_is_refused(start, end):
    doc = SyntaxDocument(spec_named("python"), b"x = 1\n")
    with pytest.raises(ValueError, match="outside the document"):
        doc.edit(start, end, b"")
    assert doc.source == b"x = 1\n"


def test_point_is_row_and_byte_column():
    source = "ab\né😀x\n".encode()
    assert tuple(point_at(source, 0)) == (0, 0)
    assert tuple(point_at(source, 3)) == (1, 0)
    assert tuple(point_at(source, source.index(b"x"))) == (1, 6)  # é is 2 bytes, 😀 is 4
    assert tuple(point_at(source, len(source))) == (2, 0)
