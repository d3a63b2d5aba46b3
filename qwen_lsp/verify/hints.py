"""What a function's body tells about each parameter, as hints for its inputs.

String methods -> strings, `p["key"]` -> dicts with that key, `len`/iteration ->
sequences (with what is done to an item), arithmetic -> numbers, `p is None` -> None,
`p(...)` -> a function; a parameter passed on to a same-file helper also gets what the
helper does with it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

_STR_METHODS = frozenset({
    "lower", "upper", "strip", "lstrip", "rstrip", "split", "rsplit", "splitlines",
    "startswith", "endswith", "replace", "find", "rfind", "isdigit", "isalpha", "isalnum",
    "isspace", "isupper", "islower", "title", "capitalize", "casefold", "encode",
    "partition", "rpartition", "zfill", "center", "ljust", "rjust", "format", "swapcase",
    "isnumeric", "isdecimal", "isidentifier", "expandtabs", "removeprefix", "removesuffix"})
_LIST_METHODS = frozenset({"append", "extend", "insert", "remove", "sort", "reverse"})
_DICT_METHODS = frozenset({"items", "keys", "values", "get", "setdefault", "update",
                           "popitem"})
_SET_METHODS = frozenset({"add", "discard", "union", "intersection", "difference",
                          "issubset", "issuperset", "symmetric_difference"})
_ITERATING = frozenset({"len", "sorted", "sum", "list", "tuple", "set", "frozenset",
                        "enumerate", "zip", "reversed", "any", "all", "min", "max", "iter",
                        "dict", "map", "filter"})
_NUMERIC = frozenset({"abs", "round", "divmod", "pow", "int", "float", "range", "bin",
                      "hex", "oct", "chr"})


@dataclass
class Hints:
    kinds: set[str] = field(default_factory=set)   # number, str, list, dict, set, seq, none
    keys: set[str] = field(default_factory=set)    # str keys it is subscripted with
    element: Hints | None = None                   # for iterables: what an item is
    small: bool = False                            # used as range()/repeat count

    def merge(self, other: Hints) -> None:
        self.kinds |= other.kinds
        self.keys |= other.keys
        self.element = self.element or other.element
        self.small = self.small or other.small


def name_of(node: ast.AST) -> str | None:
    return node.id if isinstance(node, ast.Name) else None


Function = ast.FunctionDef | ast.AsyncFunctionDef


def body_hints(function: Function, helpers: dict[str, Function] | None = None,
               depth: int = 0) -> dict[str, Hints]:
    """What the body does with each name, as hints for inputs. A name passed on to one of
    `helpers` (same-file functions) also gets what the helper does with its parameter."""
    hints: dict[str, Hints] = {}

    def hint(name: str | None) -> Hints | None:
        if name is None:
            return None
        return hints.setdefault(name, Hints())

    loops: list[tuple[str, str]] = []  # (iterable name, item name)
    for node in ast.walk(function):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and (h := hint(name_of(func.value))):
                if func.attr in _STR_METHODS:
                    h.kinds.add("str")
                elif func.attr in _LIST_METHODS:
                    h.kinds.add("list")
                elif func.attr in _DICT_METHODS:
                    h.kinds.add("dict")
                elif func.attr in _SET_METHODS:
                    h.kinds.add("set")
                elif func.attr == "join":
                    h.kinds.add("str")
                    if node.args and (e := hint(name_of(node.args[0]))):
                        e.kinds.add("seq")
                        e.element = e.element or Hints({"str"})
                if func.attr == "get" and node.args and isinstance(node.args[0], ast.Constant) \
                        and isinstance(node.args[0].value, str):
                    h.keys.add(node.args[0].value)
            if isinstance(func, ast.Name) and helpers and func.id in helpers and depth < 3:
                _pass_on(node, helpers[func.id], body_hints(helpers[func.id], helpers, depth + 1),
                         hint)
            if isinstance(func, ast.Name):
                hint(func.id).kinds.add("callable")  # type: ignore[union-attr]
                for keyword in node.keywords:
                    if keyword.arg == "key" and (h := hint(name_of(keyword.value))):
                        h.kinds.add("callable")
                for position, arg in enumerate(node.args):
                    h = hint(name_of(arg))
                    if h is None:
                        continue
                    if func.id in ("map", "filter") and position == 0:
                        h.kinds.add("callable")
                    elif func.id in _ITERATING:
                        h.kinds.add("seq")
                        if func.id == "sum":
                            h.element = h.element or Hints({"number"})
                    elif func.id in _NUMERIC:
                        h.kinds.add("number")
                        h.small = h.small or func.id == "range"
                    elif func.id == "isinstance" and len(node.args) == 2:
                        h.kinds.update(_isinstance_kinds(node.args[1]))
                        break
        elif isinstance(node, ast.Subscript) and (h := hint(name_of(node.value))):
            index = node.slice
            if isinstance(index, ast.Constant) and isinstance(index.value, str):
                h.kinds.add("dict")
                h.keys.add(index.value)
            else:
                h.kinds.add("seq")
        elif isinstance(node, (ast.BinOp, ast.AugAssign)):
            sides = [node.left, node.right] if isinstance(node, ast.BinOp) else [
                node.target, node.value]
            for side in sides:
                if h := hint(name_of(side)):
                    other = sides[1] if side is sides[0] else sides[0]
                    if isinstance(other, ast.Constant) and isinstance(other.value, str):
                        h.kinds.add("str")
                    else:
                        h.kinds.add("number")
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            if h := hint(name_of(node.operand)):
                h.kinds.add("number")
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not) or isinstance(
                node, (ast.If, ast.While, ast.IfExp, ast.BoolOp)):
            # tested for truth (`if not items: ...`, `x or default`): None is a likely input
            tested = ([node.operand] if isinstance(node, ast.UnaryOp) else node.values
                      if isinstance(node, ast.BoolOp) else [node.test])  # type: ignore[attr-defined]
            for value in tested:
                if isinstance(value, ast.Name) and (h := hint(value.id)):
                    h.kinds.add("none")
        elif isinstance(node, ast.Compare):
            _compare_hints(node, hint)
        elif isinstance(node, (ast.For, ast.comprehension)):
            iterable, target = node.iter, node.target
            if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name) and \
                    iterable.func.id in ("enumerate", "reversed", "sorted") and iterable.args:
                iterable = iterable.args[0]
                if isinstance(target, ast.Tuple) and len(target.elts) == 2:
                    target = target.elts[1]
            if h := hint(name_of(iterable)):
                h.kinds.add("seq")
                if isinstance(target, ast.Name):
                    loops.append((iterable.id, target.id))  # type: ignore[attr-defined]
    keyed = {(name_of(n.value), name_of(n.slice)) for n in ast.walk(function)
             if isinstance(n, ast.Subscript)}
    for iterable_name, item_name in loops:
        if (iterable_name, item_name) in keyed:
            # `for k in d: ... d[k]`: the items are keys, so it is a mapping
            hints[iterable_name].kinds = {"dict"} | (hints[iterable_name].kinds & {"none"})
            continue
        item = hints.get(item_name)
        if item is not None and item is not hints[iterable_name]:
            hints[iterable_name].element = item
    return hints


def _pass_on(call: ast.Call, helper: Function, helper_hints: dict[str, Hints],
             hint: Any) -> None:
    params = [a.arg for a in [*helper.args.posonlyargs, *helper.args.args]]
    pairs = list(zip(params, call.args, strict=False)) + [
        (k.arg, k.value) for k in call.keywords if k.arg]
    for param, arg in pairs:
        h = hint(name_of(arg))
        if h is not None and param in helper_hints:
            h.merge(helper_hints[param])


def recursive(hints: dict[str, Hints]) -> None:
    """A function that calls itself: its numbers are sizes of the work, keep them small
    (fib(1000) done naively never returns)."""
    for h in hints.values():
        if "number" in h.kinds:
            h.small = True


def _isinstance_kinds(node: ast.AST) -> set[str]:
    names = [name_of(n) for n in (node.elts if isinstance(node, ast.Tuple) else [node])]
    table = {"int": "number", "float": "number", "str": "str", "list": "list",
             "dict": "dict", "tuple": "seq", "set": "set", "bool": "bool", "bytes": "bytes"}
    return {table[n] for n in names if n in table}


def _compare_hints(node: ast.Compare, hint: Any) -> None:
    operands = [node.left, *node.comparators]
    for op, left, right in zip(node.ops, operands, operands[1:], strict=False):
        for side, other in ((left, right), (right, left)):
            h = hint(name_of(side))
            if h is None:
                continue
            if isinstance(other, ast.Constant) and other.value is None:
                h.kinds.add("none")
            elif isinstance(op, (ast.Lt, ast.Gt, ast.LtE, ast.GtE)) and isinstance(
                    other, ast.Constant) and isinstance(other.value, (int, float)):
                h.kinds.add("number")
            elif isinstance(op, (ast.In, ast.NotIn)) and side is right:
                h.kinds.add("seq")
            elif isinstance(op, (ast.Eq, ast.NotEq)) and isinstance(other, ast.Constant):
                if isinstance(other.value, str):
                    h.kinds.add("str")
                elif isinstance(other.value, (int, float)) and not isinstance(other.value, bool):
                    h.kinds.add("number")
    for side in operands:
        if isinstance(side, ast.Name) and any(isinstance(o, (ast.Is, ast.IsNot))
                                              for o in node.ops):
            hint(side.id).kinds.add("none")


def body_literals(function: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[list, list]:
    """(numbers, strings) that appear in the body, to make inputs hit its branches."""
    numbers, strings = set(), set()
    for node in ast.walk(function):
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool):
                continue
            if isinstance(value, int) and abs(value) < 10**6:
                numbers.update({value - 1, value, value + 1})
            elif isinstance(value, float):
                numbers.add(value)
            elif isinstance(value, str) and len(value) <= 20:
                strings.add(value)
    doc = ast.get_docstring(function)
    strings.discard(doc)
    return sorted(numbers, key=repr), sorted(strings)
