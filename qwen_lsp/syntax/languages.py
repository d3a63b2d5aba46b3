"""The languages qwen-lsp understands, and their tree-sitter grammars.

Each language is a `LanguageSpec`. Grammars come from the per-language
`tree-sitter-*` wheels (not `tree-sitter-languages`, which breaks with
tree-sitter >= 0.22); each is imported and loaded once, on first use.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from functools import cache

import tree_sitter


@dataclass(frozen=True)
class LanguageSpec:
    name: str  # python javascript typescript tsx go rust java c cpp csharp ruby php bash
    language_ids: tuple[str, ...]  # LSP languageIds that select it
    extensions: tuple[str, ...]  # ".py", ".tsx", ...
    supports_async: bool  # python, javascript, typescript, tsx


def _spec(name: str, ids: tuple[str, ...], exts: tuple[str, ...],
          supports_async: bool = False) -> LanguageSpec:
    return LanguageSpec(name, ids, exts, supports_async)


LANGUAGES: tuple[LanguageSpec, ...] = (
    _spec("python", ("python",), (".py", ".pyi", ".pyw"), True),
    _spec("javascript", ("javascript", "javascriptreact"), (".js", ".mjs", ".cjs", ".jsx"), True),
    _spec("typescript", ("typescript",), (".ts", ".mts", ".cts"), True),
    _spec("tsx", ("typescriptreact",), (".tsx",), True),
    _spec("go", ("go",), (".go",)),
    _spec("rust", ("rust",), (".rs",)),
    _spec("java", ("java",), (".java",)),
    _spec("c", ("c",), (".c", ".h")),
    _spec("cpp", ("cpp", "c++"), (".cpp", ".cc", ".cxx", ".hpp", ".hh", ".hxx")),
    _spec("csharp", ("csharp", "cs"), (".cs",)),
    _spec("ruby", ("ruby",), (".rb",)),
    _spec("php", ("php",), (".php",)),
    _spec("bash", ("shellscript", "bash", "sh"), (".sh", ".bash")),
)

# name -> (module, function returning the grammar's language pointer)
_GRAMMARS: dict[str, tuple[str, str]] = {
    "python": ("tree_sitter_python", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "tsx": ("tree_sitter_typescript", "language_tsx"),
    "go": ("tree_sitter_go", "language"),
    "rust": ("tree_sitter_rust", "language"),
    "java": ("tree_sitter_java", "language"),
    "c": ("tree_sitter_c", "language"),
    "cpp": ("tree_sitter_cpp", "language"),
    "csharp": ("tree_sitter_c_sharp", "language"),
    "ruby": ("tree_sitter_ruby", "language"),
    "php": ("tree_sitter_php", "language_php"),
    "bash": ("tree_sitter_bash", "language"),
}

_DISPLAY_NAMES = {
    "python": "Python", "javascript": "JavaScript", "typescript": "TypeScript", "tsx": "TSX",
    "go": "Go", "rust": "Rust", "java": "Java", "c": "C", "cpp": "C++", "csharp": "C#",
    "ruby": "Ruby", "php": "PHP", "bash": "Bash",
}

_BY_ID = {lid: spec for spec in LANGUAGES for lid in spec.language_ids}
_BY_EXT = {ext: spec for spec in LANGUAGES for ext in spec.extensions}
_BY_NAME = {spec.name: spec for spec in LANGUAGES}


def language_for(language_id: str | None, path: str | None) -> LanguageSpec | None:
    """The language for an LSP languageId, else for the path's extension; None if unknown."""
    if language_id:
        spec = _BY_ID.get(language_id.lower())
        if spec is not None:
            return spec
    if path:
        ext = os.path.splitext(path)[1].lower()
        return _BY_EXT.get(ext)
    return None


def spec_named(name: str) -> LanguageSpec:
    """The spec called `name` ("python", "cpp", ...); KeyError if there is none."""
    return _BY_NAME[name]


def display_name(spec: LanguageSpec) -> str:
    """How people write the language's name: "C++", "TypeScript", ..."""
    return _DISPLAY_NAMES.get(spec.name, spec.name)


@cache
def _language(name: str) -> tree_sitter.Language:
    module_name, function_name = _GRAMMARS[name]
    module = importlib.import_module(module_name)
    return tree_sitter.Language(getattr(module, function_name)())


def tree_sitter_language(spec: LanguageSpec) -> tree_sitter.Language:
    """The grammar of `spec`, loaded on first use and then reused."""
    return _language(spec.name)


def new_parser(spec: LanguageSpec) -> tree_sitter.Parser:
    """A fresh parser for `spec` (parsers are cheap; the grammar behind them is shared)."""
    return tree_sitter.Parser(tree_sitter_language(spec))
