"""Behaviour checks of Python rewrites: real functions, real rewrites, the real child process."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest

from qwen_lsp.verify import check_python, python, undefined_names
from qwen_lsp.verify.report import BehaviourReport


def check(module: str, original: str, rewritten: str, name: str, **kwargs) -> BehaviourReport:
    return check_python(textwrap.dedent(module), textwrap.dedent(original).strip() + "\n",
                        textwrap.dedent(rewritten).strip() + "\n", name, **kwargs)


def defined(module: str, name: str) -> str:
    """The text of top-level `def name` in `module`, as the caller would pass it."""
    import ast
    source = textwrap.dedent(module)
    node = next(n for n in ast.parse(source).body if getattr(n, "name", None) == name)
    return ast.get_source_segment(source, node, padded=False)  # type: ignore[return-value]


TOTAL = '''
def total(items):
    """Add the numbers, skipping missing ones."""
    result = 0
    for item in items:
        if item is not None:
            result += item
    return result
'''


def test_a_correct_refactor_is_the_same_on_many_inputs():
    report = check(TOTAL, TOTAL, '''
        def total(items):
            """Add the numbers, skipping missing ones."""
            return sum(item for item in items if item is not None)
    ''', "total")
    assert report.status == "same", report
    assert report.cases >= 100
    assert report.note() == f"behaviour-checked on {report.cases} inputs: same results"


def test_a_dropped_none_check_is_found_with_an_input_holding_none():
    report = check(TOTAL, TOTAL, '''
        def total(items):
            """Add the numbers, skipping missing ones."""
            return sum(items)
    ''', "total")
    assert report.status == "different", report
    assert "None" in report.counterexample.split(" the original ")[0]
    assert "the rewrite raises TypeError" in report.counterexample
    assert report.note().startswith("behaviour changed: for total([")


def test_reduce_without_import_is_an_undefined_name_and_a_name_error():
    rewritten = '''
        def total(items):
            """Add the numbers, skipping missing ones."""
            return reduce(lambda a, b: a + b, [i for i in items if i is not None], 0)
    '''
    new_file = textwrap.dedent(rewritten).strip() + "\n\nprint(total([1]))\n"
    assert undefined_names(new_file, 1, 3) == [
        "line 3: undefined name 'reduce' (add `from functools import reduce`, or do not use it)"]
    report = check(TOTAL, TOTAL, rewritten, "total")
    assert report.status == "different"
    assert "the rewrite raises NameError: name 'reduce' is not defined" in report.counterexample


def test_undefined_names_does_not_blame_the_rewrite_for_old_problems():
    before = "def f(x):\n    return helper(x)\n"
    after = "def f(x):\n    return helper(x) + missing\n"
    assert undefined_names(after, 1, 2, module_source_before=before) == [
        "line 2: undefined name 'missing' (import or define it, or do not use it)"]
    assert undefined_names(after, 3, 9) == []  # outside the rewritten lines


def test_an_index_out_of_range_is_found():
    original = '''
        def last_word(text):
            words = text.split()
            return words[-1] if words else ""
    '''
    report = check(original, original, '''
        def last_word(text):
            return text.split()[-1]
    ''', "last_word")
    assert report.status == "different"
    assert "the rewrite raises IndexError: list index out of range" in report.counterexample
    assert "the original returns ''" in report.counterexample


def test_a_wrong_value_on_the_empty_list_is_found():
    original = '''
        def largest(values):
            if not values:
                return None
            best = values[0]
            for value in values[1:]:
                if value > best:
                    best = value
            return best
    '''
    report = check(original, original, '''
        def largest(values):
            return max(values, default=0)
    ''', "largest")
    assert report.status == "different"
    # `if not values` tests it for truth, so None is tried too, where the rewrite raises
    assert report.counterexample in (
        "for largest([]) the original returns None; the rewrite returns 0",
        "for largest(None) the original returns None; the rewrite raises TypeError: "
        "'NoneType' object is not iterable"), report.counterexample


def test_mutating_an_argument_the_original_left_alone_is_found():
    original = '''
        def ordered(numbers: list[int]) -> list[int]:
            return sorted(numbers)
    '''
    report = check(original, original, '''
        def ordered(numbers: list[int]) -> list[int]:
            numbers.sort()
            return numbers
    ''', "ordered")
    assert report.status == "different"
    assert "the rewrite changes its argument `numbers` to" in report.counterexample
    assert "(the original leaves it as it was)" in report.counterexample


def test_an_infinite_loop_in_the_rewrite_is_different_within_the_timeout():
    original = '''
        def countdown(n):
            steps = []
            while n > 0:
                steps.append(n)
                n -= 1
            return steps
    '''
    start = time.perf_counter()
    report = check(original, original, '''
        def countdown(n):
            steps = []
            while n != 0:
                steps.append(n)
                n -= 1
                steps = steps[-5:]
            return steps
    ''', "countdown")
    elapsed = time.perf_counter() - start
    assert report.status == "different"
    assert "the rewrite does not finish within" in report.counterexample
    assert elapsed < 2.5  # the wall-clock limit is the budget + 1 s


@pytest.fixture
def no_child(monkeypatch):
    """Fails the test if a child process is started at all."""
    def refuse(*args, **kwargs):
        raise AssertionError("a child process was started")
    monkeypatch.setattr(python, "start_python", refuse)


def test_a_function_that_opens_files_is_unchecked_and_never_run(tmp_path, no_child):
    marker = tmp_path / "created-by-the-check"
    original = f'''
        def save(text):
            with open({str(marker)!r}, "w") as handle:
                handle.write(text)
            return len(text)
    '''
    report = check(original, original, original.replace("len(text)", "len(text) + 0"), "save")
    assert report.status == "unchecked"
    assert report.reason == "it calls open()"
    assert report.note() == "not behaviour-checked: it calls open()"
    assert not marker.exists()


def test_os_system_is_unchecked_with_its_name(tmp_path, no_child):
    marker = tmp_path / "touched"
    module = f'''
        import os

        def clean(path):
            os.system("touch {marker}")
            return path.strip()
    '''
    report = check(module, defined(module, "clean"), defined(module, "clean"), "clean")
    assert report.status == "unchecked"
    assert report.reason == "it calls `os.system`"
    assert not marker.exists()


def test_a_non_literal_global_is_unchecked(no_child):
    module = '''
        import json

        def load_config():
            return json.loads(open("config.json").read())

        CONFIG = load_config()

        def limit(value):
            return min(value, CONFIG["max"])
    '''
    text = defined(module, "limit")
    report = check(module, text, text.replace("min(value,", "min(value + 0,"), "limit")
    assert report.status == "unchecked"
    assert report.reason == ("it uses the module-level name `CONFIG`, which is not a literal "
                             "(`load_config()`)")


def test_random_and_the_clock_are_unchecked(no_child):
    module = '''
        import random
        from datetime import datetime

        def pick(items):
            return random.choice(items)

        def stamp(text):
            return f"{datetime.now():%H:%M} {text}"
    '''
    pick = check(module, defined(module, "pick"), defined(module, "pick"), "pick")
    assert pick.reason == "it uses random numbers (`random`)"
    stamp = check(module, defined(module, "stamp"), defined(module, "stamp"), "stamp")
    assert stamp.reason == "it reads the clock (`datetime.now`)"


def test_doctest_inputs_come_first():
    module = '''
        def shout(text):
            """Upper-case with a bang.

            >>> shout("hello world")
            'HELLO WORLD!'
            """
            return text.upper() + "!"
    '''
    text = defined(module, "shout")
    report = check(module, text, text.replace('"!"', '"!!"'), "shout")
    assert report.status == "different"
    assert report.counterexample.startswith("for shout('hello world') the original returns "
                                            "'HELLO WORLD!'; the rewrite returns 'HELLO WORLD!!'")


def test_literal_calls_in_the_same_file_come_first():
    module = '''
        def scale(value, factor=2):
            return value * factor

        BIG = scale(7, factor=3)
    '''
    text = defined(module, "scale")
    report = check(module, text, text.replace("value * factor", "value * factor + 0.0"),
                   "scale")
    assert report.status == "different"
    assert report.counterexample.startswith("for scale(7, factor=3) the original returns 21; "
                                            "the rewrite returns 21.0")


def test_same_file_helpers_and_literal_constants_go_along():
    module = '''
        import re

        SEPARATOR = ", "
        _SPACES = re.compile(r"\\s+")

        def _clean(word):
            return _SPACES.sub(" ", word.strip()).lower()

        def _all_clean(words):
            return [_clean(w) for w in words if w and w.strip()]

        def join_words(words):
            cleaned = []
            for word in _all_clean(words):
                if word not in cleaned:
                    cleaned.append(word)
            return SEPARATOR.join(cleaned)
    '''
    report = check(module, defined(module, "join_words"), '''
        def join_words(words):
            return SEPARATOR.join(dict.fromkeys(_all_clean(words)))
    ''', "join_words")
    assert report.status == "same", report
    assert report.cases >= 100
    assert report.raised < report.cases / 2


def test_a_method_whose_class_is_not_in_the_file_is_unchecked(no_child):
    method = '''
        def area(self):
            return self.width * self.height
    '''
    report = check("class Box:\n    pass\n", method, method.replace("*", "* 1 *"), "area",
                   class_name="Box")
    assert report.status == "unchecked"
    assert report.reason == "it uses `self`, and its class in the file does not define `area`"


BOX = '''
class Box:
    """A box.

    >>> Box(2, 3).area()
    6
    """

    def __init__(self, width, height):
        self.width = width
        self.height = height
        self.log = []

    def area(self):
        return self.width * self.height

    def grow(self, by):
        self.log.append(by)
        self.width += by
        return self
'''


def _method(module: str, name: str) -> str:
    import ast
    source = textwrap.dedent(module)
    klass = next(n for n in ast.parse(source).body if isinstance(n, ast.ClassDef))
    node = next(n for n in klass.body if getattr(n, "name", None) == name)
    return textwrap.dedent(ast.get_source_segment(source, node, padded=True))  # type: ignore[arg-type]


def test_a_method_that_uses_self_runs_on_instances_its_constructor_builds():
    original = _method(BOX, "area")
    same = check(BOX, original, "def area(self):\n    return self.height * self.width\n",
                 "area", class_name="Box")
    assert same.status == "same", same
    assert same.cases >= 50
    wrong = check(BOX, original, "def area(self):\n    return self.height + self.width\n",
                  "area", class_name="Box")
    assert wrong.status == "different"
    # the docstring's own example comes first
    assert wrong.counterexample.startswith("for Box(2, 3).area() the original returns 6; "
                                           "the rewrite returns 5"), wrong.counterexample


def test_a_method_that_changes_the_instance_differently_is_refused():
    original = _method(BOX, "grow")
    same = check(BOX, original, '''
        def grow(self, by):
            self.log += [by]
            self.width = self.width + by
            return self
    ''', "grow", class_name="Box")
    assert same.status == "same", same
    wrong = check(BOX, original, '''
        def grow(self, by):
            self.width += by
            return self
    ''', "grow", class_name="Box")
    assert wrong.status == "different"
    assert "instance" in wrong.counterexample or "log" in wrong.counterexample, wrong


def test_a_dataclass_method_and_a_classmethod_are_checked():
    module = '''
        from dataclasses import dataclass

        @dataclass
        class Point:
            x: int
            y: int = 0

            def manhattan(self) -> int:
                return abs(self.x) + abs(self.y)

            @classmethod
            def diagonal(cls, n: int) -> "Point":
                return cls(n, n)
    '''
    same = check(module, _method(module, "manhattan"), '''
        def manhattan(self) -> int:
            return sum(abs(v) for v in (self.x, self.y))
    ''', "manhattan", class_name="Point")
    assert same.status == "same", same
    assert same.cases >= 20
    wrong = check(module, _method(module, "diagonal"), '''
        @classmethod
        def diagonal(cls, n: int) -> "Point":
            return cls(n, -n)
    ''', "diagonal", class_name="Point")
    assert wrong.status == "different", wrong
    assert wrong.counterexample.startswith("for Point.diagonal("), wrong.counterexample


def test_a_class_whose_other_methods_do_io_is_unchecked(no_child):
    module = BOX + '''
    def save(self, path):
        with open(path, "w") as f:
            f.write(str(self.width))
'''
    report = check(module, _method(module, "area"),
                   "def area(self):\n    return self.height * self.width\n", "area",
                   class_name="Box")
    assert report.status == "unchecked"
    assert report.reason == "its class `Box` calls open()"


def test_a_rewritten_constructor_is_compared_by_the_state_it_builds():
    original = _method(BOX, "__init__")
    wrong = check(BOX, original, '''
        def __init__(self, width, height):
            self.width = width
            self.height = width
            self.log = []
    ''', "__init__", class_name="Box")
    assert wrong.status == "different", wrong
    assert wrong.counterexample.startswith("for Box(2, 3) both return None, but afterwards"), \
        wrong.counterexample


def test_a_method_that_ignores_self_is_checked_as_a_function():
    module = '''
        class Formatter:
            def pad(self, text: str, width: int = 8) -> str:
                if len(text) >= width:
                    return text
                return text + " " * (width - len(text))
    '''
    original = textwrap.dedent('''
        def pad(self, text: str, width: int = 8) -> str:
            if len(text) >= width:
                return text
            return text + " " * (width - len(text))
    ''')
    same = check(module, original, '''
        def pad(self, text: str, width: int = 8) -> str:
            return text.ljust(width)
    ''', "pad", class_name="Formatter")
    assert same.status == "same", same
    assert same.cases >= 100
    wrong = check(module, original, '''
        def pad(self, text: str, width: int = 8) -> str:
            return text.rjust(width)
    ''', "pad", class_name="Formatter")
    assert wrong.status == "different"


def test_a_generator_is_compared_by_its_items():
    original = '''
        def evens(numbers):
            for n in numbers:
                if n % 2 == 0:
                    yield n
    '''
    same = check(original, original, '''
        def evens(numbers):
            return (n for n in numbers if n % 2 == 0)
    ''', "evens")
    assert same.status == "same", same
    as_list = check(original, original, '''
        def evens(numbers):
            return [n for n in numbers if n % 2 == 0]
    ''', "evens")
    assert as_list.status == "different"
    assert "the original returns an iterator yielding" in as_list.counterexample


def test_floats_are_compared_with_a_tolerance():
    original = '''
        def mean(values: list[float]) -> float:
            return sum(values) / len(values) if values else 0.0
    '''
    report = check(original, original, '''
        def mean(values: list[float]) -> float:
            if not values:
                return 0.0
            return sum(v / len(values) for v in values)
    ''', "mean")
    assert report.status == "same", report


def test_inputs_outside_the_functions_domain_are_not_called_the_same():
    original = '''
        def area(shape):
            return shape.width * shape.height
    '''
    report = check(original, original, original.replace("shape.width *", "shape.width * 1 *"),
                   "area")
    assert report.status == "unchecked"
    assert report.reason.startswith("the original raised on every input tried (AttributeError")


def test_the_result_repeats():
    rewritten = '''
        def total(items):
            """Add the numbers, skipping missing ones."""
            return sum(item for item in items if item)
    '''
    first = check(TOTAL, TOTAL, rewritten, "total")
    second = check(TOTAL, TOTAL, rewritten, "total")
    assert (first.status, first.cases, first.counterexample) == (
        second.status, second.cases, second.counterexample)


def test_type_hints_shape_the_inputs():
    original = '''
        def initials(names: list[str], sep: str = ".") -> str:
            return sep.join(name[0].upper() for name in names if name)
    '''
    report = check(original, original, '''
        def initials(names: list[str], sep: str = ".") -> str:
            return sep.join([n[:1].upper() for n in names if n])
    ''', "initials")
    assert report.status == "same", report
    assert report.raised == 0  # every generated input fits the hints


def test_the_whole_check_fits_its_budget():
    start = time.perf_counter()
    report = check(TOTAL, TOTAL, TOTAL.replace("result += item", "result = result + item"),
                   "total")
    elapsed = time.perf_counter() - start
    assert report.status == "same"
    assert elapsed < 2.0  # 0.2-0.3 s when the machine is quiet; see test_verify_timing


def test_nothing_is_left_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    check(TOTAL, TOTAL, TOTAL, "total")
    assert list(Path(tmp_path).iterdir()) == []


def test_a_method_as_written_in_the_file_indented_and_with_crlf_is_accepted():
    module = "class Counter:\n    def bump(self, n):\n        return n + 1\n"
    report = check_python(module, "def bump(self, n):\r\n        return n + 1\r\n",
                          "    def bump(self, n):\n        return 1 + n\n", "bump",
                          class_name="Counter")
    assert report.status == "same", report


def test_a_file_that_does_not_parse_is_unchecked(no_child):
    report = check_python("def f(:\n", "def f(x):\n    return x\n", "def f(x):\n    return x\n",
                          "f")
    assert report.reason == "the file does not parse, so what the function uses is unknown"


def test_instances_of_a_same_file_class_compare_by_their_contents():
    module = '''
        from collections import namedtuple
        from dataclasses import dataclass

        Span = namedtuple("Span", "start end")

        @dataclass
        class Box:
            width: int
            height: int

        def shapes(n: int):
            return Span(0, n), Box(n, n + 1)
    '''
    text = defined(module, "shapes")
    same = check(module, text, text.replace("Span(0, n)", "Span(start=0, end=n)"), "shapes")
    assert same.status == "same", same
    wrong = check(module, text, text.replace("Box(n, n + 1)", "Box(n, n)"), "shapes")
    assert wrong.status == "different"
    assert "Box(width=0, height=1)" in wrong.counterexample


@pytest.mark.parametrize("module_name", ["colorsys", "bisect", "html"])
def test_real_functions_checked_against_themselves_are_never_different(module_name):
    """A check that calls identical code different would block good rewrites."""
    import ast
    import importlib
    import inspect
    source = inspect.getsource(importlib.import_module(module_name))
    statuses = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            text = ast.get_source_segment(source, node)
            report = check_python(source, text, text, node.name)
            assert report.status != "different", (node.name, report.counterexample)
            statuses.append(report.status)
    assert "same" in statuses


def test_an_original_that_loops_on_its_inputs_is_not_called_the_same():
    original = '''
        def settle(x):
            while x != 1234567:
                x = x
            return x
    '''
    report = check(original, original, original.replace("return x", "return x + 0"), "settle")
    assert report.status == "unchecked"
    assert report.reason.startswith("the original was too slow on all")


def test_parameters_the_body_calls_get_functions_as_inputs():
    original = '''
        def apply_all(items, fn):
            out = []
            for item in items:
                out.append(fn(item))
            return out
    '''
    same = check(original, original, "def apply_all(items, fn):\n"
                                     "    return list(map(fn, items))\n", "apply_all")
    assert same.status == "same", same
    assert same.cases - same.raised >= 50
    wrong = check(original, original, "def apply_all(items, fn):\n"
                                      "    return [fn(i) for i in items[1:]]\n", "apply_all")
    assert wrong.status == "different"


def test_a_subtle_tie_break_difference_is_found():
    original = '''
        def best(items, key=None):
            return sorted(items, key=key)[-1] if items else None
    '''
    report = check(original, original, "def best(items, key=None):\n"
                                       "    return max(items, key=key) if items else None\n",
                   "best")
    assert report.status == "different"  # sorted()[-1] keeps the last of equals, max the first


def test_a_recursive_function_gets_small_sizes_and_an_edge_case_is_found():
    original = '''
        def fib(n):
            if n < 2:
                return n
            return fib(n - 1) + fib(n - 2)
    '''
    same = check(original, original,
                 "def fib(n):\n    return n if n < 2 else fib(n - 2) + fib(n - 1)\n", "fib")
    assert same.status == "same", same
    assert same.cases >= 20  # every n in -2..20: none too slow
    iterative = check(original, original, "def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n"
                                          "        a, b = b, a + b\n    return a\n", "fib")
    assert iterative.counterexample == "for fib(-1) the original returns -1; the rewrite returns 0"


def test_a_method_whose_docstring_starts_further_left_is_accepted():
    module = ('class Box:\n    def size(self, n):\n        """Size.\n\nMore text at column 0.\n'
              '        """\n        return n * 2\n')
    method = module.split("\n", 1)[1]  # as it stands in the file, indented
    report = check_python(module, method, method.replace("n * 2", "2 * n"), "size",
                          class_name="Box")
    assert report.status == "same", report


def test_iterators_inside_a_result_are_compared_by_their_items():
    module = '''
        import itertools

        def peek(seq):
            iterator = iter(seq)
            first = next(iterator)
            return first, itertools.chain([first], iterator)
    '''
    text = defined(module, "peek")
    same = check(module, text, text, "peek")
    assert same.status == "same", same
    wrong = check(module, text, text.replace("[first]", "[]"), "peek")
    assert wrong.status == "different"


def test_iterables_are_also_tried_as_iterators():
    original = '''
        def count(seq):
            if hasattr(seq, "__len__"):
                return len(seq)
            return sum(1 for i in seq)
    '''
    report = check(original, original, original.replace("sum(1 for", "sum(2 for"), "count")
    assert report.status == "different"
    assert report.counterexample.startswith("for count(iter([")
    consumed = check(original, original, '''
        def count(seq):
            if hasattr(seq, "__len__"):
                return len(seq)
            items = list(seq)[:3]
            return len(items) + sum(1 for _ in seq)
    ''', "count")
    assert consumed.status == "different"


def test_a_rewrite_that_also_takes_inputs_the_original_fails_on_by_type_is_noted_not_blocked():
    # (`if not values` would make None an input, on which max(...) raises and the
    # original returns None: a real difference)
    original = '''
        def largest(values):
            if len(values) == 0:
                return None
            best = values[0]
            for value in values[1:]:
                if value > best:
                    best = value
            return best
    '''
    report = check(original, original, "def largest(values):\n"
                                       "    return max(values, default=None)\n", "largest")
    assert report.status == "same", report
    assert report.widened > 0
    assert report.widened_example.startswith("for largest(iter([")
    assert "it also works where the original fails by type: for largest(iter(" in report.note()


def test_a_dropped_check_that_raises_is_still_a_difference():
    original = '''
        def ratio(part, whole):
            if not isinstance(whole, (int, float)):
                raise TypeError("whole must be a number")
            if whole == 0:
                raise ValueError("whole is zero")
            return part / whole
    '''
    dropped = check(original, original, '''
        def ratio(part, whole):
            return part / whole if whole else 0.0
    ''', "ratio")
    assert dropped.status == "different"
    assert "the original raises" in dropped.counterexample


def test_what_a_function_prints_is_part_of_its_behaviour():
    original = '''
        def report(total: int) -> None:
            print(f"total: {total}")
    '''
    same = check(original, original, 'def report(total: int) -> None:\n'
                                     '    print("total:", total)\n', "report")
    assert same.status == "same", same
    wrong = check(original, original, 'def report(total: int) -> None:\n'
                                      '    print("total=", total)\n', "report")
    assert wrong.status == "different"
    assert "but the original prints 'total: " in wrong.counterexample


# more-itertools' strip, as the quality benchmark met it: a rewrite that filters every
# item out instead of only those at the ends passed a check whose only function inputs
# were builtins (which keep all items or none).
STRIP_DOCTEST = '''
        >>> iterable = (None, False, None, 1, 2, None, 3, False, None)
        >>> pred = lambda x: x in {None, False, ''}
        >>> list(strip(iterable, pred))
        [1, 2, None, 3]
'''
STRIP = '''
from itertools import dropwhile


def rstrip(iterable, pred):
    cache = []
    for x in iterable:
        if pred(x):
            cache.append(x)
        else:
            yield from cache
            cache.clear()
            yield x


def strip(iterable, pred):
    """Yield the items from *iterable*, but strip any from the beginning and end for
    which *pred* returns ``True``.

        >>> iterable = (None, False, None, 1, 2, None, 3, False, None)
        >>> pred = lambda x: x in {None, False, ''}
        >>> list(strip(iterable, pred))
        [1, 2, None, 3]
    """
    return rstrip(dropwhile(pred, iterable), pred)
'''
STRIP_EVERYWHERE = '''
def strip(iterable, pred):
    """Yield the items from *iterable*, but strip any from the beginning and end for
    which *pred* returns ``True``.

        >>> iterable = (None, False, None, 1, 2, None, 3, False, None)
        >>> pred = lambda x: x in {None, False, ''}
        >>> list(strip(iterable, pred))
        [1, 2, None, 3]
    """
    return (x for x in iterable if not pred(x))
'''


def test_names_and_lambdas_a_doctest_bound_are_its_inputs():
    report = check(STRIP, defined(STRIP, "strip"), STRIP_EVERYWHERE, "strip")
    assert report.status == "different", report
    # the doctest's own example, with its lambda, is the counterexample
    assert report.counterexample == (
        "for strip((None, False, None, 1, 2, None, ...), (lambda x: x in {None, False, ''})) "
        "the original returns an iterator yielding [1, 2, None, 3]; the rewrite returns an "
        "iterator yielding [1, 2, 3]"), report


def test_generated_predicates_keep_some_items_and_drop_others():
    module = STRIP.replace(STRIP_DOCTEST, "")
    rewrite = STRIP_EVERYWHERE.replace(STRIP_DOCTEST, "")
    assert ">>>" not in module + rewrite
    report = check(module, defined(module, "strip"), rewrite, "strip")
    assert report.status == "different", report
    assert "(lambda x: " in report.counterexample, report


def test_a_correct_rewrite_with_a_predicate_is_the_same():
    rewrite = STRIP_EVERYWHERE.replace(
        "return (x for x in iterable if not pred(x))",
        "return rstrip(dropwhile(pred, iter(iterable)), pred)")
    report = check(STRIP, defined(STRIP, "strip"), rewrite, "strip")
    assert report.status == "same", report


def test_a_doctest_lambda_that_reaches_outside_is_not_an_input():
    from qwen_lsp.verify.inputs import doctest_cases
    cases = doctest_cases(['''
        >>> pred = lambda x: __import__("os").remove(x)
        >>> f([1], pred)
        >>> key = lambda x: x.__class__
        >>> f([2], key)
        >>> ok = lambda x, *rest: [y for y in rest if y > x]
        >>> f([3], ok)
    '''], "f", False)
    assert [c.args[0] for c in cases] == [[3]]
    assert cases[0].args[1] == {"\x00lambda": "lambda x, *rest: [y for y in rest if y > x]"}


def test_dict_keys_that_are_equal_only_by_identity_are_not_a_difference():
    module = '''
        class Registry:
            def __init__(self):
                self.seen = {}

            def add_all(self, *items):
                for item in items:
                    self.seen[iter([item])] = item
    '''
    report = check(module, _method(module, "add_all"), """
        def add_all(self, *items):
            for item in items:
                key = iter([item])
                self.seen[key] = item
    """, "add_all", class_name="Registry")
    assert report.status != "different", report


def test_a_memory_address_in_a_quoted_repr_is_not_a_difference():
    module = '''
        from urllib.parse import quote

        def quoted(value):
            """>>> quoted(iter([1]))"""
            return quote(str(value))
    '''
    report = check(module, defined(module, "quoted"), defined(module, "quoted"), "quoted")
    assert report.status == "same", report


def test_a_dropped_guard_for_missing_input_is_found():
    """`if not word` tests `word` for truth, so None is among the inputs."""
    original = '''
        def capitalize(word):
            if not word:
                return ""
            return word[0].upper() + word[1:].lower()
    '''
    report = check(original, original, '''
        def capitalize(word):
            return word[:1].upper() + word[1:].lower()
    ''', "capitalize")
    assert report.status == "different", report
    assert "capitalize(None)" in report.counterexample, report.counterexample


def test_a_dropped_fallback_for_unhashable_items_is_found():
    """more-itertools' classify_unique keeps unhashable items in a list; the bench found
    a rewrite that dropped that fallback applied (its inputs were all hashable)."""
    original = '''
        def unique(iterable):
            seen_set = set()
            seen_list = []
            for element in iterable:
                try:
                    if element not in seen_set:
                        seen_set.add(element)
                        yield element
                except TypeError:
                    if element not in seen_list:
                        seen_list.append(element)
                        yield element
    '''
    report = check(original, original, '''
        def unique(iterable):
            seen_set = set()
            for element in iterable:
                if element not in seen_set:
                    seen_set.add(element)
                    yield element
    ''', "unique")
    assert report.status == "different", report
    assert "TypeError: unhashable type" in report.counterexample, report.counterexample
