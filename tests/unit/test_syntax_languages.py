import pytest

from qwen_lsp.syntax.languages import (
    LANGUAGES,
    display_name,
    language_for,
    new_parser,
    spec_named,
    tree_sitter_language,
)

# One line of real code per language, and the root node type its grammar gives it.
SAMPLES = {
    "python": ("def f(x):\n    return x\n", "module"),
    "javascript": ("function f(x) { return <b>{x}</b>; }\n", "program"),
    "typescript": ("function f(x: number): number { return x; }\n", "program"),
    "tsx": ("const f = (x: number) => <div>{x}</div>;\n", "program"),
    "go": ("package main\nfunc f(x int) int { return x }\n", "source_file"),
    "rust": ("fn f(x: i32) -> i32 { x }\n", "source_file"),
    "java": ("class A { int f(int x) { return x; } }\n", "program"),
    "c": ("int f(int x) { return x; }\n", "translation_unit"),
    "cpp": ("template <typename T> T f(T x) { return x; }\n", "translation_unit"),
    "csharp": ("class A { int F(int x) { return x; } }\n", "compilation_unit"),
    "ruby": ("def f(x)\n  x\nend\n", "program"),
    "php": ("<?php function f($x) { return $x; }\n", "program"),
    "bash": ("f() { echo \"$1\"; }\n", "program"),
}


def test_there_are_thirteen_languages_with_unique_names():
    assert sorted(spec.name for spec in LANGUAGES) == sorted(SAMPLES)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_grammar_loads_and_parses_its_language_without_errors(name):
    source, root_type = SAMPLES[name]
    tree = new_parser(spec_named(name)).parse(source.encode())
    assert tree.root_node.type == root_type
    assert not tree.root_node.has_error


@pytest.mark.parametrize(
    ("language_id", "expected"),
    [
        ("python", "python"), ("javascript", "javascript"), ("javascriptreact", "javascript"),
        ("typescript", "typescript"), ("typescriptreact", "tsx"), ("go", "go"),
        ("rust", "rust"), ("java", "java"), ("c", "c"), ("cpp", "cpp"), ("c++", "cpp"),
        ("csharp", "csharp"), ("ruby", "ruby"), ("php", "php"), ("shellscript", "bash"),
        ("bash", "bash"), ("sh", "bash"),
    ],
)
def test_language_id_selects_the_language(language_id, expected):
    assert language_for(language_id, None).name == expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("a.py", "python"), ("a.js", "javascript"), ("a.mjs", "javascript"),
        ("a.cjs", "javascript"), ("a.jsx", "javascript"), ("a.ts", "typescript"),
        ("a.mts", "typescript"), ("a.cts", "typescript"), ("a.tsx", "tsx"), ("a.go", "go"),
        ("a.rs", "rust"), ("A.java", "java"), ("a.c", "c"), ("a.h", "c"), ("a.cpp", "cpp"),
        ("a.cc", "cpp"), ("a.cxx", "cpp"), ("a.hpp", "cpp"), ("a.hh", "cpp"), ("a.hxx", "cpp"),
        ("a.cs", "csharp"), ("a.rb", "ruby"), ("a.php", "php"), ("a.sh", "bash"),
        ("a.bash", "bash"), ("/home/u/proj/src/Main.PY", "python"),
        ("file:///home/u/proj/app.tsx", "tsx"),
    ],
)
def test_extension_selects_the_language_when_the_id_is_unknown(path, expected):
    assert language_for("plaintext", path).name == expected
    assert language_for(None, path).name == expected


def test_language_id_wins_over_the_extension():
    assert language_for("typescriptreact", "/x/app.js").name == "tsx"


@pytest.mark.parametrize(
    ("language_id", "path"),
    [(None, None), ("plaintext", None), ("markdown", "README.md"), (None, "Makefile"), ("", "")],
)
def test_unknown_language_is_none(language_id, path):
    assert language_for(language_id, path) is None


def test_only_python_and_the_javascript_family_support_async():
    asyncs = {spec.name for spec in LANGUAGES if spec.supports_async}
    assert asyncs == {"python", "javascript", "typescript", "tsx"}


def test_grammar_is_loaded_once_and_parsers_are_fresh():
    spec = spec_named("go")
    assert tree_sitter_language(spec) is tree_sitter_language(spec)
    first, second = new_parser(spec), new_parser(spec)
    assert first is not second
    assert first.language is second.language or first.language == second.language


def test_display_names_are_the_ones_people_write():
    assert display_name(spec_named("cpp")) == "C++"
    assert display_name(spec_named("csharp")) == "C#"
    assert display_name(spec_named("typescript")) == "TypeScript"
