from dataclasses import dataclass

import pytest

from qwen_lsp.syntax.context import call_sites, context_for
from qwen_lsp.syntax.document import SyntaxDocument
from qwen_lsp.syntax.languages import spec_named
from qwen_lsp.syntax.targets import find_target


def document(language: str, source: str) -> SyntaxDocument:
    return SyntaxDocument(spec_named(language), source.encode())


def at(doc: SyntaxDocument, needle: str, nth: int = 0) -> int:
    """Byte offset of the nth occurrence of `needle` in the document."""
    offset = -1
    for _ in range(nth + 1):
        offset = doc.source.index(needle.encode(), offset + 1)
    return offset


def span_text(doc: SyntaxDocument, target) -> str:
    return doc.text(target.start_byte, target.end_byte)


@dataclass(frozen=True)
class Case:
    source: str
    method_cursor: str  # a needle inside the method's body
    method: tuple[str, str, tuple[str, ...]]  # kind, name, params
    method_span: tuple[str, str]  # how its span starts (the doc comment) and ends
    method_def: str  # how the definition starts, after the comment
    class_cursor: str | None  # inside the class, outside any method
    class_name: str | None
    function_cursor: str
    function: tuple[str, str, tuple[str, ...]]
    function_doc: str
    outside: str  # nothing to target here


CASES = {
    "python": Case(
        source='''import os


class Greeter(Base):
    """Greets."""

    greeting = "hi"

    @staticmethod
    def greet(self, name, *args, **kw):
        return helper(name)


def helper(value):
    return value
''',
        method_cursor="return helper", method=("method", "greet", ("self", "name", "args", "kw")),
        method_span=("@staticmethod", "return helper(name)"), method_def="def greet(",
        class_cursor='greeting = "hi"', class_name="Greeter",
        function_cursor="return value", function=("function", "helper", ("value",)),
        function_doc="def helper", outside="import os"),
    "javascript": Case(
        source='''import fs from "fs";

class Greeter extends Base {
  constructor() { super(); this.greeting = "hi"; }

  /** Greets someone. */
  greet(name, times) {
    return helper(name);
  }
}

/**
 * Helps.
 */
function helper(value) {
  return value;
}
''',
        method_cursor="return helper", method=("method", "greet", ("name", "times")),
        method_span=("/** Greets someone. */", "}"), method_def="greet(name",
        class_cursor="\n\n  /** Greets", class_name="Greeter",
        function_cursor="return value", function=("function", "helper", ("value",)),
        function_doc="/**\n * Helps.", outside='import fs'),
    "typescript": Case(
        source='''import { readFile } from "fs";

export class Greeter {
  private greeting: string = "hi";

  /** Greets someone. */
  async greet(name: string, times?: number): Promise<string> {
    return helper(name);
  }
}

/** Helps. */
export function helper(value: string): string {
  return value;
}
''',
        method_cursor="return helper", method=("method", "greet", ("name", "times")),
        method_span=("/** Greets someone. */", "}"), method_def="async greet(",
        class_cursor="private greeting", class_name="Greeter",
        function_cursor="return value", function=("function", "helper", ("value",)),
        function_doc="/** Helps. */\nexport function", outside="readFile"),
    "tsx": Case(
        source='''import React from "react";

class Greeter extends React.Component {
  state = { n: 1 };

  /** Greets someone. */
  greet(name: string, times: number) {
    return helper(name);
  }
}

/** Helps. */
function helper(value: string) {
  return <div>{value}</div>;
}
''',
        method_cursor="return helper", method=("method", "greet", ("name", "times")),
        method_span=("/** Greets someone. */", "}"), method_def="greet(name",
        class_cursor="state = ", class_name="Greeter",
        function_cursor="<div>", function=("function", "helper", ("value",)),
        function_doc="/** Helps. */", outside="React from"),
    "go": Case(
        source='''package main

import "fmt"

type Greeter struct {
	greeting string
}

// Greet greets someone.
// It really does.
func (g *Greeter) Greet(name string, times int) string {
	return helper(name)
}

// helper helps.
func helper(value string) string {
	return fmt.Sprint(value)
}
''',
        method_cursor="return helper", method=("method", "Greet", ("name", "times")),
        method_span=("// Greet greets someone.\n// It really does.", "}"), method_def="func (g",
        class_cursor="greeting string", class_name="Greeter",
        function_cursor="fmt.Sprint", function=("function", "helper", ("value",)),
        function_doc="// helper helps.", outside='import "fmt"'),
    "rust": Case(
        source='''use std::fmt;

struct Greeter {
    greeting: String,
}

impl Greeter {
    const N: i32 = 1;

    /// Greets someone.
    fn greet(&self, name: &str, times: u32) -> String {
        helper(name)
    }
}

/// Helps.
#[inline]
fn helper(value: &str) -> String {
    value.to_string()
}
''',
        method_cursor="helper(name)", method=("method", "greet", ("self", "name", "times")),
        method_span=("/// Greets someone.", "}"), method_def="fn greet(",
        class_cursor="const N", class_name="Greeter",
        function_cursor="to_string", function=("function", "helper", ("value",)),
        function_doc="/// Helps.\n#[inline]", outside="use std"),
    "java": Case(
        source='''package demo;

import java.util.List;

public class Greeter {
    private String greeting = "hi";

    /** Greets someone. */
    public String greet(String name, int times) {
        return helper(name);
    }

    /** Helps. */
    static String helper(String value) {
        return value;
    }
}

class Other {}
''',
        method_cursor="return helper", method=("method", "greet", ("name", "times")),
        method_span=("/** Greets someone. */", "}"), method_def="public String greet(",
        class_cursor="private String greeting", class_name="Greeter",
        function_cursor="return value", function=("method", "helper", ("value",)),
        function_doc="/** Helps. */", outside="import java"),
    "c": Case(
        source='''#include <stdio.h>

struct greeter {
    const char *greeting;
};

/* Greets someone. */
static int greet(struct greeter *g, const char *name) {
    return helper(name);
}

/* Helps. */
int helper(const char *value) {
    return value[0];
}
''',
        method_cursor="return helper", method=("function", "greet", ("g", "name")),
        method_span=("/* Greets someone. */", "}"), method_def="static int greet(",
        class_cursor="const char *greeting", class_name="greeter",
        function_cursor="value[0]", function=("function", "helper", ("value",)),
        function_doc="/* Helps. */", outside="#include"),
    "cpp": Case(
        source='''#include <string>

class Greeter {
public:
    std::string greeting;

    // Greets someone.
    std::string greet(const std::string &name, int times) {
        return helper(name);
    }
};

// Helps.
std::string helper(const std::string &value) {
    return value;
}
''',
        method_cursor="return helper", method=("method", "greet", ("name", "times")),
        method_span=("// Greets someone.", "}"), method_def="std::string greet(",
        class_cursor="std::string greeting", class_name="Greeter",
        function_cursor="return value", function=("function", "helper", ("value",)),
        function_doc="// Helps.", outside="#include"),
    "csharp": Case(
        source='''using System;

public class Greeter
{
    private string greeting = "hi";

    /// <summary>Greets someone.</summary>
    public string Greet(string name, int times)
    {
        return Helper(name);
    }
}

public static class Helpers
{
    /// <summary>Helps.</summary>
    public static string Helper(string value)
    {
        return value;
    }
}
''',
        method_cursor="return Helper", method=("method", "Greet", ("name", "times")),
        method_span=("/// <summary>Greets someone.</summary>", "}"),
        method_def="public string Greet(",
        class_cursor="private string greeting", class_name="Greeter",
        function_cursor="return value", function=("method", "Helper", ("value",)),
        function_doc="/// <summary>Helps.</summary>", outside="using System"),
    "ruby": Case(
        source='''require "json"

class Greeter
  # Greets someone.
  def greet(name, times = 1)
    helper(name)
  end

  GREETING = "hi"
end

# Helps.
def helper(value)
  value
end
''',
        method_cursor="helper(name)", method=("method", "greet", ("name", "times")),
        method_span=("# Greets someone.", "end"), method_def="def greet(",
        class_cursor="GREETING", class_name="Greeter",
        function_cursor="  value\n", function=("function", "helper", ("value",)),
        function_doc="# Helps.", outside='require "json"'),
    "php": Case(
        source='''<?php
use App\\Support\\Str;

class Greeter
{
    private $greeting = "hi";

    /** Greets someone. */
    public function greet($name, $times)
    {
        return helper($name);
    }
}

/** Helps. */
function helper($value)
{
    return $value;
}
''',
        method_cursor="return helper", method=("method", "greet", ("$name", "$times")),
        method_span=("/** Greets someone. */", "}"), method_def="public function greet(",
        class_cursor="private $greeting", class_name="Greeter",
        function_cursor="return $value", function=("function", "helper", ("$value",)),
        function_doc="/** Helps. */", outside="use App"),
    "bash": Case(
        source='''#!/usr/bin/env bash
set -e

# Greets someone.
greet() {
  helper "$1"
}

# Helps.
function helper {
  echo "$1"
}
''',
        method_cursor='helper "$1"', method=("function", "greet", ()),
        method_span=("# Greets someone.", "}"), method_def="greet()",
        class_cursor=None, class_name=None,
        function_cursor='echo "$1"', function=("function", "helper", ()),
        function_doc="# Helps.", outside="set -e"),
}


@pytest.mark.parametrize("language", sorted(CASES))
def test_cursor_in_a_method_targets_it_with_its_doc_comment(language):
    case = CASES[language]
    doc = document(language, case.source)
    target = find_target(doc, at(doc, case.method_cursor), at(doc, case.method_cursor))
    assert (target.kind, target.name, target.params) == case.method
    first, last = case.method_span
    assert span_text(doc, target).startswith(first)
    assert span_text(doc, target).endswith(last)
    assert doc.text(target.def_start_byte, target.end_byte).startswith(case.method_def)
    assert target.start_byte < target.def_start_byte
    assert not target.is_async or language == "typescript"


@pytest.mark.parametrize("language", sorted(CASES))
def test_cursor_in_a_free_function_targets_it(language):
    case = CASES[language]
    doc = document(language, case.source)
    target = find_target(doc, at(doc, case.function_cursor), at(doc, case.function_cursor))
    assert (target.kind, target.name, target.params) == case.function
    assert span_text(doc, target).startswith(case.function_doc)


@pytest.mark.parametrize("language", sorted(c for c in CASES if CASES[c].class_cursor))
def test_cursor_in_a_class_outside_its_methods_targets_the_class(language):
    case = CASES[language]
    doc = document(language, case.source)
    target = find_target(doc, at(doc, case.class_cursor), at(doc, case.class_cursor))
    assert target.kind == "class"
    assert target.name == case.class_name
    assert target.params == ()
    assert target.start_byte <= at(doc, case.class_cursor) < target.end_byte
    method = find_target(doc, at(doc, case.method_cursor), at(doc, case.method_cursor))
    if method.kind == "method" and language != "go":
        assert target.start_byte < method.start_byte and method.end_byte <= target.end_byte


@pytest.mark.parametrize("language", sorted(CASES))
def test_cursor_outside_any_definition_targets_nothing(language):
    case = CASES[language]
    doc = document(language, case.source)
    assert find_target(doc, at(doc, case.outside), at(doc, case.outside)) is None


@pytest.mark.parametrize("language", sorted(CASES))
def test_cursor_on_the_doc_comment_targets_the_definition_below(language):
    case = CASES[language]
    doc = document(language, case.source)
    comment = at(doc, case.method_span[0]) + 1
    target = find_target(doc, comment, comment)
    assert target.name == case.method[1]


def test_c_struct_span_includes_its_semicolon():
    doc = document("c", CASES["c"].source)
    target = find_target(doc, at(doc, "greeting;"), at(doc, "greeting;"))
    assert span_text(doc, target) == "struct greeter {\n    const char *greeting;\n};"


def test_rust_impl_is_named_after_its_type():
    doc = document("rust", "impl<T> Display for Wrapper<T> {\n    fn fmt(&self) {}\n}\n")
    target = find_target(doc, at(doc, "impl"), at(doc, "impl"))
    assert (target.kind, target.name) == ("class", "Wrapper")


def test_cpp_out_of_class_definition_and_template():
    source = ("int Greeter::count(int n) { return n; }\n\n"
              "template <typename T>\nT biggest(T a, T b) { return a; }\n")
    doc = document("cpp", source)
    count = find_target(doc, at(doc, "return n"), at(doc, "return n"))
    assert (count.name, count.params) == ("count", ("n",))
    biggest = find_target(doc, at(doc, "return a"), at(doc, "return a"))
    assert (biggest.name, biggest.params) == ("biggest", ("a", "b"))
    assert span_text(doc, biggest).startswith("template <typename T>\n")


# ---------------------------------------------------------------- Python details

PY = '''import functools
from typing import Any


def plain(a, b=1, *rest, key: int = 0, **options):
    return a


class Service(Base):
    retries = 3

    @functools.cache
    @other.decorator(1)
    async def fetch(self, url):
        def inner(x):
            return x
        return await get(url)

    @property
    def size(self) -> int:
        return len(self.items)


@decorator
class Tagged:
    pass
'''


@pytest.mark.parametrize("cursor",
                         ["@functools.cache", "@other", "fetch(self", "self, url", "get(url)"])
def test_python_decorated_method_from_decorator_name_params_and_body(cursor):
    doc = document("python", PY)
    target = find_target(doc, at(doc, cursor) + 1, at(doc, cursor) + 1)
    assert (target.kind, target.name, target.params) == ("method", "fetch", ("self", "url"))
    assert target.is_async
    assert span_text(doc, target).startswith(
        "@functools.cache\n    @other.decorator(1)\n    async def")
    assert span_text(doc, target).endswith("return await get(url)")
    assert doc.text(target.def_start_byte, target.def_start_byte + 15) == "async def fetch"


def test_python_params_are_names_only():
    doc = document("python", PY)
    target = find_target(doc, at(doc, "return a"), at(doc, "return a"))
    assert target.params == ("a", "b", "rest", "key", "options")
    assert not target.is_async
    assert target.kind == "function"


def test_python_nested_function_is_a_function_not_a_method():
    doc = document("python", PY)
    target = find_target(doc, at(doc, "return x"), at(doc, "return x"))
    assert (target.kind, target.name, target.params) == ("function", "inner", ("x",))


def test_python_decorated_class():
    doc = document("python", PY)
    target = find_target(doc, at(doc, "pass"), at(doc, "pass"))
    assert (target.kind, target.name) == ("class", "Tagged")
    assert span_text(doc, target) == "@decorator\nclass Tagged:\n    pass"


def test_cursor_in_the_indentation_before_a_method_targets_the_method():
    doc = document("python", PY)
    line_start = at(doc, "    def size")
    for offset in (line_start, line_start + 2):
        target = find_target(doc, offset, offset)
        assert (target.kind, target.name) == ("method", "size")
    blank_line_in_class = at(doc, "\n\n    @functools") + 1
    assert find_target(doc, blank_line_in_class, blank_line_in_class).name == "Service"


def test_cursor_at_the_very_end_of_a_function_still_targets_it():
    doc = document("python", "def f():\n    return 1")
    target = find_target(doc, len(doc.source), len(doc.source))
    assert target.name == "f"


def test_blank_line_separates_a_comment_from_the_definition():
    doc = document("javascript", "// license header\n\nfunction f() {}\n")
    target = find_target(doc, at(doc, "f()"), at(doc, "f()"))
    assert span_text(doc, target) == "function f() {}"


def test_trailing_comment_of_the_previous_line_is_not_a_doc_comment():
    doc = document("go", "package p\n\nvar x = 1 // note\nfunc f() {}\n")
    target = find_target(doc, at(doc, "f()"), at(doc, "f()"))
    assert span_text(doc, target) == "func f() {}"


# ---------------------------------------------------------------- JS / TS details

JS = '''// Loads a file.
export const load = async (path, { encoding } = {}) => {
  return fetch(path);
};
const twice = x => x * 2;
const named = function inner(a, ...more) { return a; };
export default class Repo {
  handler = async (event) => { return event; };
  async all() {
    return [1].map((i) => i + 1);
  }
  *items() {}
}
async function* stream(source) {}
'''


def test_js_arrow_const_targets_the_whole_declaration_with_export_and_comment():
    doc = document("javascript", JS)
    target = find_target(doc, at(doc, "fetch"), at(doc, "fetch"))
    assert (target.kind, target.name) == ("function", "load")
    assert target.params == ("path", "{ encoding }")
    assert target.is_async
    assert span_text(doc, target).startswith("// Loads a file.\nexport const load = async")
    assert span_text(doc, target).endswith("};")
    assert doc.text(target.def_start_byte, target.def_start_byte + 10) == "const load"


def test_js_single_parameter_arrow_and_function_expression():
    doc = document("javascript", JS)
    twice = find_target(doc, at(doc, "x * 2"), at(doc, "x * 2"))
    assert (twice.name, twice.params, twice.is_async) == ("twice", ("x",), False)
    named = find_target(doc, at(doc, "return a;"), at(doc, "return a;"))
    assert (named.name, named.params) == ("named", ("a", "more"))


def test_js_class_field_arrow_is_a_method_and_callback_arrows_are_not_targets():
    doc = document("javascript", JS)
    handler = find_target(doc, at(doc, "return event"), at(doc, "return event"))
    assert (handler.kind, handler.name, handler.is_async) == ("method", "handler", True)
    callback = find_target(doc, at(doc, "i + 1"), at(doc, "i + 1"))
    assert (callback.kind, callback.name, callback.is_async) == ("method", "all", True)
    generator = find_target(doc, at(doc, "items"), at(doc, "items"))
    assert (generator.kind, generator.name, generator.is_async) == ("method", "items", False)
    stream = find_target(doc, at(doc, "source"), at(doc, "source"))
    assert (stream.kind, stream.name, stream.is_async) == ("function", "stream", True)


def test_ts_async_detection_and_typed_params():
    source = '''export async function load(path: string, retries = 3, ...rest: string[]): R {}
function sync(a?: number): void {}
class A {
  @logged
  private async run({ id }: Job, done: () => void): Promise<void> {}
}
'''
    doc = document("typescript", source)
    load = find_target(doc, at(doc, "R {}"), at(doc, "R {}"))
    assert (load.name, load.params, load.is_async) == ("load", ("path", "retries", "rest"), True)
    sync = find_target(doc, at(doc, "a?"), at(doc, "a?"))
    assert (sync.name, sync.params, sync.is_async) == ("sync", ("a",), False)
    run = find_target(doc, at(doc, "done"), at(doc, "done"))
    assert (run.kind, run.name, run.is_async) == ("method", "run", True)
    assert run.params == ("{ id }", "done")
    assert span_text(doc, run).startswith("@logged\n  private async run(")


# ---------------------------------------------------------------- selections

SELECT = '''def first():
    a = 1
    b = compute(a,
                2)
    c = a + b
    return c


def second():
    return 2
'''


def test_selection_covering_most_of_a_function_targets_the_function():
    doc = document("python", SELECT)
    target = find_target(doc, at(doc, "first"), at(doc, "return c") + 3)
    assert (target.kind, target.name) == ("function", "first")


def test_selection_of_a_whole_function_with_surrounding_whitespace_targets_it():
    doc = document("python", SELECT)
    target = find_target(doc, 0, at(doc, "def second") - 1)
    assert (target.kind, target.name) == ("function", "first")


def test_selection_of_exactly_the_name_targets_the_definition():
    doc = document("python", SELECT)
    target = find_target(doc, at(doc, "second"), at(doc, "second") + len("second"))
    assert (target.kind, target.name) == ("function", "second")


def test_partial_selection_widens_to_whole_statements():
    doc = document("python", SELECT)
    # from the middle of `b = compute(...)` to the middle of `c = a + b`
    target = find_target(doc, at(doc, "compute"), at(doc, "a + b"))
    assert target.kind == "selection"
    assert target.name is None and target.params == ()
    assert span_text(doc, target) == "b = compute(a,\n                2)\n    c = a + b"


def test_selection_inside_one_statement_widens_to_that_statement():
    doc = document("javascript", "function f() {\n  const x = g(1, 2) + h(3);\n  return x;\n}\n")
    target = find_target(doc, at(doc, "1, 2"), at(doc, "1, 2") + 4)
    assert target.kind == "selection"
    assert span_text(doc, target) == "const x = g(1, 2) + h(3);"


def test_selection_across_two_functions_widens_to_both():
    doc = document("python", SELECT)
    target = find_target(doc, at(doc, "return c"), at(doc, "return 2"))
    assert target.kind == "selection"
    assert span_text(doc, target) == SELECT.strip()


# ---------------------------------------------------------------- context

CONTEXT = '''from __future__ import annotations
import os
from typing import Any


def helper(x):
    return x


async def fetch(url: str,
                timeout: float = 1.0) -> bytes:
    return b""


class Service(Base):
    def run(self):
        data = fetch(self.url)
        self.save(helper(data))
        helper(data)
        print(data)
        return self.run()

    def save(self, value):
        if True:
            import json
        return value
'''


def test_context_has_imports_class_header_and_called_signatures_in_call_order():
    doc = document("python", CONTEXT)
    target = find_target(doc, at(doc, "self.save"), at(doc, "self.save"))
    context = context_for(doc, target)
    assert context.imports == (
        "from __future__ import annotations\nimport os\nfrom typing import Any")
    assert context.class_header == "class Service(Base):"
    assert context.called_signatures == (
        "async def fetch(url: str,\n                timeout: float = 1.0) -> bytes:",
        "def save(self, value):",
        "def helper(x):",
    )


def test_context_of_a_selection_inside_a_method():
    doc = document("python", CONTEXT)
    target = find_target(doc, at(doc, "self.save"), at(doc, "helper(data)\n        print") + 3)
    assert target.kind == "selection"
    assert doc.text(target.start_byte, target.end_byte) == (
        "self.save(helper(data))\n        helper(data)")
    context = context_for(doc, target)
    assert context.class_header == "class Service(Base):"
    assert context.called_signatures == ("def save(self, value):", "def helper(x):")


def test_context_of_a_free_function_has_no_class_header():
    doc = document("python", CONTEXT)
    target = find_target(doc, at(doc, "return x"), at(doc, "return x"))
    context = context_for(doc, target)
    assert context.class_header is None
    assert context.called_signatures == ()


def test_called_signatures_are_capped_at_eight():
    helpers = "".join(f"def h{i}():\n    pass\n\n" for i in range(12))
    calls = "".join(f"    h{i}()\n" for i in range(12))
    doc = document("python", helpers + "def main():\n" + calls)
    target = find_target(doc, at(doc, "h0()\n"), at(doc, "h0()\n"))
    assert target.name == "main"
    assert context_for(doc, target).called_signatures == tuple(f"def h{i}():" for i in range(8))


@pytest.mark.parametrize(
    ("language", "imports", "header"),
    [
        ("javascript", 'import fs from "fs";', "class Greeter extends Base {"),
        ("typescript", 'import { readFile } from "fs";', "class Greeter {"),
        ("go", 'package main\nimport "fmt"', "type Greeter struct {"),
        ("rust", "use std::fmt;", "impl Greeter {"),
        ("java", "package demo;\nimport java.util.List;", "public class Greeter {"),
        ("c", "#include <stdio.h>", None),
        ("cpp", "#include <string>", "class Greeter {"),
        ("csharp", "using System;", "public class Greeter\n{"),
        ("ruby", 'require "json"', "class Greeter"),
        ("php", "use App\\Support\\Str;", "class Greeter\n{"),
        ("bash", "", None),
    ],
)
def test_context_imports_and_class_header_per_language(language, imports, header):
    case = CASES[language]
    doc = document(language, case.source)
    target = find_target(doc, at(doc, case.method_cursor), at(doc, case.method_cursor))
    context = context_for(doc, target)
    assert context.imports == imports
    assert context.class_header == header


def test_js_require_lines_count_as_imports_and_called_signatures_stop_at_the_body():
    source = '''const path = require("path");
import x from "y";
const helper = (a, b) => a + b;
function other(c) { return c; }
class A {
  run() { return helper(1, 2) + other(3) + this.run(); }
}
'''
    doc = document("javascript", source)
    target = find_target(doc, at(doc, "return helper"), at(doc, "return helper"))
    context = context_for(doc, target)
    assert context.imports == 'const path = require("path");\nimport x from "y";'
    assert context.class_header == "class A {"
    assert context.called_signatures == ("const helper = (a, b) =>", "function other(c)")


# ---------------------------------------------------------------- call sites

CALLS = '''import asyncio


def load(path):
    return open(path).read()


async def main():
    first = load("a")
    second = await load("b")
    third = await (load("c"))
    return first, second, third


class Store:
    def load(self, path):
        return path

    def refresh(self):
        return self.load("d") + other.load("e") + load_all("f")

    async def refresh_async(self):
        return await self.load("g")


value = load("h")
'''


def test_call_sites_report_caller_async_and_awaited():
    doc = document("python", CALLS)
    sites = call_sites(doc, "load", None)
    described = [(doc.text(s.start_byte, s.end_byte), s.caller_name, s.caller_is_async,
                  s.already_awaited) for s in sites]
    assert described == [
        ('load("a")', "main", True, False),
        ('load("b")', "main", True, True),
        ('load("c")', "main", True, True),
        ('self.load("d")', "refresh", False, False),
        ('self.load("g")', "refresh_async", True, True),
        ('load("h")', None, False, False),
    ]


def test_call_sites_skip_the_excluded_span():
    doc = document("python", CALLS)
    main = find_target(doc, at(doc, 'load("a")'), at(doc, 'load("a")'))
    sites = call_sites(doc, "load", (main.start_byte, main.end_byte))
    assert [doc.text(s.start_byte, s.end_byte) for s in sites] == [
        'self.load("d")', 'self.load("g")', 'load("h")']


def test_js_call_sites_with_this_arrows_and_callbacks():
    source = '''async function load(p) { return p; }
const go = async () => { await load(1); };
class A {
  sync() { return this.load(2); }
  async run() {
    [1].forEach((i) => load(i));
    return await this.load(3);
  }
}
load(4);
'''
    doc = document("javascript", source)
    sites = call_sites(doc, "load", None)
    described = [(doc.text(s.start_byte, s.end_byte), s.caller_name, s.caller_is_async,
                  s.already_awaited) for s in sites]
    assert described == [
        ("load(1)", "go", True, True),
        ("this.load(2)", "sync", False, False),
        ("load(i)", None, False, False),  # inside a plain callback: no await possible there
        ("this.load(3)", "run", True, True),
        ("load(4)", None, False, False),
    ]


def test_ts_call_sites_in_methods():
    source = '''class Api {
  async get(url: string): Promise<string> { return url; }
  async both(): Promise<void> { const a = this.get("x"); await this.get("y"); }
}
'''
    doc = document("typescript", source)
    sites = call_sites(doc, "get", None)
    assert [(s.caller_name, s.caller_is_async, s.already_awaited) for s in sites] == [
        ("both", True, False), ("both", True, True)]


def test_call_sites_of_an_unknown_name_are_empty():
    doc = document("python", CALLS)
    assert call_sites(doc, "missing", None) == []
