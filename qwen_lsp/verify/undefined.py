"""Names a rewrite uses that nothing defines: pyflakes, limited to the rewritten lines."""

from __future__ import annotations

import ast

import pyflakes.checker
import pyflakes.messages

from .names import HOME_OF


def undefined_names(module_source_after: str, start_line: int, end_line: int, *,
                    module_source_before: str | None = None) -> list[str]:
    """pyflakes' undefined names (and locals used before assignment) on lines
    start_line..end_line (1-based, inclusive) of the new file, as readable problems.

    When `module_source_before` is given, names that were already undefined in it are not
    blamed on the rewrite. A file that does not parse gives [] (the syntax check speaks).
    """
    problems = []
    already = _undefined(module_source_before) if module_source_before is not None else set()
    for message in _flakes(module_source_after):
        if not start_line <= message.lineno <= end_line:
            continue
        name = message.message_args[0]
        if isinstance(message, pyflakes.messages.UndefinedName):
            if name in already:
                continue
            home = HOME_OF.get(name)
            advice = (f"add `from {home} import {name}`, or do not use it" if home
                      else "import or define it, or do not use it")
            problems.append(f"line {message.lineno}: undefined name '{name}' ({advice})")
        else:
            problems.append(f"line {message.lineno}: local variable '{name}' is used "
                            "before it is assigned")
    return problems


def _flakes(source: str) -> list[pyflakes.messages.Message]:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    checker = pyflakes.checker.Checker(tree, filename="<rewrite>")
    wanted = (pyflakes.messages.UndefinedName, pyflakes.messages.UndefinedLocal)
    return sorted((m for m in checker.messages if isinstance(m, wanted)),
                  key=lambda m: (m.lineno, m.col))


def _undefined(source: str) -> set[str]:
    return {m.message_args[0] for m in _flakes(source)
            if isinstance(m, pyflakes.messages.UndefinedName)}
