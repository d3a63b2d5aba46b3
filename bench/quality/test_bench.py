"""Tests of the benchmark's own judging (no model, no server): run with
`.venv/bin/pytest bench/quality/test_bench.py`."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import baseline  # noqa: E402
import checks  # noqa: E402
import corpus  # noqa: E402
import run  # noqa: E402
from lsp_driver import apply_text_edits  # noqa: E402

ORIGINAL = '''\
def total(xs: list[int]) -> int:
    """Sum."""
    acc = 0
    for x in xs:
        acc += x
    return acc
'''


def test_formatting_alone_is_no_change() -> None:
    reformatted = ORIGINAL.replace("acc = 0", "acc=0").replace("for x in xs:", "for x in (xs):")
    assert checks.python_change(ORIGINAL, reformatted) == (False, False)


def test_renamed_locals_and_dropped_annotations_are_not_substantive() -> None:
    renamed = ('def total(xs):\n    running = 0\n    for item in xs:\n        running += item\n'
               '    return running\n')
    assert checks.python_change(ORIGINAL, renamed) == (True, False)


def test_a_new_algorithm_is_substantive() -> None:
    assert checks.python_change(ORIGINAL, "def total(xs):\n    return sum(xs)\n") == (True, True)


def test_js_semicolons_and_quotes_are_no_change_but_a_rename_is_not_substantive() -> None:
    a = "function f(s) { const out = s + 'x'; return out; }"
    b = 'function f(s) {\n  const out = s + "x"\n  return out\n}'
    c = "function f(s) { const r = s + 'x'; return r; }"
    d = "function f(s) { return `${s}x`; }"
    assert checks.js_change(a, b) == (False, False)
    assert checks.js_change(a, c) == (True, False)
    assert checks.js_change(a, d) == (True, True)


def test_unparseable_code_is_reported() -> None:
    assert checks.python_parses("def f(:\n") is not None
    assert checks.js_parses("function f( {") is not None
    assert checks.python_parses(ORIGINAL) is None


def test_async_detection_by_qualname() -> None:
    src = "class A:\n    async def m(self):\n        pass\n\ndef f():\n    pass\n"
    assert checks.python_function_is_async(src, "A.m") is True
    assert checks.python_function_is_async(src, "f") is False
    assert checks.python_function_is_async(src, "g") is None


CASE = {"name": "total", "params": ["xs"], "language": "python"}


def test_explain_checks_pass_on_a_good_answer() -> None:
    md = ("**Purpose:** `total` adds up the numbers in `xs`.\n\n**Inputs:** `xs`, a list.\n\n"
          "**Returns:** the sum, an `int` (0 for an empty list).")
    result = checks.explain_checks(md, CASE, ORIGINAL)
    assert result["checks"]["all"], result


def test_explain_checks_catch_invented_names_missing_returns_and_params() -> None:
    md = "**Purpose:** `total` calls `numpy.sum` on the values."
    c = checks.explain_checks(md, CASE, ORIGINAL)["checks"]
    assert not c["no_invented_identifiers"]
    assert not c["returns_section"]
    assert not c["names_params"]
    assert not c["all"]


def test_chinese_answer_with_english_labels_fails_the_label_check() -> None:
    md = ("**Purpose:** `total` 计算列表 `xs` 中所有数字的和，逐个累加到一个局部变量里。\n\n"
          "**Returns:** 所有数字的总和；空列表返回零。")
    result = checks.explain_checks(md, CASE, ORIGINAL, "zh")
    assert result["checks"]["mostly_chinese"]
    assert not result["checks"]["chinese_labels"]
    md_zh = "**用途：** `total` 计算 `xs` 中所有数字的和。\n\n**返回：** 总和。"
    assert checks.explain_checks(md_zh, CASE, ORIGINAL, "zh")["checks"]["all"]


def test_english_answer_is_not_mostly_chinese() -> None:
    md = "**Purpose:** `total` adds `xs`.\n\n**Returns:** the sum."
    assert not checks.explain_checks(md, CASE, ORIGINAL, "zh")["checks"]["mostly_chinese"]


def test_edits_use_utf16_columns() -> None:
    text = "a = '😀x'\nb = 1\n"
    # replace "x" (UTF-16 column 7: the emoji is two code units)
    edit = {"range": {"start": {"line": 0, "character": 7}, "end": {"line": 0, "character": 8}},
            "newText": "y"}
    assert apply_text_edits(text, [edit]) == "a = '😀y'\nb = 1\n"


def test_baseline_splice_reindents_a_method() -> None:
    src = "class A:\n    def m(self):\n        return 1\n\nx = 2\n"
    new = baseline.splice(src, 2, 3, "def m(self):\n    return 2")
    assert new == "class A:\n    def m(self):\n        return 2\n\nx = 2\n"


def test_mutation_replaces_only_the_body() -> None:
    fn = next(f for f in corpus.python_functions(ORIGINAL) if f["name"] == "total")
    mutated = corpus.mutate_python(ORIGINAL, fn)
    assert "raise NotImplementedError" in mutated and "acc" not in mutated
    assert mutated.startswith("def total(xs: list[int]) -> int:\n")


def test_sample_is_stratified_and_deterministic() -> None:
    cases = [{"id": f"p{i}", "language": "python", "actions": ["refactor", "explain"]}
             for i in range(100)] + \
            [{"id": f"j{i}", "language": "javascript", "actions": ["async"]} for i in range(10)]
    tasks = run.build_tasks(cases, ["refactor", "async", "explain"], 9, 3)
    picked = run.sample(tasks, 12)
    assert {run.stratum(t) for t in picked} == {run.stratum(t) for t in tasks}
    assert [t["case"]["id"] for t in picked] == [t["case"]["id"] for t in run.sample(tasks, 12)]
    ordered = run.interleave(tasks)
    assert sorted(map(run.task_key, ordered)) == sorted(map(run.task_key, tasks))
    assert {run.stratum(t) for t in ordered[:20]} >= {"refactor/python/en", "async/javascript/en"}
