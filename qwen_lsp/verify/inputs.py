"""Inputs to run both versions on, most trusted first.

1. the docstring's doctest examples (`>>> f(...)`) whose arguments are literals;
2. calls of the function with literal arguments elsewhere in the same file;
3. generated inputs: Hypothesis strategies from type hints and defaults, otherwise from
   what the body does with each parameter (string methods -> strings, `p["key"]` -> dicts
   with that key, `len`/iteration -> sequences, arithmetic -> numbers), seeded with the
   literals the body uses. Generation is derandomized, so a check repeats exactly.

Every value is a plain builtin value, so it pickles and prints.
"""

from __future__ import annotations

import ast
import contextlib
import doctest
import string
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st
from hypothesis.internal.conjecture import providers as _providers

Source = Literal["doctest", "call", "generated"]


@dataclass(frozen=True)
class Case:
    args: tuple
    kwargs: dict
    source: Source


# --- trusted inputs --------------------------------------------------------------------

def _literal_call(call: ast.Call) -> tuple[tuple, dict] | None:
    try:
        args = tuple(ast.literal_eval(a) for a in call.args if not isinstance(a, ast.Starred))
        if len(args) != len(call.args):
            return None
        kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg}
        if len(kwargs) != len(call.keywords):
            return None
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    return args, kwargs


def _calls_of(tree: ast.AST, name: str, method: bool) -> list[ast.Call]:
    calls = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if (not method and isinstance(func, ast.Name) and func.id == name) or (
                method and isinstance(func, ast.Attribute) and func.attr == name):
            calls.append(node)
    return calls


def doctest_cases(docstrings: list[str], name: str, method: bool) -> list[Case]:
    cases = []
    parser = doctest.DocTestParser()
    for text in docstrings:
        try:
            examples = parser.get_examples(text)
        except ValueError:
            continue
        for example in examples:
            try:
                tree = ast.parse(example.source)
            except SyntaxError:
                continue
            for call in _calls_of(tree, name, method):
                found = _literal_call(call)
                if found is not None:
                    cases.append(Case(*found, "doctest"))
    return cases


def file_call_cases(module_source: str, name: str, method: bool) -> list[Case]:
    try:
        tree = ast.parse(module_source)
    except SyntaxError:
        return []
    cases = []
    for call in _calls_of(tree, name, method):
        found = _literal_call(call)
        if found is not None:
            cases.append(Case(*found, "call"))
    return cases


def docstrings_of(function: ast.FunctionDef | ast.AsyncFunctionDef,
                  module_source: str) -> list[str]:
    """The function's docstring, then the other docstrings of the file (a module or class
    docstring often carries the examples)."""
    texts = [ast.get_docstring(function) or ""]
    try:
        tree = ast.parse(module_source)
    except SyntaxError:
        return texts
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node)
            if doc and doc not in texts:
                texts.append(doc)
    return texts


# --- what the body tells about each parameter ------------------------------------------

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


def _name_of(node: ast.AST) -> str | None:
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
            if isinstance(func, ast.Attribute) and (h := hint(_name_of(func.value))):
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
                    if node.args and (e := hint(_name_of(node.args[0]))):
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
                    if keyword.arg == "key" and (h := hint(_name_of(keyword.value))):
                        h.kinds.add("callable")
                for position, arg in enumerate(node.args):
                    h = hint(_name_of(arg))
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
        elif isinstance(node, ast.Subscript) and (h := hint(_name_of(node.value))):
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
                if h := hint(_name_of(side)):
                    other = sides[1] if side is sides[0] else sides[0]
                    if isinstance(other, ast.Constant) and isinstance(other.value, str):
                        h.kinds.add("str")
                    else:
                        h.kinds.add("number")
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            if h := hint(_name_of(node.operand)):
                h.kinds.add("number")
        elif isinstance(node, ast.Compare):
            _compare_hints(node, hint)
        elif isinstance(node, (ast.For, ast.comprehension)):
            iterable, target = node.iter, node.target
            if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name) and \
                    iterable.func.id in ("enumerate", "reversed", "sorted") and iterable.args:
                iterable = iterable.args[0]
                if isinstance(target, ast.Tuple) and len(target.elts) == 2:
                    target = target.elts[1]
            if h := hint(_name_of(iterable)):
                h.kinds.add("seq")
                if isinstance(target, ast.Name):
                    loops.append((iterable.id, target.id))  # type: ignore[attr-defined]
    keyed = {(_name_of(n.value), _name_of(n.slice)) for n in ast.walk(function)
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
        h = hint(_name_of(arg))
        if h is not None and param in helper_hints:
            h.merge(helper_hints[param])


def recursive(hints: dict[str, Hints]) -> None:
    """A function that calls itself: its numbers are sizes of the work, keep them small
    (fib(1000) done naively never returns)."""
    for h in hints.values():
        if "number" in h.kinds:
            h.small = True


def _isinstance_kinds(node: ast.AST) -> set[str]:
    names = [_name_of(n) for n in (node.elts if isinstance(node, ast.Tuple) else [node])]
    table = {"int": "number", "float": "number", "str": "str", "list": "list",
             "dict": "dict", "tuple": "seq", "set": "set", "bool": "bool", "bytes": "bytes"}
    return {table[n] for n in names if n in table}


def _compare_hints(node: ast.Compare, hint: Any) -> None:
    operands = [node.left, *node.comparators]
    for op, left, right in zip(node.ops, operands, operands[1:], strict=False):
        for side, other in ((left, right), (right, left)):
            h = hint(_name_of(side))
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


# --- strategies -----------------------------------------------------------------------

_ALPHABET = (string.ascii_letters + string.digits + string.punctuation + " \t\n\r\x00"
             + "éÉßİıﬁ\u0301ω€中😀")
_WORDS = ["", " ", "a", "A", "ab", "a b", "hello world", "  padded  ", "Hello, World!",
          "x,y,z", "a;b;c", "key=value", "a.b.c", "path/to/file.txt", "123", "-4.5", "1e3",
          "0", "007", "None", "null", "True", "false", "CamelCase", "snake_case",
          "kebab-case", "UPPER", "lower", "Mixed Case 42", "line\nbreak", "tab\tsep",
          "\n", "\t", "éclair", "straße", "İstanbul", "ﬁne", "e\u0301", "ω", "€5",
          "中文", "😀", "a\x00b", "'quoted'", '"double"', "[1, 2]", "{}", "#tag",
          "@user", "snake_Case_Mix", "aaa", "abcabc", "The quick brown fox"]


def _pool(size: int = 160, seed: int = 0) -> list[str]:
    """Fixed strings: common shapes, then random ones over _ALPHABET (seeded)."""
    import random
    rng = random.Random(seed)
    made = ["".join(rng.choice(_ALPHABET) for _ in range(rng.randint(1, 12)))
            for _ in range(size - len(_WORDS))]
    return _WORDS + made


_TEXTS = _pool()
# Functions as inputs, for parameters the body calls: builtins pickle by name.
_CALLABLES = [str, abs, len, bool, repr, int, float, sorted, list, tuple, str.upper, max]


def _text() -> st.SearchStrategy:
    """One draw per string, from a fixed pool (ASCII, whitespace, separators, numbers as
    text, letters that change under case mapping or normalisation, an astral character).
    Not st.text(): every text strategy makes Hypothesis build a Unicode character map and
    cache it in ./.hypothesis, that is, in the user's project; and building strings one
    character at a time made generation several times slower."""
    return st.sampled_from(_TEXTS)


class _Strategies:
    def __init__(self, numbers: list, strings: list, *, special_floats: bool = True) -> None:
        ints = st.integers(-1000, 1000)
        if numbers:
            ints = st.one_of(ints, st.sampled_from([n for n in numbers if isinstance(n, int)]
                                                   or [0]))
        self.int = ints
        self.float = st.floats(-1e6, 1e6) | st.sampled_from(
            [0.0, -0.0, 0.5, *([float("inf"), float("nan")] if special_floats else [])])
        self.text = st.one_of(_text(),
                              *([st.sampled_from(strings)] if strings else []))
        self.strings = strings
        self.number = st.one_of(self.int, self.float)
        self.scalar = st.one_of(st.none(), st.booleans(), self.int, self.float, self.text)
        self.any = st.one_of(self.scalar, st.lists(self.scalar, max_size=6),
                             st.dictionaries(self.text, self.scalar, max_size=4),
                             st.tuples(self.scalar, self.scalar))

    def from_hints(self, h: Hints | None, depth: int = 0) -> st.SearchStrategy:
        if h is None or not h.kinds - {"none"}:
            base = self.any if depth == 0 else self.scalar
            return st.one_of(st.none(), base) if h is not None and "none" in h.kinds else base
        element = self.from_hints(h.element, depth + 1) if h.element else self.scalar
        if h.element is None and depth == 0:
            element = st.one_of(self.int, self.text, self.float, st.none())
        options = []
        for kind in sorted(h.kinds):
            if kind == "number":
                options.append(st.integers(-2, 20) if h.small else self.number)
            elif kind == "str":
                options.append(self.text)
            elif kind == "bool":
                options.append(st.booleans())
            elif kind == "bytes":
                options.append(st.binary(max_size=12))
            elif kind == "list":
                options.append(st.lists(element, max_size=6))
            elif kind == "set":
                options.append(st.sets(st.one_of(self.int, self.text), max_size=6))
            elif kind == "seq":
                options.append(st.lists(element, max_size=6))
                if "str" not in h.kinds and h.element is None:
                    options.extend([self.text, st.tuples(element, element)])
            elif kind == "dict":
                options.append(self.dicts(h.keys))
            elif kind == "none":
                options.append(st.none())
            elif kind == "callable":
                options.append(st.sampled_from(_CALLABLES))
        return st.one_of(*options)

    def dicts(self, keys: set[str]) -> st.SearchStrategy:
        loose = st.dictionaries(self.text, self.scalar, max_size=4)
        if not keys:
            return loose
        fixed = st.fixed_dictionaries({}, optional={k: self.scalar for k in sorted(keys)})
        full = st.fixed_dictionaries({k: self.scalar for k in sorted(keys)})
        return st.one_of(full, fixed, loose)

    def from_annotation(self, node: ast.AST | None) -> st.SearchStrategy | None:
        """A strategy from a type hint written in the source, or None if it is not one
        of the builtin shapes."""
        if node is None:
            return None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                node = ast.parse(node.value, mode="eval").body
            except SyntaxError:
                return None
        if isinstance(node, ast.Constant) and node.value is None:
            return st.none()
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            parts = [self.from_annotation(node.left), self.from_annotation(node.right)]
            return st.one_of(*parts) if _known(parts) else None  # type: ignore[arg-type]
        name = ast.unparse(node.value if isinstance(node, ast.Subscript) else node)
        name = name.rsplit(".", 1)[-1]
        args: list[ast.AST] = []
        if isinstance(node, ast.Subscript):
            args = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
        inner = [self.from_annotation(a) for a in args]
        first = inner[0] if inner and inner[0] is not None else self.scalar
        simple = {"int": self.int, "float": self.number, "str": self.text,
                  "bool": st.booleans(), "bytes": st.binary(max_size=12), "complex": None,
                  "Any": self.any, "object": self.any, "None": st.none()}
        if name in simple and not args:
            return simple[name]
        if name in ("list", "List", "Sequence", "Iterable", "Collection", "MutableSequence",
                    "Iterator"):
            return st.lists(first, max_size=6)
        if name in ("set", "Set", "frozenset", "FrozenSet", "AbstractSet", "MutableSet"):
            hashable = first if args and args[0] is not None and ast.unparse(args[0]) in (
                "int", "str", "float", "bool") else st.one_of(self.int, self.text)
            return st.frozensets(hashable, max_size=6) if "rozen" in name else st.sets(
                hashable, max_size=6)
        if name in ("dict", "Dict", "Mapping", "MutableMapping"):
            key = inner[0] if inner and inner[0] is not None else self.text
            if args and ast.unparse(args[0]) not in ("int", "str", "float", "bool"):
                key = self.text
            value = inner[1] if len(inner) > 1 and inner[1] is not None else self.scalar
            return st.dictionaries(key, value, max_size=5)
        if name in ("tuple", "Tuple"):
            if len(args) == 2 and isinstance(args[1], ast.Constant) and args[1].value is ...:
                return st.lists(first, max_size=6).map(tuple)
            if inner and all(s is not None for s in inner):
                return st.tuples(*inner)  # type: ignore[arg-type]
            return st.tuples(self.scalar, self.scalar)
        if name == "Optional" and inner and inner[0] is not None:
            return st.one_of(st.none(), inner[0])
        if name == "Union" and inner and all(s is not None for s in inner):
            return st.one_of(*inner)  # type: ignore[arg-type]
        if name == "Literal":
            try:
                return st.sampled_from([ast.literal_eval(a) for a in args])
            except ValueError:
                return None
        return None


def _known(strategies: list) -> bool:
    """Every one is a strategy (not bool(): Hypothesis warns that a strategy is truthy)."""
    return all(x is not None for x in strategies)


def _default_strategy(default: ast.AST, s: _Strategies) -> st.SearchStrategy | None:
    try:
        value = ast.literal_eval(default)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    for kind, strategy in ((bool, st.booleans()), (int, s.int), (float, s.number),
                           (str, s.text), (bytes, st.binary(max_size=12))):
        if isinstance(value, kind):
            return strategy
    if isinstance(value, (list, tuple)):
        return st.lists(s.scalar, max_size=6).map(type(value))
    if isinstance(value, dict):
        return s.dicts(set())
    return None


_COLLECT = threading.Lock()


def generated_cases(function: Function, skip: int, count: int,
                    helpers: dict[str, Function] | None = None,
                    seconds: float = 0.25) -> list[Case]:
    """Up to `count` inputs for the parameters of `function` from the `skip`-th on;
    `helpers`: the file's functions, whose use of what they are passed counts too."""
    if count <= 0:
        return []
    numbers, strings = body_literals(function)
    s = _Strategies(numbers, strings)
    hints = body_hints(function, helpers)
    if any(isinstance(n, ast.Call) and _name_of(n.func) == function.name
           for n in ast.walk(function)):
        recursive(hints)
    args = function.args
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.AST | None] = [None] * (len(positional) - len(args.defaults)) + list(
        args.defaults)
    params = []  # (name, strategy, has default, keyword only)
    for arg, default in list(zip(positional, defaults, strict=True))[skip:]:
        params.append((arg.arg, _param_strategy(arg, default, hints, s), default is not None,
                       False))
    for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        params.append((arg.arg, _param_strategy(arg, default, hints, s), default is not None,
                       True))
    extra = None
    if args.vararg is not None:
        extra = st.lists(_param_strategy(args.vararg, None, hints, s), max_size=3)
    return draw_cases(params, extra, count, seconds=seconds)


Param = tuple  # (name, strategy, has a default, keyword-only)


MIN_DRAWN = 120  # a few repeats are dropped afterwards


class _Enough(Exception):
    """Ends a draw when its time is up."""


def draw_cases(params: list[Param], extra: st.SearchStrategy | None, count: int, *,
               by_keyword: bool = True, seconds: float = 0.25) -> list[Case]:
    """Up to `count` argument lists, drawn for at most `seconds` once MIN_DRAWN are there
    (the same lists, in the same order, every time: only how many beyond MIN_DRAWN may
    vary with the machine's load). A parameter
    with a default is sometimes left out (later ones then go by keyword, or, without
    keywords, are left out too); `extra` draws the values of a `*args`."""

    @st.composite
    def case(draw: Any) -> tuple[tuple, dict]:
        positional_values: list = []
        keywords: dict = {}
        skipped = False
        for name, strategy, has_default, keyword_only in params:
            if has_default and draw(st.booleans()):
                skipped = True
                if not by_keyword:
                    break
                continue
            value = draw(strategy)
            if keyword_only or skipped:
                keywords[name] = value
            else:
                positional_values.append(value)
        if extra is not None and not skipped and not keywords:
            positional_values.extend(draw(extra))
        return tuple(positional_values), keywords

    drawn: list[tuple[tuple, dict]] = []
    stop_at = time.perf_counter() + seconds

    @settings(database=None, derandomize=True, max_examples=count, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck), deadline=None,
              verbosity=Verbosity.quiet, print_blob=False, report_multiple_bugs=False)
    @given(case())
    def collect(value: tuple[tuple, dict]) -> None:
        drawn.append(value)
        if len(drawn) >= min(count, MIN_DRAWN) and time.perf_counter() > stop_at:
            raise _Enough

    with _COLLECT, _no_local_constants():
        try:
            collect()
        except _Enough:
            pass
    return [Case(a, k, "generated") for a, k in drawn[:count]]


@contextlib.contextmanager
def _no_local_constants() -> Iterator[None]:
    """Hypothesis (>= 6.131) mixes in constants it collects from the source files of the
    running program -- here the language server's own code -- parsing them once (about
    a second) and caching them under ./.hypothesis, i.e. in the user's project. Neither
    helps to check a user's function (its own literals are fed in explicitly), so for
    the duration of the draw that collection sees no modules. Private API: if it moves,
    nothing is patched and generation still works, only slower the first time."""
    collect = getattr(_providers, "_get_local_constants", None)
    empty = getattr(_providers, "Constants", None)
    if collect is None or empty is None:
        yield
        return
    _providers._get_local_constants = empty  # type: ignore[attr-defined]
    try:
        yield
    finally:
        _providers._get_local_constants = collect  # type: ignore[attr-defined]


def _param_strategy(arg: ast.arg, default: ast.AST | None, hints: dict[str, Hints],
                    s: _Strategies) -> st.SearchStrategy:
    strategy = s.from_annotation(arg.annotation)
    if strategy is None and default is not None:
        strategy = _default_strategy(default, s)
        if strategy is not None and arg.arg in hints and hints[arg.arg].kinds:
            strategy = st.one_of(strategy, s.from_hints(hints[arg.arg]))
    if strategy is None:
        strategy = s.from_hints(hints.get(arg.arg))
    if default is not None and isinstance(default, ast.Constant) and default.value is None:
        strategy = st.one_of(st.none(), strategy)
    return strategy


def unique(cases: list[Case]) -> list[Case]:
    """Cases in order with repeats (same arguments, same types) dropped."""
    seen: set[str] = set()
    kept = []
    for case in cases:
        key = _key(case.args) + "|" + _key(case.kwargs)
        if key not in seen:
            seen.add(key)
            kept.append(case)
    return kept


def _key(value: object) -> str:
    return repr(value) + type(value).__name__
