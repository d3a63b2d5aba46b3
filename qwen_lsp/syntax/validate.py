"""Checking a model's answer before it becomes an edit."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from functools import lru_cache

from tree_sitter import Node

from .document import SyntaxDocument
from .languages import LanguageSpec, display_name, new_parser
from .targets import definition_in

_SNIPPET = 40


def has_syntax_errors(spec: LanguageSpec, code: str) -> bool:
    """Whether tree-sitter finds ERROR or MISSING nodes in `code` parsed on its own."""
    return new_parser(spec).parse(code.encode("utf-8")).root_node.has_error


def validate_replacement(doc: SyntaxDocument, start_byte: int, end_byte: int, new_code: str, *,
                         name: str | None, params: tuple[str, ...] | None,
                         require_async: bool) -> list[str]:
    """Problems with putting `new_code` in place of doc.source[start_byte:end_byte], in
    words a person (or the model, on a retry) can act on; [] means the answer is fine.

    Syntax: the whole new file is parsed; errors count only if the old file had none,
    or if they overlap the answer. Python: the new file must also compile() when the old
    one did. Definition: among the definitions that start in the answer (not nested in
    another one), the one named `name` if any, else the first, must keep `name`, keep
    exactly `params` (names, in order) and be async when `require_async`. A syntax error
    is reported alone: the definition checks mean nothing on a broken tree.
    """
    if not 0 <= start_byte <= end_byte <= len(doc.source):
        raise ValueError(f"range {start_byte}..{end_byte} is outside the document")
    new_bytes = new_code.encode("utf-8")
    new_doc = SyntaxDocument(doc.spec, doc.source[:start_byte] + new_bytes + doc.source[end_byte:])
    span = (start_byte, start_byte + len(new_bytes))
    problem = _syntax_problem(doc, new_doc, span)
    if problem is not None:
        return [problem]
    if name is None and params is None and not require_async:
        return []
    found = definition_in(new_doc, span[0], span[1], name)
    if found is None:
        wanted = f"the definition of '{name}'" if name else "a function or class definition"
        return [f"the answer does not contain {wanted}"]
    word = {"method": "method", "class": "class"}.get(found.kind, "function")
    problems = []
    if name is not None and found.name != name:
        problems.append(f"the {word} is no longer named '{name}' (found '{found.name}')")
    if params is not None and found.params != tuple(params):
        problems.append(f"the parameters changed from ({', '.join(params)}) "
                        f"to ({', '.join(found.params)})")
    if require_async and not found.is_async:
        problems.append(f"the {word} is not async")
    return problems


def _syntax_problem(old: SyntaxDocument, new: SyntaxDocument, span: tuple[int, int]) -> str | None:
    prefix = f"the answer is not valid {display_name(old.spec)}"
    if old.spec.name == "python" and _compiles(old.source) is None:
        error = _compiles(new.source)
        if error is not None:
            line, message = error
            message = re.sub(r"\bline (\d+)",
                             lambda m: _where(new.source, span, int(m.group(1))), message)
            return f"{prefix}: {_where(new.source, span, line)}: {message}"
    old_has_error = old.tree.root_node.has_error
    for node in _error_nodes(new.tree.root_node):
        if old_has_error and not _overlaps(node, span):
            continue
        line = node.start_point.row + 1
        return f"{prefix}: {_where(new.source, span, line)}: {_describe(node, new)}"
    return None


@lru_cache(maxsize=16)
def _compiles(source: bytes) -> tuple[int, str] | None:
    """None if `source` compiles as Python, else (line, message) of the first error."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(source, "<answer>", "exec", dont_inherit=True)
    except SyntaxError as error:
        return error.lineno or 1, error.msg
    except ValueError as error:  # e.g. null bytes
        return 1, str(error)
    return None


def _where(source: bytes, span: tuple[int, int], line: int) -> str:
    """"line N" counted from the answer's first line, or "line N of the file" outside it."""
    first = source.count(b"\n", 0, span[0]) + 1
    last = first + source.count(b"\n", span[0], span[1])
    return f"line {line - first + 1}" if first <= line <= last else f"line {line} of the file"


def _error_nodes(node: Node) -> Iterator[Node]:
    """ERROR and MISSING nodes, outermost only, in document order."""
    if node.is_error or node.is_missing:
        yield node
        return
    if node.has_error:
        for child in node.children:
            yield from _error_nodes(child)


def _overlaps(node: Node, span: tuple[int, int]) -> bool:
    if node.start_byte == node.end_byte:
        return span[0] <= node.start_byte <= span[1]
    return node.start_byte < span[1] and node.end_byte > span[0]


def _describe(node: Node, doc: SyntaxDocument) -> str:
    if node.is_missing:
        return f"missing '{node.type}'" if not node.is_named else f"missing {node.type}"
    text = doc.text(node.start_byte, node.end_byte).strip().split("\n")[0].strip()
    if not text:
        return "syntax error"
    return f"unexpected '{text[:_SNIPPET]}{'...' if len(text) > _SNIPPET else ''}'"
