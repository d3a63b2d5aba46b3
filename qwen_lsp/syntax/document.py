"""A document's bytes and its tree-sitter tree, kept in step edit by edit."""

from __future__ import annotations

import tree_sitter

from .languages import LanguageSpec, new_parser


def point_at(source: bytes, offset: int) -> tree_sitter.Point:
    """The tree-sitter point (row, byte column) of a byte offset; rows end at b"\\n"."""
    row = source.count(b"\n", 0, offset)
    column = offset - (source.rfind(b"\n", 0, offset) + 1)
    return tree_sitter.Point(row, column)


def _point_after(start: tree_sitter.Point, text: bytes) -> tree_sitter.Point:
    newlines = text.count(b"\n")
    if newlines == 0:
        return tree_sitter.Point(start.row, start.column + len(text))
    return tree_sitter.Point(start.row + newlines, len(text) - (text.rfind(b"\n") + 1))


class SyntaxDocument:
    """UTF-8 source plus its syntax tree; `edit` reparses incrementally."""

    spec: LanguageSpec
    source: bytes
    tree: tree_sitter.Tree

    def __init__(self, spec: LanguageSpec, source: bytes) -> None:
        self.spec = spec
        self._parser = new_parser(spec)
        self.source = source
        self.tree = self._parser.parse(source)

    def edit(self, start_byte: int, old_end_byte: int, new_text: bytes) -> None:
        """Replace source[start_byte:old_end_byte] with new_text and reparse incrementally."""
        if not 0 <= start_byte <= old_end_byte <= len(self.source):
            raise ValueError(
                f"edit range {start_byte}..{old_end_byte} is outside the document "
                f"(0..{len(self.source)})"
            )
        start_point = point_at(self.source, start_byte)
        old_end_point = point_at(self.source, old_end_byte)
        new_end_point = _point_after(start_point, new_text)
        new_source = self.source[:start_byte] + new_text + self.source[old_end_byte:]
        self.tree.edit(
            start_byte=start_byte,
            old_end_byte=old_end_byte,
            new_end_byte=start_byte + len(new_text),
            start_point=start_point,
            old_end_point=old_end_point,
            new_end_point=new_end_point,
        )
        self.tree = self._parser.parse(new_source, self.tree)
        self.source = new_source

    def replace_all(self, source: bytes) -> None:
        """Take a whole new text (a full-sync change): parse it from scratch."""
        self.source = source
        self.tree = self._parser.parse(source)

    def text(self, start_byte: int, end_byte: int) -> str:
        """The source between two byte offsets, decoded (invalid bytes replaced)."""
        return self.source[start_byte:end_byte].decode("utf-8", errors="replace")

    def snapshot(self) -> SyntaxDocument:
        """A copy that later edits of this one leave alone (no reparse: the tree is copied)."""
        copy = object.__new__(SyntaxDocument)
        copy.spec = self.spec
        copy._parser = new_parser(self.spec)
        copy.source = self.source
        copy.tree = self.tree.copy()
        return copy
