"""Which names a JavaScript function uses, and whether all of them are safe to run.

The same rules as names.py for Python: standard globals, same-file helpers (checked the
same way) and same-file literal constants may go along; `this`, the clock, random
numbers, modules, promises and JSX make it "unchecked"; a name defined nowhere only
throws a ReferenceError in the child's bare `vm` context.
"""

from __future__ import annotations

from collections.abc import Iterator

from tree_sitter import Node

from .js_syntax import Refused, is_literal, node_text, parse, walk

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


def pattern_names(node: Node) -> Iterator[Node]:
    if node.type in ("identifier", "shorthand_property_identifier_pattern"):
        yield node
    elif node.type in ("assignment_pattern", "object_assignment_pattern"):
        left = node.child_by_field_name("left") or (node.named_children[0]
                                                    if node.named_children else None)
        if left is not None:
            yield from pattern_names(left)
    elif node.type == "pair_pattern":
        value = node.child_by_field_name("value")
        if value is not None:
            yield from pattern_names(value)
    elif node.type in ("object_pattern", "array_pattern", "rest_pattern",
                       "formal_parameters", "required_parameter", "optional_parameter"):
        for child in node.named_children:
            yield from pattern_names(child)


def _bindings(root: Node) -> list[Node]:
    """Identifier nodes that declare a name (parameters, variables, functions, catch...)."""
    found: list[Node] = []
    for node in walk(root):
        if node.type == "variable_declarator":
            name = node.child_by_field_name("name")
            if name is not None:
                found.extend(pattern_names(name))
        elif node.type in ("function_declaration", "function_expression", "function",
                           "generator_function_declaration", "generator_function",
                           "class_declaration", "class"):
            name = node.child_by_field_name("name")
            if name is not None:
                found.append(name)
        elif node.type == "formal_parameters":
            found.extend(pattern_names(node))
        elif node.type == "arrow_function":
            parameter = node.child_by_field_name("parameter")
            if parameter is not None:
                found.append(parameter)
        elif node.type == "catch_clause":
            parameter = node.child_by_field_name("parameter")
            if parameter is not None:
                found.extend(pattern_names(parameter))
        elif node.type == "for_in_statement" and node.child_by_field_name("kind"):
            left = node.child_by_field_name("left")
            if left is not None:
                found.extend(pattern_names(left))
    return found


def free_names(root: Node) -> list[str]:
    """Names `root` reads that it does not declare itself, in order of first use."""
    declared = _bindings(root)
    spans = {(n.start_byte, n.end_byte) for n in declared}
    names = {node_text(n) for n in declared}
    free: dict[str, None] = {}
    for node in walk(root):
        if node.type in ("identifier", "shorthand_property_identifier") and (
                node.start_byte, node.end_byte) not in spans and node_text(node) not in names:
            free.setdefault(node_text(node))
    return list(free)


def refusals(root: Node, who: str) -> None:
    for node in walk(root):
        kind = node.type
        if kind == "this":
            raise Refused(f"{who} uses `this`")
        if kind == "super":
            raise Refused(f"{who} uses `super`")
        if kind in ("await_expression", "import"):
            raise Refused(f"{who} is asynchronous" if kind != "import" else
                           f"{who} imports a module")
        if kind in ("function_declaration", "function_expression", "arrow_function",
                    "method_definition") and any(c.type == "async" for c in node.children):
            raise Refused(f"{who} is asynchronous")
        if kind in ("jsx_element", "jsx_self_closing_element", "jsx_fragment"):
            raise Refused(f"{who} contains JSX")
        if kind == "member_expression":
            text = node_text(node)
            if text.replace(" ", "") in ("Math.random", "crypto.getRandomValues"):
                raise Refused(f"{who} uses random numbers (`{text}`)")


def declared_function(root: Node, name: str) -> Node | None:
    """The top-level declaration of `name` in a program: a function, or a const/let/var
    holding an arrow function or function expression."""
    for statement in root.named_children:
        node = statement
        if node.type == "export_statement":
            node = node.child_by_field_name("declaration") or node
        if node.type in ("function_declaration", "generator_function_declaration"):
            if node_text(node.child_by_field_name("name")) == name:  # type: ignore[arg-type]
                return node
        elif node.type in ("lexical_declaration", "variable_declaration"):
            for declarator in node.named_children:
                if declarator.type == "variable_declarator" and node_text(
                        declarator.child_by_field_name("name")) == name:  # type: ignore[arg-type]
                    value = declarator.child_by_field_name("value")
                    if value is not None and value.type in (
                            "arrow_function", "function_expression", "function",
                            "generator_function"):
                        return node
    return None


def function_node(declaration: Node) -> Node:
    if declaration.type in ("lexical_declaration", "variable_declaration"):
        for declarator in declaration.named_children:
            value = declarator.child_by_field_name("value")
            if value is not None:
                return value
    return declaration


class JsModule:
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
                yield node_text(name), "helper"
        elif node.type in ("lexical_declaration", "variable_declaration"):
            single = len([c for c in node.named_children if c.type == "variable_declarator"])
            for declarator in node.named_children:
                if declarator.type != "variable_declarator":
                    continue
                target = declarator.child_by_field_name("name")
                value = declarator.child_by_field_name("value")
                names = [node_text(n) for n in pattern_names(target)] if target else []
                if target is None or target.type != "identifier" or single != 1:
                    for name in names:
                        yield name, f"the module-level name `{name}`, set by destructuring"
                    continue
                name = node_text(target)
                if value is not None and value.type in ("arrow_function", "function_expression",
                                                        "function", "generator_function"):
                    yield name, "helper"
                elif value is not None and is_literal(value):
                    yield name, "constant"
                else:
                    shown = node_text(value) if value is not None else "nothing"
                    shown = shown if len(shown) <= 40 else shown[:37] + "..."
                    yield name, (f"the module-level name `{name}`, which is not a literal "
                                 f"(`{shown}`)")
        elif node.type == "class_declaration":
            name = node.child_by_field_name("name")
            if name is not None:
                yield node_text(name), f"the class `{node_text(name)}`"
        elif node.type == "import_statement":
            for n in walk(node):
                if n.type == "identifier":
                    yield node_text(n), f"`{node_text(n)}`, imported from {node_text(node.child_by_field_name('source') or node)}"  # noqa: E501


class Resolver:
    def __init__(self, module: JsModule) -> None:
        self.module = module
        self.needed: dict[str, str] = {}
        self.visiting: set[str] = set()  # the function itself is declared by each version

    def check(self, root: Node, own: set[str], who: str) -> None:
        refusals(root, who)
        for name in free_names(root):
            if name in own or name in self.needed or name in self.visiting:
                continue
            self.resolve(name, who)

    def resolve(self, name: str, who: str) -> None:
        module = self.module
        if name in module.other:
            raise Refused(f"{who} uses {module.other[name]}")
        if name in module.helpers:
            node = module.helpers[name]
            self.visiting.add(name)
            self.check(node, {name}, f"its helper `{name}`")
            self.visiting.discard(name)
            self.needed[name] = node_text(node)
        elif name in module.constants:
            self.needed[name] = node_text(module.constants[name])
        elif name in REFUSED_GLOBALS:
            reason = REFUSED_GLOBALS[name]
            raise Refused(reason if who == "it" else f"{who} {reason.removeprefix('it ')}")
        # standard globals are there; anything else is a ReferenceError when it runs

    def prelude(self) -> str:
        order = self.module.order
        return "\n".join(self.needed[n] for n in sorted(self.needed, key=lambda n: order[n]))


def as_function(text: str, name: str, which: str) -> Node:
    """The declaration of `name` in `text`; a class method that does not use `this` is
    turned into a plain function declaration first."""
    root = parse(text)
    declaration = None if root.has_error else declared_function(root, name)
    if declaration is not None:
        return declaration
    wrapped = parse("class __Checked {\n" + text + "\n}")
    method = next((n for n in walk(wrapped) if n.type == "method_definition"
                   and node_text(n.child_by_field_name("name") or n) == name), None)
    if wrapped.has_error or method is None:
        if root.has_error:
            raise Refused(f"the {which} does not parse")
        raise Refused(f"the {which} does not declare a function `{name}`")
    refusals(method, "it" if which == "original" else "the rewrite")
    if any(c.type in ("get", "set", "static", "async", "*") for c in method.children):
        raise Refused(f"the {which} is a getter, setter, static, async or generator method")
    params, body = method.child_by_field_name("parameters"), method.child_by_field_name("body")
    if params is None or body is None:
        raise Refused(f"the {which} does not declare a function `{name}`")
    function = declared_function(parse(f"function {name}{node_text(params)} {node_text(body)}"),
                                  name)
    if function is None:
        raise Refused(f"the {which} does not declare a function `{name}`")
    return function
