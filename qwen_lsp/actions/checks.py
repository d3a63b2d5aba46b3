"""Every check a rewrite passes before it may be applied.

`plan_rewrite` checks the form (it parses, keeps the name and the parameters, is
async when asked) and plans the edits. Here, on top, for Python: no name the
rewrite uses is undefined (pyflakes), its docstring is kept, and it behaves like
the original on the same inputs (`qwen_lsp.verify`, run in a limited child
process); for JavaScript the same comparison runs under node where it can.
"""

from __future__ import annotations

import ast
import logging
import re
import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from qwen_lsp.actions.action import Action
from qwen_lsp.actions.rewrite import Plan, add_import, plan_rewrite
from qwen_lsp.actions.span import Source, Span
from qwen_lsp.edits import apply_edits

if TYPE_CHECKING:
    from qwen_lsp.verify import BehaviourReport

log = logging.getLogger(__name__)


@dataclass
class Checked:
    """A candidate rewrite after the checks: a plan, or the problems that stop it."""

    plan: Plan | None
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    behaviour: BehaviourReport | None = None

    @property
    def unchanged(self) -> bool:
        return self.plan is not None and not self.plan.edits

    @property
    def behaviour_checked(self) -> bool:
        return self.behaviour is not None and self.behaviour.status == "same"


def _class_name(span: Span) -> str | None:
    if span.target.kind != "method" or span.context is None or not span.context.class_header:
        return None
    match = re.search(r"\bclass\s+([A-Za-z_]\w*)", span.context.class_header)
    return match.group(1) if match else None


def keep_docstring(original: str, code: str) -> str:
    """Put the original's docstring back into a Python rewrite that dropped it."""
    try:
        old = ast.parse(textwrap.dedent(original)).body[0]
        new = ast.parse(textwrap.dedent(code)).body[0]
    except (SyntaxError, IndexError):
        return code
    if not isinstance(old, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) or \
            not isinstance(new, type(old)) or ast.get_docstring(old) is None or \
            ast.get_docstring(new) is not None:
        return code
    doc_node = old.body[0]
    old_lines = textwrap.dedent(original).split("\n")
    doc_lines = old_lines[doc_node.lineno - 1:doc_node.end_lineno]
    first_stmt = new.body[0]
    if first_stmt.lineno == new.lineno:
        return code  # a one-line body (`def f(): return 1`): leave it
    lines = textwrap.dedent(code).split("\n")
    body_line = lines[first_stmt.lineno - 1]
    indent = body_line[: len(body_line) - len(body_line.lstrip())]
    old_indent = doc_lines[0][: len(doc_lines[0]) - len(doc_lines[0].lstrip())]
    moved = [indent + line[len(old_indent):] if line.startswith(old_indent) else line
             for line in doc_lines]
    at = first_stmt.lineno - 1
    # decorators/comments above the body's first statement stay where they are
    return "\n".join(lines[:at] + moved + lines[at:])


_HANDLED = {"catch": "a failure is no longer caught",
            "finally": "its clean-up no longer runs"}


def _handlers(source: Source, code: str) -> dict[str, int]:
    """How many error handlers a JavaScript/TypeScript text has, by kind: `.catch(...)`
    calls and `catch` clauses; `.finally(...)` calls and `finally` clauses."""
    from qwen_lsp.syntax.languages import new_parser

    assert source.spec is not None
    tree = new_parser(source.spec).parse(code.encode("utf-8"))
    counts = dict.fromkeys(_HANDLED, 0)
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        if node.type in ("catch_clause", "finally_clause"):
            counts[node.type.split("_")[0]] += 1
        elif node.type == "call_expression":
            callee = node.child_by_field_name("function")
            prop = callee.child_by_field_name("property") if callee is not None and \
                callee.type == "member_expression" else None
            if prop is not None and prop.text is not None and prop.text.decode() in counts:
                counts[prop.text.decode()] += 1
    return counts


def _lost_handlers(source: Source, original: str, rewritten: str) -> str | None:
    """A rewrite (a `.then` chain turned into `await`, say) that dropped an error
    handler of the original changes what happens on failure: refused, with what it
    lost. Not behaviour-checkable when the code does I/O, so checked by its form."""
    if source.spec is None or source.spec.name not in ("javascript", "typescript", "tsx"):
        return None
    before, after = _handlers(source, original), _handlers(source, rewritten)
    for kind, effect in _HANDLED.items():
        if after[kind] < before[kind]:
            return (f"it drops the original's `{kind}` handling ({before[kind]} in the "
                    f"original, {after[kind]} in the rewrite): {effect}; keep a "
                    f"`try`/`{kind}` (or `.{kind}(...)`) that does what the original's does")
    return None


def check_candidate(action: Action, source: Source, span: Span, code: str, *,
                    behaviour: bool = True) -> Checked:
    """Plan `code` as the new text of the span and run every check on it."""
    # The checkers (Hypothesis among them) load with the first rewrite, not at start-up.
    from qwen_lsp.verify import undefined_names

    is_python = source.spec is not None and source.spec.name == "python"
    if is_python and action is Action.REFACTOR:
        code = keep_docstring(span.code, code)
    plan, problems = plan_rewrite(action, source, span, code)
    if plan is None:
        return Checked(None, problems)
    checked = Checked(plan, notes=list(plan.notes))
    if not plan.edits:
        return checked
    new_definition = textwrap.dedent(plan.new_text.replace("\r\n", "\n"))
    if not is_python and source.spec is not None:
        lost = _lost_handlers(source, span.code, new_definition)
        if lost:
            return Checked(None, [lost])
    if is_python:
        # the whole new file: the span's new text and the rule edits (`import asyncio`)
        after = apply_edits(source.text, plan.edits)
        shift = sum(len(e.new_text.encode("utf-8")) - (e.end_byte - e.start_byte)
                    for e in plan.edits if e.end_byte <= span.start_byte
                    and not (e.start_byte == e.end_byte == span.start_byte))
        start = after.count(b"\n", 0, span.start_byte + shift) + 1
        undefined = undefined_names(after.decode("utf-8", errors="replace"), start,
                                    start + plan.new_text.count("\n"),
                                    module_source_before=source.text.decode("utf-8",
                                                                            errors="replace"))
        imports = _missing_imports(undefined)
        if imports is None:
            return Checked(None, undefined)
        for statement in imports:  # e.g. `reduce`: the one import it needs, by rule
            add_import(source, plan, statement)
        checked.notes = list(plan.notes)
    if not behaviour or action is not Action.REFACTOR or not span.target.name:
        return checked
    report = _behaviour(source, span, new_definition, _added_imports(plan))
    checked.behaviour = report
    if report.status == "different":
        return Checked(None, [f"it behaves differently: {report.counterexample}"],
                       behaviour=report)
    checked.notes.append(report.note())
    return checked


_UNDEFINED = re.compile(r"undefined name '([A-Za-z_]\w*)'")


def _missing_imports(problems: list[str]) -> list[str] | None:
    """The imports that fix every problem (standard-library names only), or None."""
    from qwen_lsp.verify import HOME_OF

    statements: list[str] = []
    for problem in problems:
        match = _UNDEFINED.search(problem)
        home = HOME_OF.get(match.group(1)) if match else None
        if home is None:
            return None
        statement = f"from {home} import {match.group(1)}"  # type: ignore[union-attr]
        if statement not in statements:
            statements.append(statement)
    return statements


def _added_imports(plan: Plan) -> str:
    return "".join(statement + "\n" for statement in plan.imports)


def _behaviour(source: Source, span: Span, new_definition: str,
               added_imports: str = "") -> BehaviourReport:
    from qwen_lsp.verify import BehaviourReport, check_javascript, check_python

    module = added_imports + source.text.decode("utf-8", errors="replace")
    name = span.target.name or ""
    assert source.spec is not None
    try:
        if source.spec.name == "python":
            return check_python(module, span.code, new_definition, name,
                                class_name=_class_name(span))
        return check_javascript(module, span.code, new_definition, name,
                                language=source.spec.name)
    except Exception as exc:  # the checker must never take a rewrite down with it
        log.exception("the behaviour check failed")
        return BehaviourReport(status="unchecked", cases=0, counterexample=None,
                               reason=f"the check failed ({type(exc).__name__})")
