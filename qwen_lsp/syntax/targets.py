"""What a code action works on: the function, method, class or statements at a range.

A definition's span includes what belongs to it above its keyword: Python decorators,
a JS/TS `export`, a C++ `template <...>` line, Rust `#[...]` attributes, TS decorators
and the doc comment directly above (consecutive comment lines with no blank line
between; not in Python, which documents with docstrings).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import tree_sitter
from tree_sitter import Node

from .document import SyntaxDocument
from .languages import spec_named, tree_sitter_language

_JS = ("javascript", "typescript", "tsx")
_JS_FUNCTIONS = frozenset({"function_declaration", "generator_function_declaration",
                           "method_definition"})
_FUNCTIONS: dict[str, frozenset[str]] = {
    "python": frozenset({"function_definition"}),
    "javascript": _JS_FUNCTIONS, "typescript": _JS_FUNCTIONS, "tsx": _JS_FUNCTIONS,
    "go": frozenset({"function_declaration", "method_declaration"}),
    "rust": frozenset({"function_item"}),
    "java": frozenset({"method_declaration", "constructor_declaration"}),
    "c": frozenset({"function_definition"}),
    "cpp": frozenset({"function_definition"}),
    "csharp": frozenset({"method_declaration", "constructor_declaration",
                         "local_function_statement"}),
    "ruby": frozenset({"method", "singleton_method"}),
    "php": frozenset({"function_definition", "method_declaration"}),
    "bash": frozenset({"function_definition"}),
}
_TS_CLASSES = frozenset({"class_declaration", "abstract_class_declaration"})
_CLASSES: dict[str, frozenset[str]] = {
    "python": frozenset({"class_definition"}),
    "javascript": frozenset({"class_declaration"}), "typescript": _TS_CLASSES, "tsx": _TS_CLASSES,
    "go": frozenset({"type_declaration"}),
    "rust": frozenset({"impl_item", "struct_item", "trait_item", "enum_item"}),
    "java": frozenset({"class_declaration", "interface_declaration", "enum_declaration",
                       "record_declaration"}),
    "c": frozenset({"struct_specifier"}),
    "cpp": frozenset({"class_specifier", "struct_specifier"}),
    "csharp": frozenset({"class_declaration", "struct_declaration", "interface_declaration",
                         "record_declaration"}),
    "ruby": frozenset({"class", "module"}),
    "php": frozenset({"class_declaration", "interface_declaration", "trait_declaration"}),
    "bash": frozenset(),
}
# Always methods, wherever they sit.
_METHOD_TYPES = frozenset({"method_definition", "method_declaration", "constructor_declaration",
                           "singleton_method", "field_definition", "public_field_definition"})
_WRAPPERS = frozenset({"decorated_definition", "export_statement", "template_declaration"})
_VAR_DECLS = frozenset({"lexical_declaration", "variable_declaration"})
_FIELD_DEFS = frozenset({"field_definition", "public_field_definition"})
_FUNCTION_VALUES = frozenset({"arrow_function", "function_expression", "function",
                              "generator_function"})
_COMMENTS = frozenset({"comment", "line_comment", "block_comment"})
_LEADING = _COMMENTS | frozenset({"decorator", "attribute_item"})
_IDENTIFIERS = frozenset({"identifier", "variable_name", "shorthand_property_identifier_pattern"})
_WHOLE_PATTERNS = frozenset({"object_pattern", "array_pattern", "tuple_pattern"})
_BLOCKS = frozenset({
    "module", "block", "program", "source_file", "translation_unit", "compilation_unit",
    "statement_block", "class_body", "statement_list", "compound_statement", "declaration_list",
    "field_declaration_list", "body_statement", "do_block", "then", "else", "do_group",
    "constructor_body", "interface_body", "enum_body",
})


@dataclass(frozen=True)
class Target:
    kind: str  # "function" | "method" | "class" | "selection"
    name: str | None
    start_byte: int  # includes decorators and the doc comment above it
    end_byte: int
    def_start_byte: int  # where the definition itself starts (after decorators/comments)
    is_async: bool
    params: tuple[str, ...]


@dataclass(frozen=True)
class _Def:
    node: Node  # the definition itself (function_definition, lexical_declaration, ...)
    outer: Node  # with its decorator / export / template wrapper


# ---------------------------------------------------------------- recognising definitions

def _text(doc: SyntaxDocument, node: Node | None) -> str:
    return "" if node is None else doc.text(node.start_byte, node.end_byte)


def _function_value(node: Node) -> Node | None:
    """For `const f = () => ...` / a class field `f = function () {}`: the function node."""
    if node.type in _VAR_DECLS:
        declarators = [c for c in node.named_children if c.type == "variable_declarator"]
        if len(declarators) != 1:
            return None
        node = declarators[0]
    value = node.child_by_field_name("value")
    return value if value is not None and value.type in _FUNCTION_VALUES else None


def _is_def(node: Node, lang: str) -> bool:
    kind = node.type
    if kind in _FUNCTIONS[lang]:
        return True
    if kind in _CLASSES[lang]:
        return not kind.endswith("_specifier") or node.child_by_field_name("body") is not None
    if lang in _JS and (kind in _VAR_DECLS or kind in _FIELD_DEFS):
        return _function_value(node) is not None
    return False


def _unwrap(node: Node, lang: str) -> Node | None:
    if node.type == "decorated_definition":
        inner = node.child_by_field_name("definition")
    elif node.type == "export_statement":
        inner = node.child_by_field_name("declaration")
    elif node.type == "template_declaration":
        inner = node.named_children[-1] if node.named_children else None
    else:
        return None
    return inner if inner is not None and _is_def(inner, lang) else None


def _as_def(node: Node, lang: str) -> _Def | None:
    inner = _unwrap(node, lang) if node.type in _WRAPPERS else node
    if inner is None or not _is_def(inner, lang):
        return None
    outer = inner
    while outer.parent is not None and outer == _unwrap(outer.parent, lang):
        outer = outer.parent
    return _Def(inner, outer)


def _kind(d: _Def, lang: str) -> str:
    if d.node.type in _CLASSES[lang]:
        return "class"
    if d.node.type in _METHOD_TYPES:
        return "method"
    parent = d.outer.parent
    while parent is not None:
        if _is_def(parent, lang):
            return "method" if parent.type in _CLASSES[lang] else "function"
        parent = parent.parent
    return "function"


def _c_function_declarator(node: Node) -> Node | None:
    declarator = node.child_by_field_name("declarator")
    while declarator is not None and declarator.type != "function_declarator":
        inner = declarator.child_by_field_name("declarator")
        if inner is None:
            inner = next((c for c in declarator.named_children if "declarator" in c.type), None)
        declarator = inner
    return declarator


def _name_node(d: _Def) -> Node | None:
    node = d.node
    if node.type in _VAR_DECLS:
        return next(c for c in node.named_children
                    if c.type == "variable_declarator").child_by_field_name("name")
    if node.type == "field_definition":
        return node.child_by_field_name("property")
    if node.type == "function_definition" and node.child_by_field_name("declarator"):
        declarator = _c_function_declarator(node)
        name = declarator.child_by_field_name("declarator") if declarator else None
        while name is not None and name.child_by_field_name("name") is not None:
            name = name.child_by_field_name("name")  # A::b -> b
        return name
    if node.type == "type_declaration":
        spec = node.named_children[0] if node.named_children else None
        return spec.child_by_field_name("name") if spec is not None else None
    if node.type == "impl_item":
        type_node = node.child_by_field_name("type")
        inner = type_node.child_by_field_name("type") if type_node is not None else None
        return inner if inner is not None else type_node
    return node.child_by_field_name("name")


def _function_node(d: _Def) -> Node:
    """The node that holds parameters, body and `async` (the arrow for `const f = () => {}`)."""
    value = _function_value(d.node) if d.node.type in _VAR_DECLS | _FIELD_DEFS else None
    return value if value is not None else d.node


def _param_names(node: Node, doc: SyntaxDocument) -> list[str]:
    if node.type in _IDENTIFIERS:
        return [_text(doc, node)]
    if node.type == "self_parameter":
        return ["self"]
    if node.type in _WHOLE_PATTERNS:
        return [_text(doc, node)]
    for field in ("name", "pattern", "left", "declarator"):
        fields = node.children_by_field_name(field)
        if fields:
            return [name for f in fields for name in _param_names(f, doc)]
    for child in node.named_children:
        names = _param_names(child, doc)
        if names:
            return names
    return []


def _params(d: _Def, doc: SyntaxDocument) -> tuple[str, ...]:
    function = _function_node(d)
    if function.type == "function_definition" and function.child_by_field_name("declarator"):
        declarator = _c_function_declarator(function)
        params = declarator.child_by_field_name("parameters") if declarator else None
    else:
        params = function.child_by_field_name("parameters")
        single = function.child_by_field_name("parameter")  # x => x + 1
        if params is None and single is not None:
            return (_text(doc, single),)
    if params is None:
        return ()
    return tuple(name for child in params.named_children if child.type not in _COMMENTS
                 for name in _param_names(child, doc))


def _is_async(d: _Def, doc: SyntaxDocument) -> bool:
    if not doc.spec.supports_async or d.node.type in _CLASSES[doc.spec.name]:
        return False
    return any(child.type == "async" for child in _function_node(d).children)


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
        if above is None or above.type not in _LEADING or not _adjacent(doc.source, above, start):
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


def _target(d: _Def, doc: SyntaxDocument) -> Target:
    lang = doc.spec.name
    name = _name_node(d)
    return Target(
        kind=_kind(d, lang),
        name=_text(doc, name) if name is not None else None,
        start_byte=_leading_start(d.outer, doc),
        end_byte=_end(d.outer),
        def_start_byte=d.node.start_byte,
        is_async=_is_async(d, doc),
        params=_params(d, doc),
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
        previous_leads = child.type in _LEADING
        d = _as_def(child, lang)
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
    if found is not None and found.type in _LEADING:
        return _documented_by(found, doc) or found
    return found


def _documented_by(comment: Node, doc: SyntaxDocument) -> Node | None:
    """The sibling after `comment` if a definition starting where it starts (maybe nested,
    like a Ruby method in the class's body_statement) counts `comment` as its doc."""
    follower = comment.next_named_sibling
    while follower is not None and follower.type in _LEADING:
        follower = follower.next_named_sibling
    node = follower
    while node is not None and node.start_byte == (follower.start_byte if follower else -1):
        d = _as_def(node, doc.spec.name)
        if d is not None:
            return follower if _leading_start(d.outer, doc) <= comment.start_byte else None
        node = node.named_children[0] if node.named_children else None
    return None


def _defs_on_path(doc: SyntaxDocument, start: int, end: int) -> list[_Def]:
    """Definitions holding [start, end], outermost first."""
    lang = doc.spec.name
    for inclusive_end in (False, True):
        defs: list[_Def] = []
        node = doc.tree.root_node
        while (child := _child_containing(node, start, end, doc, inclusive_end)) is not None:
            d = _as_def(child, lang)
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
    while node is not None and node.parent is not None and node.type not in _BLOCKS:
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
        defs = _defs_on_path(doc, start, start)
        return _target(defs[-1], doc) if defs else None
    defs = _defs_on_path(doc, start, end)
    if defs:
        target = _target(defs[-1], doc)
        name = _name_node(defs[-1])
        if (end - start) >= 0.6 * (target.end_byte - target.start_byte) or (
            name is not None and (name.start_byte, name.end_byte) == (start, end)
        ):
            return target
    return _widen(doc, start, end)


# ---------------------------------------------------------------- queries

@cache
def _query(lang: str, types: tuple[str, ...]) -> tree_sitter.Query:
    """A query capturing every node of the given types (those the grammar has)."""
    language = tree_sitter_language(spec_named(lang))
    known = [t for t in types if language.id_for_node_kind(t, True) is not None]
    pattern = "[" + " ".join(f"({t})" for t in known) + "] @node"
    return tree_sitter.Query(language, pattern)


def _nodes_of(doc: SyntaxDocument, types: tuple[str, ...], start: int = 0,
              end: int | None = None) -> list[Node]:
    """Nodes of the given types intersecting [start, end), in document order."""
    cursor = tree_sitter.QueryCursor(_query(doc.spec.name, types))
    if start or end is not None:
        cursor.set_byte_range(start, len(doc.source) if end is None else end)
    nodes = cursor.captures(doc.tree.root_node).get("node", [])
    return sorted(nodes, key=lambda n: (n.start_byte, -n.end_byte))


def definition_in(doc: SyntaxDocument, start_byte: int, end_byte: int,
                  name: str | None = None) -> Target | None:
    """A definition that starts in [start_byte, end_byte) and is not nested in another
    one starting there: the one called `name` if there is such, else the first."""
    lang = doc.spec.name
    types = tuple(sorted(_FUNCTIONS[lang] | _CLASSES[lang]
                         | (_VAR_DECLS | _FIELD_DEFS if lang in _JS else set())))
    found: list[_Def] = []
    for node in _nodes_of(doc, types, start_byte, end_byte):
        d = _as_def(node, lang)
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
