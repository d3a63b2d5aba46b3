"""Behaviour check of a JavaScript (or TypeScript) rewrite under node.

The same idea as the Python check: nothing runs unless every free name of the function
is a standard global (Math, JSON, Array, ...), a same-file helper (checked the same way)
or a same-file constant whose value is a literal; `this`, the clock, random numbers,
modules and promises make it "unchecked". The code is parsed with tree-sitter (a project
dependency, used directly here, not through qwen_lsp.syntax). Both versions then run in
separate `vm` contexts of one node process (_child.js) on the same JSON inputs.

TypeScript is checked after its types are stripped with tree-sitter-typescript: type
annotations, type parameters and arguments, `as`/`satisfies`/`!` and interface/type
declarations are removed; anything with run-time meaning of its own (enums, namespaces,
decorators, parameter properties) makes it unchecked rather than guessed at.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from hypothesis import strategies as st
from tree_sitter import Language, Node, Parser

from .inputs import Case, Hints, _known, _Strategies, draw_cases, recursive, unique
from .python import CASE_TIMEOUT, GENERATION_SHARE, MAX_ITEMS, interpret
from .report import BehaviourReport, unchecked
from .sandbox import CHILD_JS, node_path, start_node

START_COST = 0.02  # to hand the job over (node, 40-60 ms to start, started earlier)

STANDARD_GLOBALS = frozenset({
    "Array", "ArrayBuffer", "BigInt", "BigInt64Array", "BigUint64Array", "Boolean",
    "DataView", "Error", "EvalError", "Float32Array", "Float64Array", "Infinity",
    "Int16Array", "Int32Array", "Int8Array", "Intl", "JSON", "Map", "Math", "NaN", "Number",
    "Object", "RangeError", "ReferenceError", "Reflect", "RegExp", "Set", "String",
    "Symbol", "SyntaxError", "TypeError", "URIError", "Uint16Array", "Uint32Array",
    "Uint8Array", "Uint8ClampedArray", "WeakMap", "WeakSet", "console", "decodeURI",
    "decodeURIComponent", "encodeURI", "encodeURIComponent", "isFinite", "isNaN",
    "parseFloat", "parseInt", "undefined", "arguments", "AggregateError",
})
REFUSED_GLOBALS = {
    "Date": "it reads the clock (`Date`)", "performance": "it reads the clock",
    "Promise": "it is asynchronous (`Promise`)", "setTimeout": "it uses timers",
    "setInterval": "it uses timers", "require": "it loads modules (`require`)",
    "process": "it uses `process`", "fetch": "it calls `fetch`", "eval": "it calls eval()",
    "Function": "it builds code (`Function`)", "globalThis": "it uses `globalThis`",
    "window": "it uses `window`", "document": "it uses `document`",
    "global": "it uses `global`", "crypto": "it uses random numbers (`crypto`)",
}
STRING_METHODS = frozenset({
    "toLowerCase", "toUpperCase", "trim", "trimStart", "trimEnd", "split", "startsWith",
    "endsWith", "replace", "replaceAll", "charAt", "charCodeAt", "codePointAt", "padStart",
    "padEnd", "repeat", "substring", "substr", "localeCompare", "normalize", "match",
    "matchAll", "search", "toLocaleLowerCase", "toLocaleUpperCase"})
ARRAY_METHODS = frozenset({
    "push", "pop", "shift", "unshift", "map", "filter", "reduce", "reduceRight", "forEach",
    "some", "every", "find", "findIndex", "findLast", "findLastIndex", "sort", "splice",
    "flat", "flatMap", "reverse", "fill", "join", "entries", "keys", "values", "toSorted"})
NUMBER_METHODS = frozenset({"toFixed", "toPrecision", "toExponential"})
LITERAL_TYPES = frozenset({"number", "string", "true", "false", "null", "undefined", "regex"})


class _Refused(Exception):
    """The function cannot be run safely; str() is the reason."""


@lru_cache(maxsize=4)
def _language(name: str) -> Language:
    if name == "javascript":
        import tree_sitter_javascript
        return Language(tree_sitter_javascript.language())
    import tree_sitter_typescript
    return Language(tree_sitter_typescript.language_tsx() if name == "tsx"
                    else tree_sitter_typescript.language_typescript())


def _parse(code: str, language: str = "javascript") -> Node:
    return Parser(_language(language)).parse(code.encode("utf-8")).root_node


def _text(node: Node) -> str:
    return node.text.decode("utf-8") if node.text is not None else ""


def _walk(node: Node) -> Iterator[Node]:
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(current.children))


# --- TypeScript ------------------------------------------------------------------------

_TS_REMOVE = frozenset({"type_annotation", "type_parameters", "type_arguments",
                        "interface_declaration", "type_alias_declaration",
                        "omitting_type_annotation", "opting_type_annotation"})
_TS_REFUSE = {"enum_declaration": "it uses an enum", "internal_module": "it uses a namespace",
              "module": "it uses a namespace", "decorator": "it uses decorators",
              "accessibility_modifier": "it uses parameter properties",
              "ambient_declaration": "it uses `declare`",
              "abstract_class_declaration": "it uses an abstract class"}


def strip_types(code: str, language: str, refused: dict[str, str] | None = None) -> str:
    """JavaScript from TypeScript `code`, or _Refused with the reason. With `refused`
    (for a whole file), a top-level statement that cannot be stripped is left out instead,
    and the names it declares are put in `refused` with the reason."""
    root = _parse(code, "tsx" if language in ("tsx", "typescriptreact") else "typescript")
    if root.has_error:
        raise _Refused("the TypeScript does not parse")
    cuts: list[tuple[int, int]] = []
    if refused is not None:
        for statement in root.named_children:
            reason = next((_TS_REFUSE[n.type] for n in _walk(statement)
                           if n.type in _TS_REFUSE), None)
            if reason is None:
                continue
            cuts.append((statement.start_byte, statement.end_byte))
            for n in _walk(statement):
                if n.type in ("identifier", "type_identifier") and n.parent is not None and (
                        n.parent.child_by_field_name("name") == n):
                    refused[_text(n)] = f"`{_text(n)}`, which is TypeScript only ({reason})"
    for node in _walk(root):
        if any(start <= node.start_byte < end for start, end in cuts):
            continue
        if node.type in _TS_REFUSE:
            raise _Refused(_TS_REFUSE[node.type])
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
    if _parse(result).has_error:
        raise _Refused("its types could not be stripped reliably")
    return result


class TypeStrategies:
    """Hypothesis strategies from TypeScript parameter types (number, string, boolean,
    arrays, tuples, Record, object types, interfaces and type aliases of the same file,
    unions, literal types, null/undefined); None for a type it does not know."""

    def __init__(self, module_ts: str, language: str) -> None:
        self.language = "tsx" if language in ("tsx", "typescriptreact") else "typescript"
        self.named: dict[str, Node] = {}
        for node in _walk(_parse(module_ts, self.language)):
            if node.type in ("interface_declaration", "type_alias_declaration"):
                name = node.child_by_field_name("name")
                body = node.child_by_field_name("body") or node.child_by_field_name("value")
                if name is not None and body is not None:
                    self.named[_text(name)] = body

    def parameters(self, declaration_ts: str, name: str,
                   s: _Strategies) -> dict[str, st.SearchStrategy]:
        root = _parse(declaration_ts, self.language)
        function = next((n for n in _walk(root) if n.type in (
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
                found[_text(target)] = strategy
        return found

    def strategy(self, node: Node, s: _Strategies, depth: int) -> st.SearchStrategy | None:
        if depth > 6:
            return None
        kind, text = node.type, _text(node)
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
            return st.one_of(*parts) if parts and _known(parts) else None  # type: ignore[arg-type]
        if kind == "array_type":
            return st.lists(parts[0], max_size=6) if parts and _known(parts[:1]) else None
        if kind == "tuple_type":
            return st.tuples(*parts).map(list) if _known(parts) else None  # type: ignore[arg-type]
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
            base = _text(node.child_by_field_name("name") or node)
            arguments = node.child_by_field_name("type_arguments")
            inner = [self.strategy(c, s, depth + 1)
                     for c in (arguments.named_children if arguments is not None else [])]
            if base in ("Array", "ReadonlyArray") and inner and _known(inner[:1]):
                return st.lists(inner[0], max_size=6)
            if base == "Record" and len(inner) == 2 and _known(inner[1:]):
                return st.dictionaries(s.text, inner[1], max_size=4)
        return None

    def object(self, node: Node, s: _Strategies, depth: int) -> st.SearchStrategy | None:
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
            (optional if optional_member else required)[_text(key)] = value
        return st.fixed_dictionaries(required, optional=optional)


# --- names -----------------------------------------------------------------------------

def _pattern_names(node: Node) -> Iterator[Node]:
    if node.type in ("identifier", "shorthand_property_identifier_pattern"):
        yield node
    elif node.type in ("assignment_pattern", "object_assignment_pattern"):
        left = node.child_by_field_name("left") or (node.named_children[0]
                                                    if node.named_children else None)
        if left is not None:
            yield from _pattern_names(left)
    elif node.type == "pair_pattern":
        value = node.child_by_field_name("value")
        if value is not None:
            yield from _pattern_names(value)
    elif node.type in ("object_pattern", "array_pattern", "rest_pattern",
                       "formal_parameters", "required_parameter", "optional_parameter"):
        for child in node.named_children:
            yield from _pattern_names(child)


def _bindings(root: Node) -> list[Node]:
    """Identifier nodes that declare a name (parameters, variables, functions, catch...)."""
    found: list[Node] = []
    for node in _walk(root):
        if node.type == "variable_declarator":
            name = node.child_by_field_name("name")
            if name is not None:
                found.extend(_pattern_names(name))
        elif node.type in ("function_declaration", "function_expression", "function",
                           "generator_function_declaration", "generator_function",
                           "class_declaration", "class"):
            name = node.child_by_field_name("name")
            if name is not None:
                found.append(name)
        elif node.type == "formal_parameters":
            found.extend(_pattern_names(node))
        elif node.type == "arrow_function":
            parameter = node.child_by_field_name("parameter")
            if parameter is not None:
                found.append(parameter)
        elif node.type == "catch_clause":
            parameter = node.child_by_field_name("parameter")
            if parameter is not None:
                found.extend(_pattern_names(parameter))
        elif node.type == "for_in_statement" and node.child_by_field_name("kind"):
            left = node.child_by_field_name("left")
            if left is not None:
                found.extend(_pattern_names(left))
    return found


def free_names(root: Node) -> list[str]:
    """Names `root` reads that it does not declare itself, in order of first use."""
    declared = _bindings(root)
    spans = {(n.start_byte, n.end_byte) for n in declared}
    names = {_text(n) for n in declared}
    free: dict[str, None] = {}
    for node in _walk(root):
        if node.type in ("identifier", "shorthand_property_identifier") and (
                node.start_byte, node.end_byte) not in spans and _text(node) not in names:
            free.setdefault(_text(node))
    return list(free)


def _refusals(root: Node, who: str) -> None:
    for node in _walk(root):
        kind = node.type
        if kind == "this":
            raise _Refused(f"{who} uses `this`")
        if kind == "super":
            raise _Refused(f"{who} uses `super`")
        if kind in ("await_expression", "import"):
            raise _Refused(f"{who} is asynchronous" if kind != "import" else
                           f"{who} imports a module")
        if kind in ("function_declaration", "function_expression", "arrow_function",
                    "method_definition") and any(c.type == "async" for c in node.children):
            raise _Refused(f"{who} is asynchronous")
        if kind in ("jsx_element", "jsx_self_closing_element", "jsx_fragment"):
            raise _Refused(f"{who} contains JSX")
        if kind == "member_expression":
            text = _text(node)
            if text.replace(" ", "") in ("Math.random", "crypto.getRandomValues"):
                raise _Refused(f"{who} uses random numbers (`{text}`)")


def _declared_function(root: Node, name: str) -> Node | None:
    """The top-level declaration of `name` in a program: a function, or a const/let/var
    holding an arrow function or function expression."""
    for statement in root.named_children:
        node = statement
        if node.type == "export_statement":
            node = node.child_by_field_name("declaration") or node
        if node.type in ("function_declaration", "generator_function_declaration"):
            if _text(node.child_by_field_name("name")) == name:  # type: ignore[arg-type]
                return node
        elif node.type in ("lexical_declaration", "variable_declaration"):
            for declarator in node.named_children:
                if declarator.type == "variable_declarator" and _text(
                        declarator.child_by_field_name("name")) == name:  # type: ignore[arg-type]
                    value = declarator.child_by_field_name("value")
                    if value is not None and value.type in (
                            "arrow_function", "function_expression", "function",
                            "generator_function"):
                        return node
    return None


def _function_node(declaration: Node) -> Node:
    if declaration.type in ("lexical_declaration", "variable_declaration"):
        for declarator in declaration.named_children:
            value = declarator.child_by_field_name("value")
            if value is not None:
                return value
    return declaration


def _is_literal(node: Node) -> bool:
    kind = node.type
    if kind in LITERAL_TYPES:
        return True
    if kind == "template_string":
        return not any(c.type == "template_substitution" for c in node.children)
    if kind == "unary_expression":
        return _text(node)[:1] in "-+" and node.named_children[0].type == "number"
    if kind == "array":
        return all(_is_literal(c) for c in node.named_children)
    if kind == "object":
        for pair in node.named_children:
            if pair.type != "pair":
                return False
            key, value = pair.child_by_field_name("key"), pair.child_by_field_name("value")
            if key is None or value is None or key.type == "computed_property_name" or (
                    not _is_literal(value)):
                return False
        return True
    if kind == "call_expression":  # Object.freeze(<literal>)
        function, arguments = node.child_by_field_name("function"), node.child_by_field_name(
            "arguments")
        return (function is not None and _text(function) == "Object.freeze"
                and arguments is not None and len(arguments.named_children) == 1
                and _is_literal(arguments.named_children[0]))
    if kind == "parenthesized_expression":
        return all(_is_literal(c) for c in node.named_children)
    return False


class _Module:
    """What a file declares at its top level."""

    def __init__(self, root: Node) -> None:
        self.helpers: dict[str, Node] = {}
        self.constants: dict[str, Node] = {}
        self.other: dict[str, str] = {}  # name -> why it cannot go along
        self.order: dict[str, int] = {}
        seen: set[str] = set()
        for statement in root.named_children:
            node = statement
            if node.type == "export_statement":
                node = node.child_by_field_name("declaration") or node
            for name, kind in self._declares(node):
                if name in seen:
                    self.other[name] = f"`{name}`, which is declared more than once"
                seen.add(name)
                self.order.setdefault(name, node.start_byte)
                if name in self.other:
                    continue
                if kind == "helper":
                    self.helpers[name] = node
                elif kind == "constant":
                    self.constants[name] = node
                else:
                    self.other[name] = kind

    @staticmethod
    def _declares(node: Node) -> Iterator[tuple[str, str]]:
        if node.type in ("function_declaration", "generator_function_declaration"):
            name = node.child_by_field_name("name")
            if name is not None:
                yield _text(name), "helper"
        elif node.type in ("lexical_declaration", "variable_declaration"):
            single = len([c for c in node.named_children if c.type == "variable_declarator"])
            for declarator in node.named_children:
                if declarator.type != "variable_declarator":
                    continue
                target = declarator.child_by_field_name("name")
                value = declarator.child_by_field_name("value")
                names = [_text(n) for n in _pattern_names(target)] if target else []
                if target is None or target.type != "identifier" or single != 1:
                    for name in names:
                        yield name, f"the module-level name `{name}`, set by destructuring"
                    continue
                name = _text(target)
                if value is not None and value.type in ("arrow_function", "function_expression",
                                                        "function", "generator_function"):
                    yield name, "helper"
                elif value is not None and _is_literal(value):
                    yield name, "constant"
                else:
                    shown = _text(value) if value is not None else "nothing"
                    shown = shown if len(shown) <= 40 else shown[:37] + "..."
                    yield name, (f"the module-level name `{name}`, which is not a literal "
                                 f"(`{shown}`)")
        elif node.type == "class_declaration":
            name = node.child_by_field_name("name")
            if name is not None:
                yield _text(name), f"the class `{_text(name)}`"
        elif node.type == "import_statement":
            for n in _walk(node):
                if n.type == "identifier":
                    yield _text(n), f"`{_text(n)}`, imported from {_text(node.child_by_field_name('source') or node)}"  # noqa: E501


class _Resolver:
    def __init__(self, module: _Module) -> None:
        self.module = module
        self.needed: dict[str, str] = {}
        self.visiting: set[str] = set()  # the function itself is declared by each version

    def check(self, root: Node, own: set[str], who: str) -> None:
        _refusals(root, who)
        for name in free_names(root):
            if name in own or name in self.needed or name in self.visiting:
                continue
            self.resolve(name, who)

    def resolve(self, name: str, who: str) -> None:
        module = self.module
        if name in module.other:
            raise _Refused(f"{who} uses {module.other[name]}")
        if name in module.helpers:
            node = module.helpers[name]
            self.visiting.add(name)
            self.check(node, {name}, f"its helper `{name}`")
            self.visiting.discard(name)
            self.needed[name] = _text(node)
        elif name in module.constants:
            self.needed[name] = _text(module.constants[name])
        elif name in REFUSED_GLOBALS:
            reason = REFUSED_GLOBALS[name]
            raise _Refused(reason if who == "it" else f"{who} {reason.removeprefix('it ')}")
        # standard globals are there; anything else is a ReferenceError when it runs

    def prelude(self) -> str:
        order = self.module.order
        return "\n".join(self.needed[n] for n in sorted(self.needed, key=lambda n: order[n]))


# --- inputs ----------------------------------------------------------------------------

def literal_value(node: Node) -> Any:
    """The Python value of a JS literal node (ValueError if it is not one)."""
    kind = node.type
    if kind == "number":
        text = _text(node).replace("_", "")
        try:
            return int(text, 0) if not any(c in text for c in ".eE") or text.startswith(
                ("0x", "0X")) else float(text)
        except ValueError:
            return float(text)
    if kind in ("string", "template_string"):
        if not _is_literal(node):
            raise ValueError("template with substitutions")
        parts = []
        for child in node.children:
            if child.type == "string_fragment":
                parts.append(_text(child))
            elif child.type == "escape_sequence":
                parts.append(_unescape(_text(child)))
        return "".join(parts)
    if kind in ("true", "false"):
        return kind == "true"
    if kind in ("null", "undefined"):
        return None
    if kind == "unary_expression" and _is_literal(node):
        value = literal_value(node.named_children[0])
        return -value if _text(node).startswith("-") else value
    if kind == "array":
        return [literal_value(c) for c in node.named_children]
    if kind == "object" and _is_literal(node):
        result = {}
        for pair in node.named_children:
            key = pair.child_by_field_name("key")
            value = pair.child_by_field_name("value")
            key_text = literal_value(key) if key.type in ("string", "number") else _text(key)  # type: ignore[union-attr]
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


def _calls(root: Node, name: str) -> list[Case]:
    cases = []
    for node in _walk(root):
        if node.type != "call_expression":
            continue
        function = node.child_by_field_name("function")
        arguments = node.child_by_field_name("arguments")
        if function is None or arguments is None or _text(function) != name:
            continue
        try:
            args = tuple(literal_value(a) for a in arguments.named_children)
        except (ValueError, AttributeError):
            continue
        cases.append(Case(args, {}, "call"))
    return cases


def example_cases(module_root: Node, name: str) -> list[Case]:
    """Calls in JSDoc `@example` blocks (as "doctest" inputs)."""
    cases = []
    for node in _walk(module_root):
        if node.type != "comment" or "@example" not in _text(node):
            continue
        body = _text(node).split("@example", 1)[1]
        lines = [line.strip().lstrip("*").rstrip("*/") for line in body.splitlines()]
        code = "\n".join(line for line in lines if not line.strip().startswith("@"))
        cases.extend(Case(c.args, {}, "doctest") for c in _calls(_parse(code), name))
    return cases


def _body_hints(function: Node, helpers: dict[str, Node], depth: int = 0) -> dict[str, Hints]:
    """As inputs.body_hints, for JavaScript."""
    hints: dict[str, Hints] = {}

    def hint(node: Node | None) -> Hints | None:
        if node is None or node.type != "identifier":
            return None
        return hints.setdefault(_text(node), Hints())

    loops: list[tuple[str, str]] = []
    for node in _walk(function):
        kind = node.type
        if kind == "member_expression":
            h = hint(node.child_by_field_name("object"))
            prop = _text(node.child_by_field_name("property") or node)
            if h is None:
                continue
            if prop in STRING_METHODS:
                h.kinds.add("str")
            elif prop in ARRAY_METHODS:
                h.kinds.add("list")
            elif prop in NUMBER_METHODS:
                h.kinds.add("number")
            elif prop in ("length", "slice", "indexOf", "includes", "concat", "at",
                          "lastIndexOf"):
                h.kinds.add("seq")
            else:
                h.kinds.add("dict")
                h.keys.add(prop)
        elif kind == "subscript_expression":
            h = hint(node.child_by_field_name("object"))
            index = node.child_by_field_name("index")
            if h is None or index is None:
                continue
            if index.type == "string":
                h.kinds.add("dict")
                h.keys.add(_text(index)[1:-1])
            else:
                h.kinds.add("seq")
        elif kind in ("binary_expression", "augmented_assignment_expression"):
            left = node.child_by_field_name("left")
            right = node.child_by_field_name("right")
            operator = _text(node.child_by_field_name("operator") or node)
            for side, other in ((left, right), (right, left)):
                h = hint(side)
                if h is None or other is None:
                    continue
                if other.type == "null" or (other.type == "undefined"):
                    h.kinds.add("none")
                elif operator in ("+", "+=") and other.type in ("string", "template_string"):
                    h.kinds.add("str")
                elif operator in ("-", "*", "/", "%", "**", "<", ">", "<=", ">=", "-=", "*=",
                                  "/=", "+", "+=") and operator != "in":
                    h.kinds.add("number")
                elif operator in ("===", "==", "!==", "!=") and other.type == "string":
                    h.kinds.add("str")
                elif operator in ("===", "==", "!==", "!=") and other.type == "number":
                    h.kinds.add("number")
        elif kind == "spread_element" and (h := hint(
                node.named_children[0] if node.named_children else None)):
            h.kinds.add("seq")
        elif kind == "unary_expression" and _text(node).startswith("typeof"):
            parent = node.parent
            h = hint(node.named_children[0] if node.named_children else None)
            if h is not None and parent is not None and parent.type == "binary_expression":
                for value in parent.named_children:
                    if value.type == "string":
                        table = {"string": "str", "number": "number", "boolean": "bool",
                                 "object": "dict"}
                        if (wanted := table.get(_text(value)[1:-1])) is not None:
                            h.kinds.add(wanted)
        elif kind == "for_in_statement":
            right = node.child_by_field_name("right")
            left = node.child_by_field_name("left")
            h = hint(right)
            if h is not None:
                h.kinds.add("seq" if any(c.type == "of" for c in node.children) else "dict")
                if left is not None and left.type == "identifier" and right is not None:
                    loops.append((_text(right), _text(left)))
        elif kind == "call_expression":
            function = node.child_by_field_name("function")
            arguments = node.child_by_field_name("arguments")
            if function is None or arguments is None:
                continue
            callee = _text(function)
            if callee in helpers and depth < 3:
                helper = _function_node(helpers[callee])
                helper_hints = _body_hints(helper, helpers, depth + 1)
                names = [p[0] for p in _params(helper)[0]]
                for param, argument in zip(names, arguments.named_children, strict=False):
                    h = hint(argument)
                    if h is not None and param in helper_hints:
                        h.merge(helper_hints[param])
            for argument in arguments.named_children:
                h = hint(argument)
                if h is None:
                    continue
                if callee.startswith("Math.") or callee in ("Number.isInteger", "isNaN"):
                    h.kinds.add("number")
                elif callee == "Array.isArray":
                    h.kinds.add("list")
                elif callee in ("Object.keys", "Object.values", "Object.entries"):
                    h.kinds.add("dict")
    for iterable, item in loops:
        if item in hints and iterable in hints and hints[item] is not hints[iterable]:
            hints[iterable].element = hints[item]
    return hints


def _literals(function: Node) -> tuple[list, list]:
    numbers, strings = set(), set()
    for node in _walk(function):
        try:
            if node.type == "number":
                value = literal_value(node)
                if isinstance(value, int) and abs(value) < 10**6:
                    numbers.update({value - 1, value, value + 1})
            elif node.type == "string" and len(_text(node)) <= 22:
                strings.add(literal_value(node))
        except ValueError:
            continue
    return sorted(numbers), sorted(s for s in strings if isinstance(s, str))


def _json_safe(value: Any) -> Any:
    """Inputs as JSON: tuples and sets become arrays, special floats are tagged, ints
    outside the exact range of doubles become floats."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value if abs(value) <= 2**53 else float(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return {"$float": repr(value).replace("inf", "Infinity").replace("nan", "NaN")}
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    raise ValueError(type(value).__name__)


def _params(function: Node) -> tuple[list[tuple[str, Node | None, str]], bool]:
    """[(name, default value node, kind)] and whether it takes ...rest."""
    params_node = function.child_by_field_name("parameters")
    single = function.child_by_field_name("parameter")
    if params_node is None:
        return ([(_text(single), None, "plain")] if single is not None else []), False
    found: list[tuple[str, Node | None, str]] = []
    rest = False
    for child in params_node.named_children:
        target = child
        if target.type in ("required_parameter", "optional_parameter"):
            target = target.named_children[0]
        if target.type == "identifier":
            found.append((_text(target), None, "plain"))
        elif target.type == "assignment_pattern":
            left = target.child_by_field_name("left")
            found.append((_text(left) if left is not None else "?",
                          target.child_by_field_name("right"), "plain"))
        elif target.type == "rest_pattern":
            rest = True
        elif target.type == "object_pattern":
            found.append((_text(target), None, "object"))
        elif target.type == "array_pattern":
            found.append((_text(target), None, "array"))
    return found, rest


def _generated(function: Node, count: int, helpers: dict[str, Node], seconds: float,
               typed: Any = None) -> tuple[list[Case], list[str]]:
    """Inputs for `function`'s parameters; `typed(s)` gives strategies from declared types
    by parameter name (TypeScript), which come before guesses from the body."""
    numbers, strings = _literals(function)
    s = _Strategies(numbers, strings, special_floats=False)
    hints = _body_hints(function, helpers)
    own_name = next((_text(n) for n in [function.child_by_field_name("name")] if n), None)
    if own_name is None and function.parent is not None:  # const f = (...) => ...
        target = function.parent.child_by_field_name("name")
        own_name = _text(target) if target is not None else None
    if own_name and any(n.type == "call_expression" and _text(
            n.child_by_field_name("function") or n) == own_name for n in _walk(function)):
        recursive(hints)
    params, rest = _params(function)
    declared = typed(s) if typed is not None else {}
    specs = []
    for name, default, kind in params:
        if name in declared:
            strategy = declared[name]
        elif kind == "object":
            keys = {_text(n) for n in _walk(function.child_by_field_name("parameters"))  # type: ignore[arg-type]
                    if n.type in ("shorthand_property_identifier_pattern",
                                  "property_identifier")}
            strategy = s.dicts(keys)
        elif kind == "array":
            strategy = st.lists(s.scalar, max_size=6)
        else:
            strategy = s.from_hints(hints.get(name))
            if default is not None:
                try:
                    value = literal_value(default)
                    typed = {bool: st.booleans(), int: s.int, float: s.number,
                             str: s.text}.get(type(value))
                    if typed is not None:
                        strategy = st.one_of(typed, strategy) if name in hints else typed
                except ValueError:
                    pass
        specs.append((name, strategy, default is not None, False))
    extra = st.lists(s.scalar, max_size=3) if rest else None
    return draw_cases(specs, extra, count, by_keyword=False, seconds=seconds), [
        p[0] for p in params]


# --- the check -------------------------------------------------------------------------

def check_javascript(module_source: str, original: str, rewritten: str, name: str, *,
                     language: str = "javascript", budget_seconds: float = 1.0,
                     max_cases: int = 300) -> BehaviourReport:
    """Like check_python, under node: `original`/`rewritten` are the full declarations of
    `name` (a function declaration, or a const/let/var holding an arrow function or
    function expression); `module_source` is the whole file before the edit. `language`:
    "javascript"/"javascriptreact", or "typescript"/"typescriptreact"/"tsx"."""
    start = time.perf_counter()

    def elapsed() -> float:
        return time.perf_counter() - start

    if node_path() is None:
        return unchecked("node is not installed", elapsed())
    if not CHILD_JS.is_file():
        return unchecked(f"this installation lacks {CHILD_JS.name}", elapsed())
    try:
        refused: dict[str, str] = {}
        typed = None
        if language in ("typescript", "typescriptreact", "tsx"):
            types, original_ts = TypeStrategies(module_source, language), original
            typed = lambda s: types.parameters(original_ts, name, s)  # noqa: E731
            module_source = strip_types(module_source, language, refused)
            original = strip_types(original, language)
            rewritten = strip_types(rewritten, language)
        elif language not in ("javascript", "javascriptreact"):
            return unchecked(f"there is no behaviour check for {language}", elapsed())
        plan = _plan(module_source, original, rewritten, name, refused)
    except _Refused as exc:
        return unchecked(str(exc), elapsed())
    with start_node(budget_seconds + 2) as child:  # it starts up while the inputs are drawn
        job = _job(plan, name, max_cases, GENERATION_SHARE * budget_seconds, typed)
        if not job["cases"]:
            return unchecked("no inputs could be made for it", elapsed())
        job["seconds"] = max(0.1, budget_seconds - elapsed() - START_COST)
        result = child.run(json.dumps(job).encode("utf-8"), job["seconds"] + 1.5)
    return interpret(result, elapsed())


def _as_function(text: str, name: str, which: str) -> Node:
    """The declaration of `name` in `text`; a class method that does not use `this` is
    turned into a plain function declaration first."""
    root = _parse(text)
    declaration = None if root.has_error else _declared_function(root, name)
    if declaration is not None:
        return declaration
    wrapped = _parse("class __Checked {\n" + text + "\n}")
    method = next((n for n in _walk(wrapped) if n.type == "method_definition"
                   and _text(n.child_by_field_name("name") or n) == name), None)
    if wrapped.has_error or method is None:
        if root.has_error:
            raise _Refused(f"the {which} does not parse")
        raise _Refused(f"the {which} does not declare a function `{name}`")
    _refusals(method, "it" if which == "original" else "the rewrite")
    if any(c.type in ("get", "set", "static", "async", "*") for c in method.children):
        raise _Refused(f"the {which} is a getter, setter, static, async or generator method")
    params, body = method.child_by_field_name("parameters"), method.child_by_field_name("body")
    if params is None or body is None:
        raise _Refused(f"the {which} does not declare a function `{name}`")
    function = _declared_function(_parse(f"function {name}{_text(params)} {_text(body)}"),
                                  name)
    if function is None:
        raise _Refused(f"the {which} does not declare a function `{name}`")
    return function


def _plan(module_source: str, original: str, rewritten: str, name: str,
          refused: dict[str, str]) -> dict:
    """Both declarations and the prelude they need, or _Refused with the reason."""
    declarations = {"original": _as_function(original, name, "original"),
                    "rewrite": _as_function(rewritten, name, "rewrite")}
    module_root = _parse(module_source)
    module = _Module(module_root)
    module.other.update(refused)
    resolver = _Resolver(module)
    resolver.visiting.add(name)  # each version declares it; the file's own copy stays out
    for which, declaration in declarations.items():
        resolver.check(declaration, {name}, "it" if which == "original" else "the rewrite")
    return {"declarations": declarations, "module_root": module_root, "module": module,
            "prelude": resolver.prelude()}


def _job(plan: dict, name: str, max_cases: int, seconds: float, typed: Any) -> dict:
    declarations, module_root = plan["declarations"], plan["module_root"]
    function = _function_node(declarations["original"])
    trusted = unique(example_cases(module_root, name) + _calls(module_root, name))[:max_cases]
    generated, params = _generated(function, max_cases - len(trusted), plan["module"].helpers,
                                   seconds, typed)
    cases = []
    for case in unique(trusted + generated)[:max_cases]:
        try:
            cases.append((_json_safe(list(case.args)), {}, case.source))
        except ValueError:
            continue
    return {"prelude": plan["prelude"], "original": _source_of(declarations["original"]),
            "rewritten": _source_of(declarations["rewrite"]), "name": name,
            "params": params, "cases": cases, "case_timeout": CASE_TIMEOUT,
            "max_items": MAX_ITEMS}


def _source_of(declaration: Node) -> str:
    """The declaration's text, without an `export` in front of it."""
    return _text(declaration)
