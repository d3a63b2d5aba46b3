"""Recognising definitions in a tree: the node types of each language and what a
definition's name, parameters and `async` are.

Shared by `targets` (what an action works on) and `context` (what a prompt needs
around it). A definition is a `Definition`: the node itself (function_definition,
lexical_declaration, ...) and its outer node with the decorator / export / template
wrapper.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import tree_sitter
from tree_sitter import Node

from .document import SyntaxDocument
from .languages import spec_named, tree_sitter_language

JS_FAMILY = ("javascript", "typescript", "tsx")
_JS_FUNCTIONS = frozenset({"function_declaration", "generator_function_declaration",
                           "method_definition"})
FUNCTIONS: dict[str, frozenset[str]] = {
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
CLASSES: dict[str, frozenset[str]] = {
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
WRAPPERS = frozenset({"decorated_definition", "export_statement", "template_declaration"})
VAR_DECLS = frozenset({"lexical_declaration", "variable_declaration"})
FIELD_DEFS = frozenset({"field_definition", "public_field_definition"})
FUNCTION_VALUES = frozenset({"arrow_function", "function_expression", "function",
                              "generator_function"})
COMMENTS = frozenset({"comment", "line_comment", "block_comment"})
LEADING = COMMENTS | frozenset({"decorator", "attribute_item"})
IDENTIFIERS = frozenset({"identifier", "variable_name", "shorthand_property_identifier_pattern"})
_WHOLE_PATTERNS = frozenset({"object_pattern", "array_pattern", "tuple_pattern"})
BLOCKS = frozenset({
    "module", "block", "program", "source_file", "translation_unit", "compilation_unit",
    "statement_block", "class_body", "statement_list", "compound_statement", "declaration_list",
    "field_declaration_list", "body_statement", "do_block", "then", "else", "do_group",
    "constructor_body", "interface_body", "enum_body",
})



@dataclass(frozen=True)
class Definition:
    """A definition: the node itself and the outer node with its wrapper."""

    node: Node  # the definition itself (function_definition, lexical_declaration, ...)
    outer: Node  # with its decorator / export / template wrapper




def node_text(doc: SyntaxDocument, node: Node | None) -> str:
    return "" if node is None else doc.text(node.start_byte, node.end_byte)


def _function_value(node: Node) -> Node | None:
    """For `const f = () => ...` / a class field `f = function () {}`: the function node."""
    if node.type in VAR_DECLS:
        declarators = [c for c in node.named_children if c.type == "variable_declarator"]
        if len(declarators) != 1:
            return None
        node = declarators[0]
    value = node.child_by_field_name("value")
    return value if value is not None and value.type in FUNCTION_VALUES else None


def is_definition(node: Node, lang: str) -> bool:
    kind = node.type
    if kind in FUNCTIONS[lang]:
        return True
    if kind in CLASSES[lang]:
        return not kind.endswith("_specifier") or node.child_by_field_name("body") is not None
    if lang in JS_FAMILY and (kind in VAR_DECLS or kind in FIELD_DEFS):
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
    return inner if inner is not None and is_definition(inner, lang) else None


def as_definition(node: Node, lang: str) -> Definition | None:
    inner = _unwrap(node, lang) if node.type in WRAPPERS else node
    if inner is None or not is_definition(inner, lang):
        return None
    outer = inner
    while outer.parent is not None and outer == _unwrap(outer.parent, lang):
        outer = outer.parent
    return Definition(inner, outer)


def definition_kind(d: Definition, lang: str) -> str:
    if d.node.type in CLASSES[lang]:
        return "class"
    if d.node.type in _METHOD_TYPES:
        return "method"
    parent = d.outer.parent
    while parent is not None:
        if is_definition(parent, lang):
            return "method" if parent.type in CLASSES[lang] else "function"
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


def name_node(d: Definition) -> Node | None:
    node = d.node
    if node.type in VAR_DECLS:
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


def function_node(d: Definition) -> Node:
    """The node that holds parameters, body and `async` (the arrow for `const f = () => {}`)."""
    value = _function_value(d.node) if d.node.type in VAR_DECLS | FIELD_DEFS else None
    return value if value is not None else d.node


def _param_names(node: Node, doc: SyntaxDocument) -> list[str]:
    if node.type in IDENTIFIERS:
        return [node_text(doc, node)]
    if node.type == "self_parameter":
        return ["self"]
    if node.type in _WHOLE_PATTERNS:
        return [node_text(doc, node)]
    for field in ("name", "pattern", "left", "declarator"):
        fields = node.children_by_field_name(field)
        if fields:
            return [name for f in fields for name in _param_names(f, doc)]
    for child in node.named_children:
        names = _param_names(child, doc)
        if names:
            return names
    return []


def definition_params(d: Definition, doc: SyntaxDocument) -> tuple[str, ...]:
    function = function_node(d)
    if function.type == "function_definition" and function.child_by_field_name("declarator"):
        declarator = _c_function_declarator(function)
        params = declarator.child_by_field_name("parameters") if declarator else None
    else:
        params = function.child_by_field_name("parameters")
        single = function.child_by_field_name("parameter")  # x => x + 1
        if params is None and single is not None:
            return (node_text(doc, single),)
    if params is None:
        return ()
    return tuple(name for child in params.named_children if child.type not in COMMENTS
                 for name in _param_names(child, doc))


def definition_is_async(d: Definition, doc: SyntaxDocument) -> bool:
    if not doc.spec.supports_async or d.node.type in CLASSES[doc.spec.name]:
        return False
    return any(child.type == "async" for child in function_node(d).children)




# ---------------------------------------------------------------- queries

@cache
def _query(lang: str, types: tuple[str, ...]) -> tree_sitter.Query:
    """A query capturing every node of the given types (those the grammar has)."""
    language = tree_sitter_language(spec_named(lang))
    known = [t for t in types if language.id_for_node_kind(t, True) is not None]
    pattern = "[" + " ".join(f"({t})" for t in known) + "] @node"
    return tree_sitter.Query(language, pattern)


def nodes_of(doc: SyntaxDocument, types: tuple[str, ...], start: int = 0,
              end: int | None = None) -> list[Node]:
    """Nodes of the given types intersecting [start, end), in document order."""
    cursor = tree_sitter.QueryCursor(_query(doc.spec.name, types))
    if start or end is not None:
        cursor.set_byte_range(start, len(doc.source) if end is None else end)
    nodes = cursor.captures(doc.tree.root_node).get("node", [])
    return sorted(nodes, key=lambda n: (n.start_byte, -n.end_byte))
