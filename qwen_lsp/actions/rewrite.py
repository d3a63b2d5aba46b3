"""Turn a model's rewrite of a span into checked, minimal edits of the document.

The exact steps are done here by rule, not by the model: the ``async`` keyword,
``await`` at call sites in async callers, and ``import asyncio`` where the new
code needs it. Nothing leaves this module unless it passed validation.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field

from qwen_lsp.actions.action import Action
from qwen_lsp.actions.asyncify import await_call_site
from qwen_lsp.actions.code import reindent
from qwen_lsp.actions.span import Source, Span
from qwen_lsp.edits import TextEdit, line_diff_edits
from qwen_lsp.syntax.context import call_sites
from qwen_lsp.syntax.document import SyntaxDocument
from qwen_lsp.syntax.targets import find_target
from qwen_lsp.syntax.validate import validate_replacement

_CALLBACK_PARAMS = {"callback", "cb", "done", "next", "callbackfn", "oncomplete", "complete"}
_GENERATOR_SCOPES = frozenset({"generator_function_declaration", "generator_function"})
_FUNCTION_SCOPES = frozenset({"function_definition", "lambda", "function_declaration",
                              "function_expression", "arrow_function", "method_definition",
                              "function", "class_definition", "class_declaration"})
_JS_MODIFIERS = ("public ", "private ", "protected ", "static ", "override ", "readonly ")


@dataclass
class Plan:
    edits: list[TextEdit]
    notes: list[str] = field(default_factory=list)
    new_text: str = ""
    imports: list[str] = field(default_factory=list)  # import lines added by rule


def async_offer_reason(source: Source, span: Span) -> str | None:
    """Why "convert to async" does not apply here, or None when it does."""
    target = span.target
    if source.spec is None or not source.spec.supports_async:
        return "convert to async is available for Python, JavaScript and TypeScript"
    if target.kind not in ("function", "method"):
        return "convert to async works on a function or method"
    if target.is_async:
        return f"'{target.name}' is already async"
    if is_generator(source, span):
        return (f"'{target.name}' is a generator: as async it would become an async "
                "generator, which callers iterate differently, so it is not offered")
    if source.spec.name != "python" and takes_callback(target.params):
        return (f"'{target.name}' takes a completion callback; converting it changes how "
                "callers get the result, so it is not offered")
    return None


def is_generator(source: Source, span: Span) -> bool:
    """The target yields (in its own body, not in a nested function)."""
    if source.doc is None:
        return False
    node = source.doc.tree.root_node.descendant_for_byte_range(span.target.def_start_byte,
                                                              span.target.def_start_byte)
    while node is not None and node.start_byte == span.target.def_start_byte and \
            node.type not in _GENERATOR_SCOPES and node.type not in _FUNCTION_SCOPES:
        node = node.parent
    if node is None or node.type in _GENERATOR_SCOPES:
        return node is not None
    stack = list(node.children)
    while stack:
        child = stack.pop()
        if child.type in ("yield", "yield_expression"):
            return True
        if child.type not in _FUNCTION_SCOPES:
            stack.extend(child.children)
    return False


def takes_callback(params: tuple[str, ...]) -> bool:
    return bool(params) and params[-1].lower() in _CALLBACK_PARAMS


def _splice(source: Source, span: Span, new_text: str) -> tuple[bytes, int]:
    new_bytes = new_text.encode("utf-8")
    text = source.text[: span.start_byte] + new_bytes + source.text[span.end_byte:]
    return text, span.start_byte + len(new_bytes)


def ensure_async(source: Source, span: Span, new_text: str) -> str:
    """Add the ``async`` keyword by rule when the model left it out."""
    assert source.spec is not None
    spliced, end = _splice(source, span, new_text)
    doc = SyntaxDocument(source.spec, spliced)
    offset = span.start_byte + (len(new_text) - len(new_text.lstrip()))
    found = find_target(doc, offset + 1, offset + 1)
    if found is None or found.is_async or not (span.start_byte <= found.def_start_byte < end):
        return new_text
    rel = len(spliced[span.start_byte:found.def_start_byte].decode("utf-8", errors="replace"))
    head = new_text[rel:]
    if source.spec.name == "python":
        if head.startswith("def "):
            return new_text[:rel] + "async " + head
        return new_text
    insert_at = _js_async_position(head)
    if insert_at is None:
        return new_text
    return new_text[: rel + insert_at] + "async " + new_text[rel + insert_at:]


def _js_async_position(head: str) -> int | None:
    """Where ``async`` goes in a JS/TS definition that starts ``head``."""
    pos = 0
    for prefix in ("export default ", "export "):
        if head.startswith(prefix):
            pos = len(prefix)
            break
    rest = head[pos:]
    if rest.startswith("function"):
        return pos
    first_line = rest.split("\n", 1)[0]
    assign = re.match(r"(?:const|let|var)\s+[\w$]+\s*(?::[^=]+)?=\s*", first_line)
    if assign:
        return pos + assign.end()
    while any(rest.startswith(m) for m in _JS_MODIFIERS):
        step = next(len(m) for m in _JS_MODIFIERS if rest.startswith(m))
        pos += step
        rest = rest[step:]
    if re.match(r"[\w$#]+\s*[(<]", rest):
        return pos
    return None


def isolate_definition(source: Source, span: Span, code: str, prefer_async: bool) -> str:
    """The target's own definition out of an answer that also repeats other code.

    A small model often echoes the imports or the enclosing class around the
    function it rewrote; only the definition with the target's name is kept.
    """
    name = span.target.name
    if source.spec is None or not name or span.target.kind == "selection":
        return code
    doc = SyntaxDocument(source.spec, code.encode("utf-8"))
    best = None
    for match in re.finditer(rf"(?<![\w$]){re.escape(name)}(?![\w$])", code):
        offset = len(code[: match.start()].encode("utf-8"))
        found = find_target(doc, offset, offset)
        if found is None or found.name != name or found.kind == "selection":
            continue
        if best is None or (prefer_async and found.is_async and not best.is_async):
            best = found
    if best is None:
        return code
    start = doc.source.rfind(b"\n", 0, best.start_byte) + 1
    if doc.source[start:best.start_byte].strip():
        start = best.start_byte
    return textwrap.dedent(doc.source[start:best.end_byte].decode("utf-8"))


_LEADING_MARKS = ("#", "//", "/*", "*", "@")


def _keep_leading(source: Source, span: Span, new_text: str) -> str:
    """Put back the doc comment / decorators above the definition if the answer
    starts right at the definition line (a small model often drops them)."""
    target = span.target
    leading = source.text[span.start_byte:target.def_start_byte].decode("utf-8", "replace")
    leading = leading[: leading.rfind("\n") + 1]  # whole lines only
    if not leading.strip() or not target.name:
        return new_text
    first = next((line.strip() for line in new_text.split("\n") if line.strip()), "")
    if target.name in first and not first.startswith(_LEADING_MARKS):
        return leading.replace("\r\n", "\n") + new_text
    return new_text


def plan_rewrite(action: Action, source: Source, span: Span,
                 code: str) -> tuple[Plan | None, list[str]]:
    """Check the model's code and plan the edits; (None, problems) when it fails."""
    assert source.doc is not None
    target = span.target
    code = isolate_definition(source, span, code.replace("\r\n", "\n"),
                              prefer_async=action is Action.CONVERT_TO_ASYNC)
    new_text = _keep_leading(source, span, reindent(code, span.indent))
    if b"\r\n" in source.text[span.start_byte:span.end_byte]:
        new_text = new_text.replace("\n", "\r\n")  # keep the file's own line breaks
    if action is Action.CONVERT_TO_ASYNC:
        new_text = ensure_async(source, span, new_text)
    problems = validate_replacement(
        source.doc, span.start_byte, span.end_byte, new_text,
        name=target.name, params=target.params if target.kind != "class" else None,
        require_async=action is Action.CONVERT_TO_ASYNC,
    )
    if problems:
        return None, problems
    edits = line_diff_edits(source.text, span.start_byte, span.end_byte, new_text)
    plan = Plan(edits=edits, new_text=new_text)
    if action is Action.CONVERT_TO_ASYNC:
        _await_call_sites(source, span, plan)
        _import_asyncio(source, plan)
    return plan, []


def _await_call_sites(source: Source, span: Span, plan: Plan) -> None:
    assert source.doc is not None and span.target.name
    name = span.target.name
    for site in call_sites(source.doc, name, (span.start_byte, span.end_byte)):
        if site.already_awaited:
            continue
        line = source.text.count(b"\n", 0, site.start_byte) + 1
        if site.caller_is_async:
            edits = await_call_site(source, site.start_byte, site.end_byte)
            if isinstance(edits, str):
                plan.notes.append(f"line {line}: '{site.caller_name}' calls '{name}' where it "
                                  f"cannot await ({edits}): left unchanged for you to decide")
                continue
            for start, end, text in edits:  # two calls in one generator share its brackets
                if TextEdit(start, end, text) not in plan.edits:
                    plan.edits.append(TextEdit(start, end, text))
        elif site.caller_name:
            plan.notes.append(f"line {line}: '{site.caller_name}' calls '{name}' but is not "
                              f"async, so it now gets a coroutine/promise: left unchanged "
                              f"for you to decide")
        else:
            plan.notes.append(f"line {line}: a module-level call of '{name}' now gets a "
                              f"coroutine/promise: left unchanged for you to decide")


def _import_asyncio(source: Source, plan: Plan) -> None:
    if source.spec is None or source.spec.name != "python" or "asyncio." not in plan.new_text:
        return
    if re.search(rb"^\s*(import asyncio\b|from asyncio import)", source.text, re.M):
        return
    add_import(source, plan, "import asyncio")


def add_import(source: Source, plan: Plan, statement: str) -> None:
    """Add a Python import line to the file, before its first import (or after its
    docstring), in the file's own line breaks."""
    match = re.search(rb"^(import |from )(?!__future__)", source.text, re.M)
    at = match.start() if match else _after_module_docstring(source.text)
    newline = "\r\n" if b"\r\n" in source.text else "\n"
    plan.edits.append(TextEdit(at, at, statement + newline))
    plan.imports.append(statement)
    plan.notes.append(f"added '{statement}'")


def _after_module_docstring(text: bytes) -> int:
    match = re.match(rb'(\s*(#[^\n]*\n)*\s*("""|\'\'\')(.|\n)*?\3[^\n]*\n)', text)
    return match.end() if match else 0
