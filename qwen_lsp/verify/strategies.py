"""Hypothesis strategies for inputs: from type hints, defaults and body hints.

Values are plain builtin values (and a few builtin functions, for parameters the body
calls), so they pickle, print and become JSON for node.
"""

from __future__ import annotations

import ast
import random
import string

from hypothesis import strategies as st

from .hints import Hints

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
    rng = random.Random(seed)
    made = ["".join(rng.choice(_ALPHABET) for _ in range(rng.randint(1, 12)))
            for _ in range(size - len(_WORDS))]
    return _WORDS + made


_TEXTS = _pool()
# Functions as inputs, for parameters the body calls: builtins pickle by name.
_CALLABLES = [str, abs, len, bool, repr, int, float, sorted, list, tuple, str.upper, max]
# ... and lambdas, sent as source text (LAMBDA_KEY) and compiled by the child: predicates
# that keep some items and drop others, as a `pred`/`key` argument is meant to, so that a
# rewrite which filters everywhere instead of only at the ends (say) is told apart.
_LAMBDAS = ["lambda x: not x", "lambda x: x is None", "lambda x: x in (None, False, '', 0)",
            "lambda x: isinstance(x, (int, float)) and x > 0",
            "lambda x: isinstance(x, int) and x % 2 == 0", "lambda x: str(x)[:1]",
            "lambda *args: len(args) > 1"]


def _text() -> st.SearchStrategy:
    """One draw per string, from a fixed pool (ASCII, whitespace, separators, numbers as
    text, letters that change under case mapping or normalisation, an astral character).
    Not st.text(): every text strategy makes Hypothesis build a Unicode character map and
    cache it in ./.hypothesis, that is, in the user's project; and building strings one
    character at a time made generation several times slower."""
    return st.sampled_from(_TEXTS)


# Functions as inputs to JavaScript, by index into this pool (the child defines them in
# its sandbox): {JS_FUNCTION_KEY: i}. Keys, mappers, predicates and a comparator that
# take any value, so that most calls return rather than throw.
JS_FUNCTIONS = ["(x) => x", "(x) => String(x).slice(0, 1)",
                "(x) => (typeof x === 'number' ? x * 2 : 0)", "(x) => !x",
                "(x) => typeof x", "(a, b) => (a < b ? -1 : a > b ? 1 : 0)"]
JS_FUNCTION_KEY = "$fn"

# An input that the child turns into iter(list) before the call (iterators do not pickle).
ITER_KEY = "\x00iter"
# An input that the child compiles into a function: {LAMBDA_KEY: "lambda x: ..."}.
LAMBDA_KEY = "\x00lambda"


class Strategies:
    def __init__(self, numbers: list, strings: list, *, special_floats: bool = True,
                 iterators: bool = True, lambdas: bool = True,
                 javascript: bool = False) -> None:
        self.iterators = iterators
        self.lambdas = lambdas
        self.javascript = javascript  # functions are JS_FUNCTIONS markers
        # small ones as often as any: sizes, counts and indexes are mostly small
        ints = st.one_of(st.integers(-2, 10), st.integers(-1000, 1000))
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
                if h.element is None or not h.element.kinds - {"none"}:
                    # items of no known kind: unhashable ones too
                    options.append(st.lists(st.one_of(element, st.lists(self.scalar,
                                                                        max_size=2)),
                                            max_size=6))
                if self.iterators:  # iterated only: an iterator, which has no len()
                    options.append(st.lists(element, max_size=6).map(
                        lambda items: {ITER_KEY: items}))
                if "str" not in h.kinds and h.element is None:
                    options.extend([self.text, st.tuples(element, element)])
            elif kind == "dict":
                options.append(self.dicts(h.keys))
            elif kind == "none":
                options.append(st.none())
            elif kind == "callable" and self.javascript:
                options.append(st.sampled_from([{JS_FUNCTION_KEY: i}
                                                for i in range(len(JS_FUNCTIONS))]))
            elif kind == "callable":
                options.append(st.sampled_from(_CALLABLES))
                if self.lambdas:  # as often as the builtins
                    options.append(st.sampled_from([{LAMBDA_KEY: src} for src in _LAMBDAS]))
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
            return st.one_of(*parts) if known(parts) else None  # type: ignore[arg-type]
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


def known(strategies: list) -> bool:
    """Every one is a strategy (not bool(): Hypothesis warns that a strategy is truthy)."""
    return all(x is not None for x in strategies)


def default_strategy(default: ast.AST, s: Strategies) -> st.SearchStrategy | None:
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
