"""TypeScript: types stripped to get JavaScript, and types read to shape the inputs.

Stripping uses tree-sitter-typescript: type annotations, type parameters and arguments,
`as`/`satisfies`/`!` and interface/type declarations are removed; anything with a run-time
meaning of its own (enums, namespaces, decorators, parameter properties) makes the check
"unchecked" rather than guessed at.
"""

from __future__ import annotations

from hypothesis import strategies as st
from tree_sitter import Node

from .js_syntax import Refused, literal_value, node_text, parse, walk
from .strategies import Strategies, known

_TS_REMOVE = frozenset({"type_annotation", "type_parameters", "type_arguments",
                        "interface_declaration", "type_alias_declaration",
                        "omitting_type_annotation", "opting_type_annotation"})
_TS_REFUSE = {"enum_declaration": "it uses an enum", "internal_module": "it uses a namespace",
              "module": "it uses a namespace", "decorator": "it uses decorators",
              "accessibility_modifier": "it uses parameter properties",
              "ambient_declaration": "it uses `declare`",
              "abstract_class_declaration": "it uses an abstract class"}


def strip_types(code: str, language: str, refused: dict[str, str] | None = None) -> str:
    """JavaScript from TypeScript `code`, or Refused with the reason. With `refused`
    (for a whole file), a top-level statement that cannot be stripped is left out instead,
    and the names it declares are put in `refused` with the reason."""
    root = parse(code, "tsx" if language in ("tsx", "typescriptreact") else "typescript")
    if root.has_error:
        raise Refused("the TypeScript does not parse")
    cuts: list[tuple[int, int]] = []
    if refused is not None:
        for statement in root.named_children:
            reason = next((_TS_REFUSE[n.type] for n in walk(statement)
                           if n.type in _TS_REFUSE), None)
            if reason is None:
                continue
            cuts.append((statement.start_byte, statement.end_byte))
            for n in walk(statement):
                if n.type in ("identifier", "type_identifier") and n.parent is not None and (
                        n.parent.child_by_field_name("name") == n):
                    refused[node_text(n)] = f"`{node_text(n)}`, which is TypeScript only ({reason})"
    for node in walk(root):
        if any(start <= node.start_byte < end for start, end in cuts):
            continue
        if node.type in _TS_REFUSE:
            raise Refused(_TS_REFUSE[node.type])
        if node.type in _TS_REMOVE:
            cuts.append((node.start_byte, node.end_byte))
        elif node.type in ("as_expression", "satisfies_expression") and node.named_children:
            cuts.append((node.named_children[0].end_byte, node.end_byte))
        elif node.type == "non_null_expression" and node.named_children:
            cuts.append((node.named_children[0].end_byte, node.end_byte))
        elif node.type == "optional_parameter":
            mark = next((c for c in node.children if c.type == "?"), None)
            if mark is not None:
                cuts.append((mark.start_byte, mark.end_byte))
    data = code.encode("utf-8")
    kept, position = [], 0
    for start, end in sorted(cuts):
        if start < position:
            continue  # inside a cut already made
        kept.append(data[position:start])
        position = end
    kept.append(data[position:])
    result = b"".join(kept).decode("utf-8")
    if parse(result).has_error:
        raise Refused("its types could not be stripped reliably")
    return result


class TypeStrategies:
    """Hypothesis strategies from TypeScript parameter types (number, string, boolean,
    arrays, tuples, Record, object types, interfaces and type aliases of the same file,
    unions, literal types, null/undefined); None for a type it does not know."""

    def __init__(self, module_ts: str, language: str) -> None:
        self.language = "tsx" if language in ("tsx", "typescriptreact") else "typescript"
        self.named: dict[str, Node] = {}
        for node in walk(parse(module_ts, self.language)):
            if node.type in ("interface_declaration", "type_alias_declaration"):
                name = node.child_by_field_name("name")
                body = node.child_by_field_name("body") or node.child_by_field_name("value")
                if name is not None and body is not None:
                    self.named[node_text(name)] = body

    def parameters(self, declaration_ts: str, name: str,
                   s: Strategies) -> dict[str, st.SearchStrategy]:
        root = parse(declaration_ts, self.language)
        function = next((n for n in walk(root) if n.type in (
            "function_declaration", "generator_function_declaration", "method_definition",
            "arrow_function", "function_expression")), None)
        found: dict[str, st.SearchStrategy] = {}
        params = function.child_by_field_name("parameters") if function is not None else None
        for param in params.named_children if params is not None else []:
            target = param.child_by_field_name("pattern")
            annotation = param.child_by_field_name("type")
            if target is None or annotation is None or not annotation.named_children:
                continue
            strategy = self.strategy(annotation.named_children[0], s, 0)
            if strategy is not None and target.type == "identifier":
                found[node_text(target)] = strategy
        return found

    def strategy(self, node: Node, s: Strategies, depth: int) -> st.SearchStrategy | None:
        if depth > 6:
            return None
        kind, text = node.type, node_text(node)
        if kind == "predefined_type":
            return {"number": s.number, "string": s.text, "boolean": st.booleans(),
                    "any": s.any, "unknown": s.any, "null": st.none(),
                    "undefined": st.none()}.get(text)
        if kind == "literal_type":
            try:
                return st.just(literal_value(node.named_children[0]))
            except (ValueError, IndexError):
                return None
        if kind in ("parenthesized_type", "readonly_type") and node.named_children:
            return self.strategy(node.named_children[-1], s, depth)
        parts = [self.strategy(c, s, depth + 1) for c in node.named_children]
        if kind == "union_type":
            return st.one_of(*parts) if parts and known(parts) else None  # type: ignore[arg-type]
        if kind == "array_type":
            return st.lists(parts[0], max_size=6) if parts and known(parts[:1]) else None
        if kind == "tuple_type":
            return st.tuples(*parts).map(list) if known(parts) else None  # type: ignore[arg-type]
        if kind == "object_type":
            return self.object(node, s, depth)
        if kind == "type_identifier":
            body = self.named.get(text)
            if body is None:
                return None
            if body.type == "interface_body":
                return self.object(body, s, depth)
            return self.strategy(body, s, depth + 1)
        if kind == "generic_type":
            base = node_text(node.child_by_field_name("name") or node)
            arguments = node.child_by_field_name("type_arguments")
            inner = [self.strategy(c, s, depth + 1)
                     for c in (arguments.named_children if arguments is not None else [])]
            if base in ("Array", "ReadonlyArray") and inner and known(inner[:1]):
                return st.lists(inner[0], max_size=6)
            if base == "Record" and len(inner) == 2 and known(inner[1:]):
                return st.dictionaries(s.text, inner[1], max_size=4)
        return None

    def object(self, node: Node, s: Strategies, depth: int) -> st.SearchStrategy | None:
        required: dict[str, st.SearchStrategy] = {}
        optional: dict[str, st.SearchStrategy] = {}
        for member in node.named_children:
            if member.type != "property_signature":
                return None  # index or call signatures: not a plain record
            key = member.child_by_field_name("name")
            annotation = member.child_by_field_name("type")
            if key is None or annotation is None or not annotation.named_children:
                return None
            value = self.strategy(annotation.named_children[0], s, depth + 1)
            if value is None:
                return None
            optional_member = any(c.type == "?" for c in member.children)
            (optional if optional_member else required)[node_text(key)] = value
        return st.fixed_dictionaries(required, optional=optional)
