"""What a code action works on: the function, method, class or statements at a range.

A definition's span includes what belongs to it above its keyword: Python decorators,
a JS/TS `export`, a C++ `template <...>` line, Rust `#[...]` attributes, TS decorators
and the doc comment directly above (consecutive comment lines with no blank line
between; not in Python, which documents with docstrings).
"""

from __future__ import annotations

from dataclasses import dataclass

from tree_sitter import Node

from .definitions import (
    BLOCKS,
    CLASSES,
    FIELD_DEFS,
    FUNCTIONS,
    JS_FAMILY,
    LEADING,
    VAR_DECLS,
    Definition,
    as_definition,
    definition_is_async,
    definition_kind,
    definition_params,
    name_node,
    node_text,
    nodes_of,
)
from .document import SyntaxDocument


@dataclass(frozen=True)
class Target:
    kind: str  # "function" | "method" | "class" | "selection"
    name: str | None
    start_byte: int  # includes decorators and the doc comment above it
    end_byte: int
    def_start_byte: int  # where the definition itself starts (after decorators/comments)
    is_async: bool
    params: tuple[str, ...]



# ---------------------------------------------------------------- spans

def _adjacent(source: bytes, above: Node, start: int) -> bool:
    """`above` ends on the line right before `start` (or on its line) and begins its line."""
    gap = source[above.end_byte:start]
    if gap.strip():
        return False
    newlines = gap.count(b"\n") + (source[above.end_byte - 1:above.end_byte] == b"\n")
    line_start = source.rfind(b"\n", 0, above.start_byte) + 1
    return newlines <= 1 and not source[line_start:above.start_byte].strip()


def _leading_start(outer: Node, doc: SyntaxDocument) -> int:
    if doc.spec.name == "python":
        return outer.start_byte
    start, current = outer.start_byte, outer
    while True:
        above = current.prev_named_sibling
        parent = current.parent
        if above is None and parent is not None and parent.parent is not None \
                and parent.start_byte == current.start_byte:
            current = parent  # e.g. Ruby: the comment sits before the class's body_statement
            continue
        if above is None or above.type not in LEADING or not _adjacent(doc.source, above, start):
            return start
        if above.start_byte == 0 and doc.source.startswith(b"#!"):
            return start
        start, current = above.start_byte, above


def _end(outer: Node) -> int:
    """The end of a definition, with a `;` that directly follows it (`class A {};`)."""
    after = outer.next_sibling
    if after is not None and after.type == ";" and after.start_byte == outer.end_byte:
        return after.end_byte
    return outer.end_byte


def _target(d: Definition, doc: SyntaxDocument) -> Target:
    lang = doc.spec.name
    name = name_node(d)
    return Target(
        kind=definition_kind(d, lang),
        name=node_text(doc, name) if name is not None else None,
        start_byte=_leading_start(d.outer, doc),
        end_byte=_end(d.outer),
        def_start_byte=d.node.start_byte,
        is_async=definition_is_async(d, doc),
        params=definition_params(d, doc),
    )


def _child_containing(node: Node, start: int, end: int, doc: SyntaxDocument,
                      inclusive_end: bool) -> Node | None:
    """The named child of `node` whose span (definitions: with their leading comments)
    holds [start, end]; definitions win over the comments above them."""
    lang = doc.spec.name
    found = None
    previous_leads = True  # the first child may own a comment before its parent (Ruby)
    for child in node.named_children:
        if child.start_byte > end and not previous_leads:
            break
        previous_leads = child.type in LEADING
        d = as_definition(child, lang)
        is_outer_def = d is not None and d.outer == child
        low = _leading_start(child, doc) if is_outer_def and start < child.start_byte \
            else child.start_byte
        high = _end(child) if is_outer_def else child.end_byte
        if start == end and not inclusive_end:
            inside = low <= start < high
        else:
            inside = low <= start and end <= high
        if inside and (found is None or is_outer_def):
            found = child
            if is_outer_def:
                break
    if found is not None and found.type in LEADING:
        return _documented_by(found, doc) or found
    return found


def _documented_by(comment: Node, doc: SyntaxDocument) -> Node | None:
    """The sibling after `comment` if a definition starting where it starts (maybe nested,
    like a Ruby method in the class's body_statement) counts `comment` as its doc."""
    follower = comment.next_named_sibling
    while follower is not None and follower.type in LEADING:
        follower = follower.next_named_sibling
    node = follower
    while node is not None and node.start_byte == (follower.start_byte if follower else -1):
        d = as_definition(node, doc.spec.name)
        if d is not None:
            return follower if _leading_start(d.outer, doc) <= comment.start_byte else None
        node = node.named_children[0] if node.named_children else None
    return None


def definitions_at(doc: SyntaxDocument, start: int, end: int) -> list[Definition]:
    """Definitions holding [start, end], outermost first."""
    lang = doc.spec.name
    for inclusive_end in (False, True):
        defs: list[Definition] = []
        node = doc.tree.root_node
        while (child := _child_containing(node, start, end, doc, inclusive_end)) is not None:
            d = as_definition(child, lang)
            if d is not None and (not defs or defs[-1].node != d.node):
                defs.append(d)
            node = child
        if defs or start != end:
            return defs
    return []


def _trim(source: bytes, start: int, end: int) -> tuple[int, int]:
    while start < end and source[start:start + 1].isspace():
        start += 1
    while end > start and source[end - 1:end].isspace():
        end -= 1
    return start, end


def _past_indentation(source: bytes, offset: int) -> int:
    line_start = source.rfind(b"\n", 0, offset) + 1
    if source[line_start:offset].strip(b" \t"):
        return offset
    first = offset
    while source[first:first + 1] in (b" ", b"\t"):
        first += 1
    return first if source[first:first + 1] not in (b"\n", b"\r", b"") else offset


def _widen(doc: SyntaxDocument, start: int, end: int) -> Target:
    """The selection grown to whole statements: the children of the smallest block
    (module, body, class body, ...) holding both ends that overlap the selection."""
    node = doc.tree.root_node.descendant_for_byte_range(start, end)
    while node is not None and node.parent is not None and node.type not in BLOCKS:
        node = node.parent
    low, high = start, end
    if node is not None:
        overlapping = [c for c in node.named_children if c.end_byte > start and c.start_byte < end]
        if overlapping:
            low = min(low, overlapping[0].start_byte)
            high = max(high, _end(overlapping[-1]))
    return Target(kind="selection", name=None, start_byte=low, end_byte=high,
                  def_start_byte=low, is_async=False, params=())


def find_target(doc: SyntaxDocument, start_byte: int, end_byte: int) -> Target | None:
    """What a code action at [start_byte, end_byte) works on.

    Empty range: the innermost function, method or class around the cursor (also when
    the cursor is on its decorator, doc comment or name, or in the indentation before
    it: a cursor in a line's leading whitespace counts as on its first character);
    None outside any.
    Non-empty range (surrounding whitespace ignored): the innermost definition holding
    the selection, if the selection covers at least 60% of its bytes or exactly its
    name; otherwise the selection widened to whole statements (see `_widen`), kind
    "selection" with no name.
    """
    size = len(doc.source)
    start, end = sorted((max(0, min(start_byte, size)), max(0, min(end_byte, size))))
    if start != end:
        start, end = _trim(doc.source, start, end)
    if start == end:
        start = _past_indentation(doc.source, start)
        defs = definitions_at(doc, start, start)
        return _target(defs[-1], doc) if defs else None
    defs = definitions_at(doc, start, end)
    if defs:
        target = _target(defs[-1], doc)
        name = name_node(defs[-1])
        if (end - start) >= 0.6 * (target.end_byte - target.start_byte) or (
            name is not None and (name.start_byte, name.end_byte) == (start, end)
        ):
            return target
    return _widen(doc, start, end)


# ---------------------------------------------------------------- queries


def definition_in(doc: SyntaxDocument, start_byte: int, end_byte: int,
                  name: str | None = None) -> Target | None:
    """A definition that starts in [start_byte, end_byte) and is not nested in another
    one starting there: the one called `name` if there is such, else the first."""
    lang = doc.spec.name
    types = tuple(sorted(FUNCTIONS[lang] | CLASSES[lang]
                         | (VAR_DECLS | FIELD_DEFS if lang in JS_FAMILY else set())))
    found: list[Definition] = []
    for node in nodes_of(doc, types, start_byte, end_byte):
        d = as_definition(node, lang)
        if d is None or not start_byte <= d.node.start_byte < end_byte:
            continue
        if any(f.outer.start_byte <= d.outer.start_byte and d.outer.end_byte <= f.outer.end_byte
               for f in found):
            continue
        found.append(d)
    if not found:
        return None
    targets = [_target(d, doc) for d in found]
    return next((t for t in targets if name is not None and t.name == name), targets[0])
