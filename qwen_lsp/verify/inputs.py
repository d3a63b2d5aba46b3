"""Inputs to run both versions on, most trusted first.

1. the docstring's doctest examples (`>>> f(...)`) whose arguments are literals, names an
   earlier example bound to a literal, safe lambdas (`pred = lambda x: x is None`) or
   `iter(<literal>)`;
2. calls of the function with literal arguments elsewhere in the same file;
3. generated inputs: Hypothesis strategies from type hints and defaults, otherwise from
   what the body does with each parameter (string methods -> strings, `p["key"]` -> dicts
   with that key, `len`/iteration -> sequences, arithmetic -> numbers), seeded with the
   literals the body uses. Generation is derandomized, so a check repeats exactly.

Every value is a plain builtin value, so it pickles and prints; a function argument is a
lambda's source text that the child compiles (strategies.LAMBDA_KEY).
"""

from __future__ import annotations

import ast
import contextlib
import doctest
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st
from hypothesis.internal.conjecture import providers as _providers

from .hints import Function, Hints, body_hints, body_literals, name_of, recursive
from .names import SAFE_BUILTINS
from .strategies import ITER_KEY, LAMBDA_KEY, Strategies, default_strategy

Source = Literal["doctest", "call", "generated"]


@dataclass(frozen=True)
class Case:
    args: tuple
    kwargs: dict
    source: Source


# --- trusted inputs --------------------------------------------------------------------

class _NotAnInput(Exception):
    """An argument that is not a value we can send: not a literal, a known name or a safe
    lambda."""


def safe_lambda(node: ast.AST) -> str | None:
    """The source of a lambda that only computes on what it is given (its parameters and
    the safe builtins, no private attributes), or None."""
    if not isinstance(node, ast.Lambda):
        return None
    bound = {a.arg for a in ast.walk(node) if isinstance(a, ast.arg)}
    bound |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name)
              and isinstance(n.ctx, ast.Store)}
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name) and sub.id not in bound and sub.id not in SAFE_BUILTINS:
            return None
        if isinstance(sub, ast.Attribute) and sub.attr.startswith("_"):
            return None
        if isinstance(sub, (ast.NamedExpr, ast.Await, ast.Yield, ast.YieldFrom)):
            return None
    return ast.unparse(node)


def _value(node: ast.AST, env: dict[str, Any]) -> Any:
    """An argument's value: a literal, a name the doctest bound before, a safe lambda
    (as LAMBDA_KEY source), or `iter(<literal list>)` (as ITER_KEY)."""
    if isinstance(node, ast.Name) and node.id in env:
        return env[node.id]
    source = safe_lambda(node)
    if source is not None:
        return {LAMBDA_KEY: source}
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
            node.func.id == "iter" and len(node.args) == 1 and not node.keywords:
        items = _value(node.args[0], env)
        if isinstance(items, (list, tuple, str)):
            return {ITER_KEY: list(items)}
        raise _NotAnInput
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise _NotAnInput from None


def _literal_call(call: ast.Call, env: dict[str, Any] | None = None
                  ) -> tuple[tuple, dict] | None:
    env = env or {}
    if any(isinstance(a, ast.Starred) for a in call.args) or any(
            k.arg is None for k in call.keywords):
        return None
    try:
        args = tuple(_value(a, env) for a in call.args)
        kwargs = {k.arg: _value(k.value, env) for k in call.keywords if k.arg}
    except _NotAnInput:
        return None
    return args, kwargs


def _bind(statement: ast.stmt, env: dict[str, Any]) -> None:
    """`name = value` in a doctest: remember the value (or forget the name if it is not
    one we can send)."""
    if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)):
        return
    target = statement.targets[0].id
    try:
        env[target] = _value(statement.value, env)
    except _NotAnInput:
        env.pop(target, None)


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


def _doctest_trees(text: str) -> list[ast.Module]:
    """A docstring's doctest examples, each parsed, in order (those that parse)."""
    try:
        examples = doctest.DocTestParser().get_examples(text)
    except ValueError:
        return []
    trees = []
    for example in examples:
        try:
            trees.append(ast.parse(example.source))
        except SyntaxError:
            continue
    return trees


def doctest_cases(docstrings: list[str], name: str, method: bool) -> list[Case]:
    cases = []
    for text in docstrings:
        env: dict[str, Any] = {}  # what the examples bound so far, e.g. `pred = lambda x: ...`
        for tree in _doctest_trees(text):
            for call in _calls_of(tree, name, method):
                found = _literal_call(call, env)
                if found is not None:
                    cases.append(Case(*found, "doctest"))
            for statement in tree.body:
                _bind(statement, env)
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


INIT_KEY = "\x00init"  # {INIT_KEY: (args, kwargs)}: build the instance with these first


def _example_trees(texts: list[str]) -> Iterator[tuple[list[ast.Module], Source]]:
    """Each text as the statements it runs, in order: a docstring's doctest examples, or
    (a text that parses as a whole) the file itself."""
    for text in texts:
        try:
            yield [ast.parse(text)], "call"
        except SyntaxError:
            yield _doctest_trees(text), "doctest"


def _constructed(node: ast.AST, class_name: str, env: dict[str, Any],
                 instances: dict[str, tuple]) -> tuple | None:
    """(args, kwargs) when `node` is `Class(<literals>)` or a name bound to one."""
    if isinstance(node, ast.Name) and node.id in instances:
        return instances[node.id]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
            node.func.id == class_name:
        return _literal_call(node, env)
    return None


def receiver_cases(texts: list[str], class_name: str, method: str,
                   is_property: bool = False) -> list[Case]:
    """`Class(<literals>).method(<literals>)` (or `obj.method(...)` after
    `obj = Class(...)`) in doctests and the file: the first argument is {INIT_KEY: the
    constructor's (args, kwargs)}; `Class.method(...)` gives None there (a classmethod).
    `is_property`: `Class(...).method` read, not called."""
    cases = []
    for trees, source in _example_trees(texts):
        env: dict[str, Any] = {}
        instances: dict[str, tuple] = {}
        for tree in trees:
            for node in ast.walk(tree):
                if is_property:
                    if isinstance(node, ast.Attribute) and node.attr == method:
                        init = _constructed(node.value, class_name, env, instances)
                        if init is not None:
                            cases.append(Case(({INIT_KEY: init},), {}, source))
                    continue
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and node.func.attr == method):
                    continue
                owner = node.func.value
                if isinstance(owner, ast.Name) and owner.id == class_name:
                    first: object = None
                else:
                    init = _constructed(owner, class_name, env, instances)
                    if init is None:
                        continue
                    first = {INIT_KEY: init}
                found = _literal_call(node, env)
                if found is not None:
                    cases.append(Case((first, *found[0]), found[1], source))
            for statement in tree.body:
                _bind(statement, env)
                if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and \
                        isinstance(statement.targets[0], ast.Name):
                    init = _constructed(statement.value, class_name, env, instances)
                    if init is None:
                        instances.pop(statement.targets[0].id, None)
                    else:
                        instances[statement.targets[0].id] = init
    return cases


def constructor_cases(texts: list[str], class_name: str) -> list[Case]:
    """`Class(<literals>)` in doctests and the file: inputs for its `__init__`."""
    cases = []
    for trees, source in _example_trees(texts):
        env: dict[str, Any] = {}
        for tree in trees:
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                        node.func.id == class_name:
                    found = _literal_call(node, env)
                    if found is not None:
                        cases.append(Case(*found, source))
            for statement in tree.body:
                _bind(statement, env)
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


_COLLECT = threading.Lock()


def generated_cases(function: Function, skip: int, count: int,
                    helpers: dict[str, Function] | None = None,
                    seconds: float = 0.25) -> list[Case]:
    """Up to `count` inputs for the parameters of `function` from the `skip`-th on;
    `helpers`: the file's functions, whose use of what they are passed counts too."""
    if count <= 0:
        return []
    numbers, strings = body_literals(function)
    s = Strategies(numbers, strings)
    hints = body_hints(function, helpers)
    if any(isinstance(n, ast.Call) and name_of(n.func) == function.name
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
                    s: Strategies) -> st.SearchStrategy:
    strategy = s.from_annotation(arg.annotation)
    if strategy is None and default is not None:
        strategy = default_strategy(default, s)
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
