"""tree-sitter helpers for the JavaScript and TypeScript checks: parsing, walking, literals.

tree-sitter and its grammars are project dependencies, used directly here (not through
qwen_lsp.syntax, so that this package stands alone).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from tree_sitter import Language, Node, Parser

LITERAL_TYPES = frozenset({"number", "string", "true", "false", "null", "undefined", "regex"})


class Refused(Exception):
    """The function cannot be run safely; str() is the reason."""


@lru_cache(maxsize=4)
def _language(name: str) -> Language:
    if name == "javascript":
        import tree_sitter_javascript
        return Language(tree_sitter_javascript.language())
    import tree_sitter_typescript
    return Language(tree_sitter_typescript.language_tsx() if name == "tsx"
                    else tree_sitter_typescript.language_typescript())


def parse(code: str, language: str = "javascript") -> Node:
    return Parser(_language(language)).parse(code.encode("utf-8")).root_node


def node_text(node: Node) -> str:
    return node.text.decode("utf-8") if node.text is not None else ""


def walk(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


def is_literal(node: Node) -> bool:
    kind = node.type
    if kind in LITERAL_TYPES:
        return True
    if kind == "template_string":
        return not any(c.type == "template_substitution" for c in node.children)
    if kind == "unary_expression":
        return node_text(node)[:1] in "-+" and node.named_children[0].type == "number"
    if kind == "array":
        return all(is_literal(c) for c in node.named_children)
    if kind == "object":
        for pair in node.named_children:
            if pair.type != "pair":
                return False
            key, value = pair.child_by_field_name("key"), pair.child_by_field_name("value")
            if key is None or value is None or key.type == "computed_property_name" or (
                    not is_literal(value)):
                return False
        return True
    if kind == "call_expression":  # Object.freeze(<literal>)
        function, arguments = node.child_by_field_name("function"), node.child_by_field_name(
            "arguments")
        return (function is not None and node_text(function) == "Object.freeze"
                and arguments is not None and len(arguments.named_children) == 1
                and is_literal(arguments.named_children[0]))
    if kind == "parenthesized_expression":
        return all(is_literal(c) for c in node.named_children)
    return False


def literal_value(node: Node) -> Any:
    """The Python value of a JS literal node (ValueError if it is not one)."""
    kind = node.type
    if kind == "number":
        text = node_text(node).replace("_", "")
        try:
            return int(text, 0) if not any(c in text for c in ".eE") or text.startswith(
                ("0x", "0X")) else float(text)
        except ValueError:
            return float(text)
    if kind in ("string", "template_string"):
        if not is_literal(node):
            raise ValueError("template with substitutions")
        parts = []
        for child in node.children:
            if child.type == "string_fragment":
                parts.append(node_text(child))
            elif child.type == "escape_sequence":
                parts.append(_unescape(node_text(child)))
        return "".join(parts)
    if kind in ("true", "false"):
        return kind == "true"
    if kind in ("null", "undefined"):
        return None
    if kind == "unary_expression" and is_literal(node):
        value = literal_value(node.named_children[0])
        return -value if node_text(node).startswith("-") else value
    if kind == "array":
        return [literal_value(c) for c in node.named_children]
    if kind == "object" and is_literal(node):
        result = {}
        for pair in node.named_children:
            key = pair.child_by_field_name("key")
            value = pair.child_by_field_name("value")
            key_text = literal_value(key) if key.type in ("string", "number") else node_text(key)  # type: ignore[union-attr]
            result[str(key_text)] = literal_value(value)  # type: ignore[arg-type]
        return result
    raise ValueError(kind)


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


def _unescape(escape: str) -> str:
    body = escape[1:]
    if body[:1] in ("u", "x"):
        digits = body[1:].strip("{}")
        try:
            return chr(int(digits, 16))
        except ValueError:
            return escape
    return _ESCAPES.get(body, body)
