import pytest

from qwen_lsp.syntax.document import SyntaxDocument
from qwen_lsp.syntax.languages import spec_named
from qwen_lsp.syntax.targets import find_target
from qwen_lsp.syntax.validate import has_syntax_errors, validate_replacement

PY = '''import os


class Store:
    def load(self, path, encoding):
        with open(path, encoding=encoding) as f:
            return f.read()

    def other(self):
        pass


def helper(x):
    return x
'''

JS = '''class Repo {
  load(path) {
    return fetch(path);
  }

  other() {}
}
'''


def document(language: str, source: str) -> SyntaxDocument:
    return SyntaxDocument(spec_named(language), source.encode())


def method(doc: SyntaxDocument, needle: str):
    offset = doc.source.index(needle.encode())
    return find_target(doc, offset, offset)


def check(doc, target, code, *, name="load", params=("self", "path", "encoding"),
          require_async=False):
    return validate_replacement(doc, target.start_byte, target.end_byte, code, name=name,
                                params=params, require_async=require_async)


@pytest.fixture
def py():
    doc = document("python", PY)
    return doc, method(doc, "with open")


def test_the_original_method_spliced_back_is_valid(py):
    doc, target = py
    original = doc.text(target.start_byte, target.end_byte)
    assert original.startswith("def load") and "\n        with" in original
    assert check(doc, target, original) == []


def test_an_indented_python_method_rewritten_as_async_is_valid(py):
    doc, target = py
    code = ("async def load(self, path, encoding):\n"
            "        async with aiofiles.open(path, encoding=encoding) as f:\n"
            "            return await f.read()")
    assert check(doc, target, code, require_async=True) == []


def test_a_sync_answer_when_async_is_required_is_rejected(py):
    doc, target = py
    original = doc.text(target.start_byte, target.end_byte)
    assert check(doc, target, original, require_async=True) == ["the method is not async"]


def test_a_renamed_function_is_rejected(py):
    doc, target = py
    code = doc.text(target.start_byte, target.end_byte).replace("def load", "def load_data")
    assert check(doc, target, code) == [
        "the method is no longer named 'load' (found 'load_data')"]


def test_changed_parameters_are_rejected(py):
    doc, target = py
    code = doc.text(target.start_byte, target.end_byte).replace(", encoding)", ")", 1)
    assert check(doc, target, code) == [
        "the parameters changed from (self, path, encoding) to (self, path)"]


def test_several_problems_are_all_reported(py):
    doc, target = py
    code = "def fetch(self, url):\n        return url"
    assert check(doc, target, code, require_async=True) == [
        "the method is no longer named 'load' (found 'fetch')",
        "the parameters changed from (self, path, encoding) to (self, url)",
        "the method is not async",
    ]


def test_python_syntax_error_names_the_line_of_the_answer(py):
    doc, target = py
    code = ("def load(self, path, encoding):\n"
            "        with open(path) as f\n"
            "            return f.read()")
    assert check(doc, target, code) == ["the answer is not valid Python: line 2: expected ':'"]


def test_python_answer_without_indentation_in_a_class_is_rejected(py):
    doc, target = py
    code = "def load(self, path, encoding):\nreturn 1"
    problems = check(doc, target, code)
    assert len(problems) == 1
    assert problems[0].startswith("the answer is not valid Python: line 2: expected an indented")
    assert "on line 1" in problems[0]  # lines in the message are the answer's, not the file's


def test_python_errors_only_compile_finds_are_caught(py):
    doc, target = py
    code = "def load(self, path, path):\n        return path"
    assert not has_syntax_errors(doc.spec, code)  # tree-sitter is fine with it
    assert check(doc, target, code, params=None) == [
        "the answer is not valid Python: line 1: duplicate argument 'path' in function definition"]


def test_answer_without_the_definition_is_rejected(py):
    doc, target = py
    assert check(doc, target, "# nothing left") == [
        "the answer does not contain the definition of 'load'"]
    assert check(doc, target, "x = 1", name=None) == [
        "the answer does not contain a function or class definition"]


def test_a_helper_before_the_function_is_fine(py):
    doc, target = py
    code = ("@staticmethod\n    def _read(path, encoding):\n"
            "        with open(path, encoding=encoding) as f:\n            return f.read()\n\n"
            "    def load(self, path, encoding):\n        return self._read(path, encoding)")
    assert check(doc, target, code) == []


def test_a_selection_replacement_is_only_checked_for_syntax():
    doc = document("python", PY)
    start = doc.source.index(b"return x")
    end = start + len("return x")
    assert validate_replacement(doc, start, end, "y = x * 2\n    return y", name=None,
                                params=None, require_async=False) == []
    assert validate_replacement(doc, start, end, "return (x", name=None, params=None,
                                require_async=False) == [
        "the answer is not valid Python: line 1: '(' was never closed"]


def test_errors_elsewhere_in_a_broken_file_are_not_blamed_on_the_answer():
    source = PY + "\ndef broken(:\n    pass\n"
    doc = document("python", source)
    assert doc.tree.root_node.has_error
    target = method(doc, "return x")
    assert target.name == "helper"
    good = "def helper(x):\n    return x + 1"
    assert check(doc, target, good, name="helper", params=("x",)) == []
    bad = "def helper(x):\n    return (x +"
    problems = check(doc, target, bad, name="helper", params=("x",))
    assert len(problems) == 1 and problems[0].startswith("the answer is not valid Python: line 2")


def test_the_js_class_method_spliced_back_is_valid():
    doc = document("javascript", JS)
    target = method(doc, "fetch")
    original = doc.text(target.start_byte, target.end_byte)
    assert original.startswith("load(path) {")
    assert check(doc, target, original, params=("path",)) == []
    rewritten = "async load(path) {\n    return await fetch(path);\n  }"
    assert check(doc, target, rewritten, params=("path",), require_async=True) == []
    assert check(doc, target, original, params=("path",), require_async=True) == [
        "the method is not async"]


def test_broken_js_is_rejected_with_the_line():
    doc = document("javascript", JS)
    target = method(doc, "fetch")
    code = "load(path) {\n    return fetch(path;\n  }"
    assert check(doc, target, code, params=("path",)) == [
        "the answer is not valid JavaScript: line 2: missing ')'"]
    code = "function load(path) {}"  # not a method inside a class body
    problems = check(doc, target, code, params=("path",))
    assert len(problems) == 1
    assert problems[0].startswith("the answer is not valid JavaScript: line 1: unexpected")


def test_js_arrow_const_keeps_its_name_and_params():
    doc = document("javascript", "export const load = (path) => fetch(path);\n")
    target = method(doc, "fetch")
    assert check(doc, target, "export const load = async (path) => await fetch(path);",
                 params=("path",), require_async=True) == []
    assert check(doc, target, "export const load = async (url) => fetch(url);",
                 params=("path",), require_async=True) == [
        "the parameters changed from (path) to (url)"]


@pytest.mark.parametrize(
    ("language", "source", "needle", "good", "bad", "name", "params"),
    [
        ("go", "package p\n\nfunc add(a int, b int) int {\n\treturn a + b\n}\n", "return",
         "func add(a int, b int) int {\n\tsum := a + b\n\treturn sum\n}",
         "func add(a int, b int) int {\n\treturn a +\n", "add", ("a", "b")),
        ("rust", "fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n", "a + b",
         "fn add(a: i32, b: i32) -> i32 {\n    let s = a + b;\n    s\n}",
         "fn add(a: i32, b: i32) -> i32 {\n    let s = a + ;\n}", "add", ("a", "b")),
        ("java", "class A {\n    int add(int a, int b) {\n        return a + b;\n    }\n}\n",
         "return", "int add(int a, int b) {\n        int s = a + b;\n        return s;\n    }",
         "int add(int a, int b) {\n        return a + b\n    }", "add", ("a", "b")),
        ("ruby", "def add(a, b)\n  a + b\nend\n", "a + b",
         "def add(a, b)\n  sum = a + b\n  sum\nend", "def add(a, b)\n  (a + b\nend",
         "add", ("a", "b")),
    ],
)
def test_other_languages_accept_good_and_reject_broken_code(language, source, needle, good, bad,
                                                            name, params):
    doc = document(language, source)
    target = method(doc, needle)
    assert check(doc, target, good, name=name, params=params) == []
    problems = check(doc, target, bad, name=name, params=params)
    assert len(problems) == 1
    assert problems[0].startswith("the answer is not valid ")
    renamed = good.replace(name, name + "_all", 1)
    word = "method" if language == "java" else "function"
    assert check(doc, target, renamed, name=name, params=params) == [
        f"the {word} is no longer named '{name}' (found '{name}_all')"]


def test_has_syntax_errors():
    assert not has_syntax_errors(spec_named("python"), "def f():\n    return 1\n")
    assert has_syntax_errors(spec_named("python"), "def f(:\n    return 1\n")
    assert has_syntax_errors(spec_named("javascript"), "function f( {")
    assert not has_syntax_errors(spec_named("bash"), "f() { echo hi; }\n")


def test_range_outside_the_document_is_refused(py):
    doc, _ = py
    with pytest.raises(ValueError):
        validate_replacement(doc, 5, len(doc.source) + 1, "", name=None, params=None,
                             require_async=False)
