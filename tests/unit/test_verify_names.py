"""What may run: the name analysis decides before anything starts, and says why not."""

from __future__ import annotations

import textwrap

import pytest

from qwen_lsp.verify import undefined_names
from qwen_lsp.verify.names import Unsafe, plan_python


def plan(module: str, function: str, name: str = "f", rewritten: str | None = None,
         class_name: str | None = None):
    function = textwrap.dedent(function).strip() + "\n"
    return plan_python(textwrap.dedent(module), function,
                       textwrap.dedent(rewritten).strip() + "\n" if rewritten else function,
                       name, class_name)


def reason(module: str, function: str, **kwargs) -> str:
    with pytest.raises(Unsafe) as caught:
        plan(module, function, **kwargs)
    return str(caught.value)


@pytest.mark.parametrize(("module", "function", "expected"), [
    ("import requests\n", "def f(u):\n    return requests.get(u).json()",
     "it calls `requests.get`"),
    ("import numpy as np\n", "def f(x):\n    return np.sum(x)",
     "it calls `np.sum` (`numpy` is not a module known to be pure)"),
    ("import sys\n", "def f():\n    return sys.argv[1]", "it uses `sys.argv`"),
    ("import time\n", "def f(x):\n    time.sleep(x)\n    return x",
     "it reads the clock or sleeps (`time`)"),
    ("", "def f(x):\n    return eval(x)", "it calls eval()"),
    ("", "def f(x):\n    return __import__('os').getcwd()", "it calls __import__()"),
    ("", "def f(x):\n    return id(x) % 7", "it calls id(), whose values differ from run to run"),
    ("COUNT = 0\n", "def f(x):\n    global COUNT\n    COUNT += x\n    return COUNT",
     "it assigns the global `COUNT`"),
    ("from helpers import *\n", "def f(x):\n    return tidy(x)",
     "it uses `tidy`, which may come from `from helpers import *`"),
    ("try:\n    import ujson as json\nexcept ImportError:\n    import sqlite3 as json\n",
     "def f(x):\n    return json.dumps(x)",
     "it calls `json.dumps` (`sqlite3` is not a module known to be pure)"),
    ("if True:\n    import json\n", "def f(x):\n    return json.dumps(x)",
     "it uses `json`, which is set by code at module level"),
    ("class Store:\n    def load(self):\n        return open('data').read()\n",
     "def f(x):\n    return Store().load()", "its class `Store` calls open()"),
    ("def load(p):\n    return open(p).read()\n", "def f(p):\n    return load(p).strip()",
     "its helper `load` calls open()"),
    ("LIMIT = 1\nLIMIT = 2\n", "def f(x):\n    return min(x, LIMIT)",
     "it uses `LIMIT`, which is bound more than once in the file"),
    ("", "def f(x):\n    return x.__globals__", "it uses `.__globals__`"),
    ("", "def f(x):\n    return __file__", "it uses the module's `__file__`"),
    ("from . import sibling\n", "def f(x):\n    return sibling.g(x)",
     "it calls `sibling.g` (`.` is not a module known to be pure)"),
])
def test_impure_names_are_refused_with_the_name(module, function, expected):
    assert reason(module, function) == expected


def test_the_rewrite_is_held_to_the_same_rules():
    assert reason("import os\n", "def f(p):\n    return p.strip()",
                  rewritten="def f(p):\n    return os.remove(p)") == (
        "the rewrite calls `os.remove`")


def test_pure_modules_constants_and_pure_parts_of_os_path_are_allowed():
    module = '''
        import math
        import os.path
        import re
        from collections import Counter
        from functools import reduce as fold

        WORD = re.compile(r"[a-z]+")
        NAMES = {"a": 1, "b": (2, 3)}
        SCALE = math.pi / 2
    '''
    found = plan(module, '''
        def f(path: "Path", text: np.ndarray) -> Counter:
            words = WORD.findall(os.path.basename(path) + text)
            return Counter(words), fold(lambda a, b: a + b, [1, 2]), NAMES, SCALE
    ''')
    assert found.prelude.splitlines() == [
        "import math", "import os.path", "import re", "from collections import Counter",
        "from functools import reduce as fold", "WORD = re.compile('[a-z]+')",
        "NAMES = {'a': 1, 'b': (2, 3)}", "SCALE = math.pi / 2"]
    assert "np.ndarray" not in found.original.code  # annotations are not evaluated


def test_helpers_go_along_recursively_but_not_the_function_itself():
    module = '''
        SEP = "-"

        def _part(x):
            return str(x).strip()

        def _join(items):
            return SEP.join(_part(i) for i in items)

        def f(items):
            return _join(items)
    '''
    found = plan(module, "def f(items):\n    return _join(items)")
    assert found.prelude.splitlines()[0] == "SEP = '-'"
    assert "def _part(x):" in found.prelude and "def _join(items):" in found.prelude
    assert "def f(" not in found.prelude


def test_names_defined_nowhere_may_run_because_they_only_raise():
    found = plan("", "def f(x):\n    return x", rewritten="def f(x):\n    return reduce(x)")
    assert found.prelude.strip() == ""


def test_methods_that_use_self_run_as_their_class_when_the_file_defines_it():
    missing = ", and its class is not defined once at the top of the file"
    assert reason("", "def area(self):\n    return self.w * self.h", name="area",
                  class_name="Box") == "it uses `self`" + missing
    assert reason("", "def area(self, w):\n    return w * w", name="area", class_name="Box",
                  rewritten="def area(self, w):\n    return self.w * w") == (
        "the rewrite uses `self`" + missing)
    module = ("import math\n\nclass Box:\n    def __init__(self, w):\n        self.w = w\n\n"
              "    def area(self):\n        return self.w * self.w\n")
    found = plan(module, "def area(self):\n    return self.w * self.w", name="area",
                 class_name="Box", rewritten="def area(self):\n    return math.pow(self.w, 2)")
    assert found.receiver is not None and found.receiver.kind == "self"
    assert found.receiver.init is not None and found.receiver.init.name == "__init__"
    assert "class Box" in found.original.code and "self.w * self.w" in found.original.code
    assert "math.pow" in found.rewritten.code and "self.w * self.w" not in found.rewritten.code
    assert found.prelude.strip() == "import math"
    assert reason(module + "\n    def save(self):\n        print(open('x'))\n",
                  "def area(self):\n    return self.w * self.w", name="area",
                  class_name="Box") == "its class `Box` calls open()"
    assert reason("", "def area(self, w):\n    return super().area(w)", name="area",
                  class_name="Box") == "it calls super()" + missing
    found = plan("", "@staticmethod\ndef twice(w):\n    return 2 * w", name="twice",
                 class_name="Box")
    assert (found.dummy_self, found.params_from) == (False, 0)
    found = plan("", "def twice(self, w):\n    return 2 * w", name="twice", class_name="Box")
    assert (found.dummy_self, found.params_from) == (True, 1)


def test_a_rewrite_that_does_not_define_the_function_is_refused():
    assert reason("", "def f(x):\n    return x", rewritten="def g(x):\n    return x") == (
        "the rewrite does not define `f`")
    assert reason("", "def f(x):\n    return x", rewritten="def f(x):\n    return (x") == (
        "the rewrite does not parse ('(' was never closed, line 2)")


def test_undefined_names_reports_only_the_rewritten_lines_with_advice():
    new_file = textwrap.dedent('''
        from typing import List

        def f(items: List[int]) -> int:
            counts = defaultdict(int)
            for item in items:
                counts[item] += 1
            return max(counts, key=counts.get) if counts else helper(items)

        def g():
            return unknown
    ''').lstrip()
    assert undefined_names(new_file, 3, 7) == [
        "line 4: undefined name 'defaultdict' (add `from collections import defaultdict`, "
        "or do not use it)",
        "line 7: undefined name 'helper' (import or define it, or do not use it)"]


def test_undefined_names_reports_a_local_used_before_assignment():
    new_file = "total = 0\n\ndef f(x):\n    total += x\n    return total\n"
    assert undefined_names(new_file, 3, 5) == [
        "line 4: local variable 'total' is used before it is assigned"]


def test_undefined_names_on_a_broken_file_is_empty():
    assert undefined_names("def f(:\n", 1, 1) == []


def test_pure_same_file_classes_go_along():
    module = """
        class StatisticsError(ValueError):
            pass

        class Pair:
            def __init__(self, a, b):
                self.a, self.b = a, b

            def total(self):
                return self.a + self.b
    """
    found = plan(module, """
        def f(a, b):
            if a is None:
                raise StatisticsError("no a")
            return Pair(a, b).total()
    """)
    assert "class StatisticsError(ValueError):" in found.prelude
    assert "class Pair:" in found.prelude


@pytest.mark.parametrize(("rewritten", "expected"), [
    ("def f(x):\n    import os\n    os.system('touch /tmp/x')\n    return x",
     "the rewrite calls `os.system`"),
    ("import subprocess\ndef f(x):\n    return subprocess.run(x)",
     "the rewrite calls `subprocess.run`"),
    ("def f(x):\n    from shutil import rmtree\n    rmtree(x)\n    return x",
     "the rewrite uses `rmtree` (`shutil` is not a module known to be pure)"),
    ("def f(x):\n    from os import *\n    return x", "the rewrite uses `from os import *`"),
])
def test_imports_inside_the_code_are_held_to_the_same_rules(rewritten, expected):
    assert reason("", "def f(x):\n    return x", rewritten=rewritten) == expected


def test_a_pure_import_inside_the_function_is_fine():
    found = plan("", "def f(x):\n    return x",
                 rewritten="def f(x):\n    from functools import reduce\n"
                           "    return reduce(lambda a, b: a + b, x, 0)")
    assert "import" not in found.prelude


def test_an_import_fallback_at_module_level_is_what_the_check_runs():
    module = '''
        try:
            from .typeutils import make_sentinel
            _UNSET = make_sentinel('_UNSET')
        except ImportError:
            _UNSET = object()

        try:
            import ujson as json
        except (ImportError, AttributeError):
            import json
    '''
    found = plan(module, "def f(x=_UNSET):\n    return json.dumps(x is _UNSET)", name="f")
    assert "_UNSET = object()" in found.prelude and "import json" in found.prelude
    assert "make_sentinel" not in found.prelude
    assert reason(module, "def f():\n    return make_sentinel('x')", name="f") == (
        "it uses `make_sentinel`, which is set by code at module level")
    other = "try:\n    import fast\nexcept ValueError:\n    fast = None\n"
    assert reason(other, "def f():\n    return fast", name="f") == (
        "it uses `fast`, which is set by code at module level")


def test_constants_unpacked_from_a_tuple_or_range_are_literals():
    module = "PREV, NEXT, KEY = range(3)\nA, B = 1, 'x'\n"
    found = plan(module, "def f(x):\n    return x[NEXT] + B", name="f")
    assert "NEXT = 1" in found.prelude and "B = 'x'" in found.prelude
    assert reason("P, Q = make()\n", "def f():\n    return P", name="f") == (
        "it uses `P`, which is set by code at module level")


def test_a_method_calling_super_runs_as_its_class():
    module = ("class Base:\n    def size(self, n):\n        return n\n\n"
              "class Box(Base):\n    def size(self, n):\n        return super().size(n) * 2\n")
    found = plan(module, "def size(self, n):\n    return super().size(n) * 2", name="size",
                 class_name="Box", rewritten="def size(self, n):\n    return 2 * super().size(n)")
    assert found.receiver is not None
    assert "class Base" in found.prelude
