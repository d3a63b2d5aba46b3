"""Behaviour checks of JavaScript and TypeScript rewrites under the real node."""

from __future__ import annotations

import shutil
import textwrap

import pytest

from qwen_lsp.verify import check_javascript, javascript
from qwen_lsp.verify.js_syntax import Refused
from qwen_lsp.verify.python import interpret
from qwen_lsp.verify.sandbox import run_node_job
from qwen_lsp.verify.typescript import strip_types

needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not on PATH")

TOTAL_FILE = textwrap.dedent('''
    /**
     * Add the numbers, skipping missing ones.
     * @example total([4, null, 2]) // 6
     */
    function total(items) {
      let sum = 0;
      for (const item of items) {
        if (item !== null && item !== undefined) sum += item;
      }
      return sum;
    }

    module.exports = { total };
''')
TOTAL = TOTAL_FILE[TOTAL_FILE.index("function total"):TOTAL_FILE.index("\n\nmodule")]


def check(rewritten: str, module: str = TOTAL_FILE, original: str = TOTAL, name: str = "total",
          **kwargs):
    return check_javascript(module, original, textwrap.dedent(rewritten).strip(), name, **kwargs)


@needs_node
def test_a_correct_refactor_is_the_same_on_many_inputs():
    report = check('''
        const total = (items) => items
          .filter((item) => item !== null && item !== undefined)
          .reduce((sum, item) => sum + item, 0);
    ''')
    assert report.status == "same", report
    assert report.cases >= 100


@needs_node
def test_the_example_input_comes_first_and_shows_the_difference():
    report = check('''
        function total(items) {
          return items.filter((item) => item).reduce((sum, item) => sum + item, 1);
        }
    ''')
    assert report.status == "different"
    assert report.counterexample == (
        "for total([4, null, 2]) the original returns 6; the rewrite returns 7")


@needs_node
def test_a_thrown_error_on_an_edge_case_is_found():
    module = textwrap.dedent('''
        function largest(values) {
          if (values.length === 0) return null;
          let best = values[0];
          for (const v of values) if (v > best) best = v;
          return best;
        }
    ''')
    report = check('''
        function largest(values) {
          return values.reduce((a, b) => (b > a ? b : a));
        }
    ''', module=module, original=module.strip(), name="largest")
    assert report.status == "different"
    assert report.counterexample == ("for largest([]) the original returns null; the rewrite "
                                     "throws TypeError: Reduce of empty array with no initial "
                                     "value")


@needs_node
def test_mutating_an_argument_is_found():
    module = "function ordered(xs) {\n  return xs.map((x) => x).sort((a, b) => a - b);\n}\n"
    report = check("function ordered(xs) {\n  return xs.sort((a, b) => a - b);\n}",
                   module=module, original=module.strip(), name="ordered")
    assert report.status == "different"
    assert "the rewrite changes its argument `xs` to" in report.counterexample


@needs_node
def test_an_infinite_loop_is_different_and_stopped():
    report = check("function total(items) {\n  while (true) {}\n}")
    assert report.status == "different"
    assert report.counterexample == ("for total([4, null, 2]) the original returns 6; the "
                                     "rewrite does not finish within 0.20 s")
    assert report.seconds < 2.5


@needs_node
def test_same_file_helpers_and_literal_constants_go_along():
    module = textwrap.dedent('''
        const SEPARATORS = Object.freeze([",", ";"]);
        const clean = (word) => word.trim().toLowerCase();
        function split(text) {
          let parts = text.split(SEPARATORS[0]);
          for (const sep of SEPARATORS.slice(1)) parts = parts.flatMap((p) => p.split(sep));
          return parts.map(clean).filter((p) => p.length > 0);
        }
        export function words(text) {
          const seen = [];
          for (const w of split(text)) if (!seen.includes(w)) seen.push(w);
          return seen;
        }
    ''')
    original = module[module.index("export function"):].strip()
    report = check("export function words(text) {\n  return [...new Set(split(text))];\n}",
                   module=module, original=original, name="words")
    assert report.status == "same", report
    assert report.cases >= 100
    assert report.raised < report.cases / 2


@pytest.mark.parametrize(("body", "reason"), [
    ("return fetch(items);", "the rewrite calls `fetch`"),
    ("return require('fs').readFileSync(items);", "the rewrite loads modules (`require`)"),
    ("return Math.random() + items.length;", "the rewrite uses random numbers (`Math.random`)"),
    ("return Date.now() + items.length;", "the rewrite reads the clock (`Date`)"),
    ("return this.items;", "the rewrite uses `this`"),
    ("return CONFIG.limit;", "the rewrite uses the module-level name `CONFIG`, which is not a "
                             "literal (`loadConfig()`)"),
])
def test_impure_code_is_unchecked_and_not_run(monkeypatch, body, reason):
    def refuse(*args, **kwargs):
        raise AssertionError("node was started")
    monkeypatch.setattr(javascript, "start_node", refuse)
    module = TOTAL_FILE + "\nconst CONFIG = loadConfig();\n"
    report = check(f"function total(items) {{\n  {body}\n}}", module=module)
    assert report.status == "unchecked"
    assert report.reason == reason


@needs_node
def test_typescript_is_checked_after_its_types_are_stripped():
    module = textwrap.dedent('''
        interface Item { price: number; qty?: number }
        const TAX: number = 0.2;
        export function total(items: Item[], discount: number = 0): number {
          let sum = 0;
          for (const item of items) {
            sum += item.price * (item.qty ?? 1);
          }
          return (sum - discount) * (1 + TAX);
        }
    ''')
    original = module[module.index("export function"):].strip()
    same = check('''
        export function total(items: Item[], discount = 0): number {
          const sum = items.reduce((acc, item) => acc + item.price * (item.qty ?? 1), 0);
          return (sum - discount) * (1 + TAX);
        }
    ''', module=module, original=original, language="typescript")
    assert same.status == "same", same
    wrong = check('''
        export function total(items: Item[], discount = 0): number {
          const sum = items.reduce((acc, item) => acc + item.price * (item.qty || 1), 0);
          return (sum - discount) * (1 + TAX);
        }
    ''', module=module, original=original, language="typescript")
    assert wrong.status == "different"
    assert "qty: 0" in wrong.counterexample


def test_typescript_with_run_time_constructs_is_unchecked_with_the_reason():
    with pytest.raises(Refused, match="enum"):
        strip_types("enum Color { Red }\nfunction f(c: Color) { return c; }", "typescript")
    stripped = strip_types("function f<T>(x: T, y?: number): T { return (x as T)!; }",
                           "typescript")
    assert stripped == "function f(x, y) { return (x); }"


@needs_node
def test_generators_are_compared_by_their_items():
    module = "function* evens(xs) {\n  for (const x of xs) if (x % 2 === 0) yield x;\n}\n"
    same = check("function* evens(xs) {\n  yield* xs.filter((x) => x % 2 === 0);\n}",
                 module=module, original=module.strip(), name="evens")
    assert same.status == "same", same
    as_array = check("function evens(xs) {\n  return xs.filter((x) => x % 2 === 0);\n}",
                     module=module, original=module.strip(), name="evens")
    assert as_array.status == "different"


def test_without_node_it_says_so(monkeypatch):
    monkeypatch.setattr(javascript, "node_path", lambda: None)
    report = check("const total = (items) => 0;")
    assert report.note() == "not behaviour-checked: node is not installed"


@needs_node
def test_a_class_method_that_ignores_this_is_checked_as_a_function():
    module = textwrap.dedent('''
        class Cart {
          constructor() { this.items = []; }
          fmt(price, currency = "EUR") {
            return price.toFixed(2) + " " + currency;
          }
          size() { return this.items.length; }
        }
    ''')
    same = check_javascript(module, 'fmt(price, currency = "EUR") {\n  return price.toFixed(2) + '
                                    '" " + currency;\n}',
                            'fmt(price, currency = "EUR") {\n  return `${price.toFixed(2)} '
                            '${currency}`;\n}', "fmt")
    assert same.status == "same", same
    assert same.cases >= 100
    uses_this = check_javascript(module, "size() { return this.items.length; }",
                                 "size() { return this.items.length || 0; }", "size")
    assert uses_this.reason == "it uses `this`"


def test_jsx_is_unchecked():
    report = check_javascript("function App() { return <div/>; }",
                              "function App() { return <div/>; }",
                              "function App() { return <p/>; }", "App")
    assert report.reason == "it contains JSX"


def test_other_languages_are_unchecked_with_their_name():
    report = check_javascript("fn f() {}", "fn f() {}", "fn f() {}", "f", language="rust")
    assert report.note() == "not behaviour-checked: there is no behaviour check for rust"


@needs_node
def test_an_original_that_loops_on_most_inputs_is_not_called_the_same():
    module = "function settle(x) {\n  while (x !== 1234567) {}\n  return x;\n}\n"
    report = check("function settle(x) {\n  while (x !== 1234567) {}\n  return x + 0;\n}",
                   module=module, original=module.strip(), name="settle")
    assert report.status == "unchecked"
    assert report.reason.startswith("the original was too slow on all")


@needs_node
def test_a_rewrite_that_exhausts_memory_is_different_and_contained():
    report = check("function total(items) {\n  const all = [];\n"
                   "  while (true) all.push(new Array(100000).fill(items));\n}")
    assert report.status == "different"
    assert report.counterexample.startswith("for ")
    assert ("the rewrite crashes the checking process" in report.counterexample
            or "the rewrite does not finish" in report.counterexample)


@needs_node
def test_typescript_parameter_types_shape_the_inputs():
    module = textwrap.dedent('''
        type Mode = "upper" | "lower";
        interface Options { mode: Mode; trim?: boolean }
        export function shape(words: string[], options: Options): string[] {
          const out: string[] = [];
          for (const w of words) {
            const t = options.trim ? w.trim() : w;
            out.push(options.mode === "upper" ? t.toUpperCase() : t.toLowerCase());
          }
          return out;
        }
    ''')
    original = module[module.index("export function"):].strip()
    report = check('''
        export function shape(words: string[], options: Options): string[] {
          return words.map((w) => (options.trim ? w.trim() : w))
            .map((t) => (options.mode === "upper" ? t.toUpperCase() : t.toLowerCase()));
        }
    ''', module=module, original=original, name="shape", language="typescript")
    assert report.status == "same", report
    assert report.raised == 0  # every input fits the declared types
    assert report.cases >= 100


@needs_node
def test_an_explicit_throw_dropped_is_different_but_a_type_accident_is_not():
    module = textwrap.dedent('''
        function first(xs) {
          if (!Array.isArray(xs)) throw new TypeError("xs must be an array");
          return xs.length ? xs[0] : null;
        }
    ''')
    dropped = check("function first(xs) {\n  return xs.length ? xs[0] : null;\n}",
                    module=module, original=module.strip(), name="first")
    assert dropped.status == "different"
    assert "the original throws TypeError: xs must be an array" in dropped.counterexample
    job = {"prelude": "", "original": "function size(x) {\n  return x.length;\n}",
           "rewritten": "function size(x) {\n  return x?.length ?? 0;\n}", "name": "size",
           "params": ["x"], "cases": [[[[1, 2]], {}, "generated"], [[None], {}, "generated"]],
           "case_timeout": 0.05, "max_items": 10, "seconds": 0.5}
    wider = interpret(run_node_job(job, 3.0), 0.0)  # null.length: a TypeError by accident
    assert wider.status == "same", wider
    assert wider.widened_example == ("for size(null) the original throws TypeError: Cannot "
                                     "read properties of null (reading 'length'); the rewrite "
                                     "returns 0")


@needs_node
def test_what_a_function_logs_is_part_of_its_behaviour():
    module = "function report(total) {\n  console.log(`total: ${total}`);\n}\n"
    same = check("function report(total) {\n  console.log('total:', total);\n}",
                 module=module, original=module.strip(), name="report")
    assert same.status == "same", same
    wrong = check("function report(total) {\n  console.log('total=', total);\n}",
                  module=module, original=module.strip(), name="report")
    assert wrong.status == "different"
    assert "but the original prints \"total: " in wrong.counterexample


MAP_ALL = """function mapAll(items, fn, done) {
  const out = [];
  for (const item of items) {
    out.push(fn(item));
  }
  done(null, out);
}
"""


@needs_node
def test_function_arguments_are_made_and_their_calls_compared():
    """`fn` and `done` are called, so they get functions; what the rewrite passes to its
    callback is behaviour too (here it loses an item), though both return undefined."""
    same = check_javascript(MAP_ALL, MAP_ALL, """function mapAll(items, fn, done) {
  done(null, items.map((x) => fn(x)));
}
""", "mapAll")
    assert same.status == "same", same
    assert same.cases >= 100 and same.raised < same.cases / 2
    wrong = check_javascript(MAP_ALL, MAP_ALL, """function mapAll(items, fn, done) {
  done(null, items.map((x) => fn(x)).slice(1));
}
""", "mapAll")
    assert wrong.status == "different", wrong
    assert "calls its function argument with" in wrong.counterexample, wrong.counterexample


@needs_node
def test_a_dropped_guard_for_missing_input_is_found():
    """`if (!word)` tests `word` for truth, so null is among the inputs: the rewrite that
    dropped the guard throws on it (the bench found this one applied and broken)."""
    original = """function capitalize(word) {
  if (!word) {
    return '';
  }
  return word.charAt(0).toUpperCase() + word.slice(1).toLowerCase();
}
"""
    report = check_javascript(original, original, """function capitalize(word) {
  return word.charAt(0).toUpperCase() + word.slice(1).toLowerCase();
}
""", "capitalize")
    assert report.status == "different", report
    assert "capitalize(null)" in report.counterexample, report.counterexample
