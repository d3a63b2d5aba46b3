"""Behaviour check of a JavaScript (or TypeScript) rewrite under node.

The same idea as the Python check: nothing runs unless every free name of the function
is a standard global (Math, JSON, Array, ...), a same-file helper (checked the same way)
or a same-file constant whose value is a literal (js_names.py). Both versions then run in
separate `vm` contexts of one node process (_child.js) on the same JSON inputs: calls in
JSDoc `@example`s, literal calls in the file, then generated values shaped by TypeScript
types where there are some (typescript.py) and by what the body does with each parameter.
"""

from __future__ import annotations

import json
import math
import time
from typing import Any

from hypothesis import strategies as st
from tree_sitter import Node

from .hints import Hints, recursive
from .inputs import Case, draw_cases, unique
from .js_names import JsModule, Resolver, as_function, function_node
from .js_syntax import Refused, literal_value, node_text, parse, walk
from .python import CASE_TIMEOUT, GENERATION_SHARE, MAX_ITEMS, interpret
from .report import BehaviourReport, unchecked
from .sandbox import CHILD_JS, node_path, start_node
from .strategies import JS_FUNCTIONS, Strategies
from .typescript import TypeStrategies, strip_types

START_COST = 0.02  # to hand the job over (node, 40-60 ms to start, started earlier)

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

# --- inputs ----------------------------------------------------------------------------

def _calls(root: Node, name: str) -> list[Case]:
    cases = []
    for node in walk(root):
        if node.type != "call_expression":
            continue
        function = node.child_by_field_name("function")
        arguments = node.child_by_field_name("arguments")
        if function is None or arguments is None or node_text(function) != name:
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
    for node in walk(module_root):
        if node.type != "comment" or "@example" not in node_text(node):
            continue
        body = node_text(node).split("@example", 1)[1]
        lines = [line.strip().lstrip("*").rstrip("*/") for line in body.splitlines()]
        code = "\n".join(line for line in lines if not line.strip().startswith("@"))
        cases.extend(Case(c.args, {}, "doctest") for c in _calls(parse(code), name))
    return cases


_TAKES_FUNCTION = frozenset({"map", "filter", "forEach", "reduce", "reduceRight", "some",
                             "every", "find", "findIndex", "findLast", "findLastIndex",
                             "flatMap", "sort", "toSorted"})


def _body_hints(function: Node, helpers: dict[str, Node], depth: int = 0) -> dict[str, Hints]:
    """As inputs.body_hints, for JavaScript."""
    hints: dict[str, Hints] = {}

    def hint(node: Node | None) -> Hints | None:
        if node is None or node.type != "identifier":
            return None
        return hints.setdefault(node_text(node), Hints())

    loops: list[tuple[str, str]] = []
    for node in walk(function):
        kind = node.type
        if kind == "member_expression":
            h = hint(node.child_by_field_name("object"))
            prop = node_text(node.child_by_field_name("property") or node)
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
                h.keys.add(node_text(index)[1:-1])
            else:
                h.kinds.add("seq")
        elif kind in ("binary_expression", "augmented_assignment_expression"):
            left = node.child_by_field_name("left")
            right = node.child_by_field_name("right")
            operator = node_text(node.child_by_field_name("operator") or node)
            if operator in ("||", "&&", "??"):  # `x || fallback`: null is a likely input
                for side in (left, right):
                    if (h := hint(side)) is not None:
                        h.kinds.add("none")
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
        elif kind in ("unary_expression", "if_statement", "while_statement",
                      "ternary_expression"):
            # tested for truth (`if (!word) ...`, `x ? a : b`): null is a likely input
            if kind == "unary_expression":
                tested = [node.named_children[0]] if node_text(node).startswith("!") and \
                    node.named_children else []
            else:
                condition = node.child_by_field_name("condition")
                tested = [condition.named_children[0] if condition is not None and
                          condition.type == "parenthesized_expression" and
                          condition.named_children else condition]
            for value in tested:
                if (h := hint(value)) is not None:
                    h.kinds.add("none")
            if kind == "unary_expression" and node_text(node).startswith("typeof"):
                parent = node.parent
                h = hint(node.named_children[0] if node.named_children else None)
                if h is not None and parent is not None and parent.type == "binary_expression":
                    for value in parent.named_children:
                        if value.type == "string":
                            table = {"string": "str", "number": "number", "boolean": "bool",
                                     "object": "dict"}
                            if (wanted := table.get(node_text(value)[1:-1])) is not None:
                                h.kinds.add(wanted)
        elif kind == "for_in_statement":
            right = node.child_by_field_name("right")
            left = node.child_by_field_name("left")
            h = hint(right)
            if h is not None:
                h.kinds.add("seq" if any(c.type == "of" for c in node.children) else "dict")
                if left is not None and left.type == "identifier" and right is not None:
                    loops.append((node_text(right), node_text(left)))
        elif kind == "call_expression":
            function = node.child_by_field_name("function")
            arguments = node.child_by_field_name("arguments")
            if function is None or arguments is None:
                continue
            callee = node_text(function)
            if (h := hint(function)) is not None and callee not in helpers:
                h.kinds.add("callable")  # a parameter that is called: a function
            if function.type == "member_expression" and node_text(
                    function.child_by_field_name("property") or function) in _TAKES_FUNCTION:
                first = arguments.named_children[0] if arguments.named_children else None
                if (h := hint(first)) is not None:
                    h.kinds.add("callable")
            if callee in helpers and depth < 3:
                helper = function_node(helpers[callee])
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
    for node in walk(function):
        try:
            if node.type == "number":
                value = literal_value(node)
                if isinstance(value, int) and abs(value) < 10**6:
                    numbers.update({value - 1, value, value + 1})
            elif node.type == "string" and len(node_text(node)) <= 22:
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
        return ([(node_text(single), None, "plain")] if single is not None else []), False
    found: list[tuple[str, Node | None, str]] = []
    rest = False
    for child in params_node.named_children:
        target = child
        if target.type in ("required_parameter", "optional_parameter"):
            target = target.named_children[0]
        if target.type == "identifier":
            found.append((node_text(target), None, "plain"))
        elif target.type == "assignment_pattern":
            left = target.child_by_field_name("left")
            found.append((node_text(left) if left is not None else "?",
                          target.child_by_field_name("right"), "plain"))
        elif target.type == "rest_pattern":
            rest = True
        elif target.type == "object_pattern":
            found.append((node_text(target), None, "object"))
        elif target.type == "array_pattern":
            found.append((node_text(target), None, "array"))
    return found, rest


def _generated(function: Node, count: int, helpers: dict[str, Node], seconds: float,
               typed: Any = None) -> tuple[list[Case], list[str]]:
    """Inputs for `function`'s parameters; `typed(s)` gives strategies from declared types
    by parameter name (TypeScript), which come before guesses from the body."""
    numbers, strings = _literals(function)
    s = Strategies(numbers, strings, special_floats=False, iterators=False,
                   lambdas=False, javascript=True)
    hints = _body_hints(function, helpers)
    own_name = next((node_text(n) for n in [function.child_by_field_name("name")] if n), None)
    if own_name is None and function.parent is not None:  # const f = (...) => ...
        target = function.parent.child_by_field_name("name")
        own_name = node_text(target) if target is not None else None
    if own_name and any(n.type == "call_expression" and node_text(
            n.child_by_field_name("function") or n) == own_name for n in walk(function)):
        recursive(hints)
    params, rest = _params(function)
    declared = typed(s) if typed is not None else {}
    specs = []
    for name, default, kind in params:
        if name in declared:
            strategy = declared[name]
        elif kind == "object":
            keys = {node_text(n) for n in walk(function.child_by_field_name("parameters"))  # type: ignore[arg-type]
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
    except Refused as exc:
        return unchecked(str(exc), elapsed())
    with start_node(budget_seconds + 2) as child:  # it starts up while the inputs are drawn
        job = _job(plan, name, max_cases, GENERATION_SHARE * budget_seconds, typed)
        if not job["cases"]:
            return unchecked("no inputs could be made for it", elapsed())
        job["seconds"] = max(0.1, budget_seconds - elapsed() - START_COST)
        result = child.run(json.dumps(job).encode("utf-8"), job["seconds"] + 1.5)
    return interpret(result, elapsed())


def _plan(module_source: str, original: str, rewritten: str, name: str,
          refused: dict[str, str]) -> dict:
    """Both declarations and the prelude they need, or Refused with the reason."""
    declarations = {"original": as_function(original, name, "original"),
                    "rewrite": as_function(rewritten, name, "rewrite")}
    module_root = parse(module_source)
    module = JsModule(module_root)
    module.other.update(refused)
    resolver = Resolver(module)
    resolver.visiting.add(name)  # each version declares it; the file's own copy stays out
    for which, declaration in declarations.items():
        resolver.check(declaration, {name}, "it" if which == "original" else "the rewrite")
    return {"declarations": declarations, "module_root": module_root, "module": module,
            "prelude": resolver.prelude()}


def _job(plan: dict, name: str, max_cases: int, seconds: float, typed: Any) -> dict:
    declarations, module_root = plan["declarations"], plan["module_root"]
    function = function_node(declarations["original"])
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
            "max_items": MAX_ITEMS, "functions": JS_FUNCTIONS}


def _source_of(declaration: Node) -> str:
    """The declaration's text, without an `export` in front of it."""
    return node_text(declaration)
