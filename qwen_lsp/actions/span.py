"""What an action works on: the document as actions see it, and the target span."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import PurePath

from qwen_lsp.actions.errors import ActionError
from qwen_lsp.syntax.context import Context, context_for
from qwen_lsp.syntax.document import SyntaxDocument
from qwen_lsp.syntax.languages import LanguageSpec, display_name
from qwen_lsp.syntax.targets import Target, find_target


@dataclass(frozen=True)
class Source:
    """One document as an action sees it."""

    path: str
    text: bytes
    spec: LanguageSpec | None
    doc: SyntaxDocument | None  # None: unknown language, binary or too large to parse
    language_id: str = ""

    @property
    def language_label(self) -> str:
        if self.spec is not None:
            return display_name(self.spec)
        return self.language_id or "plain text"

    @property
    def fence(self) -> str:
        if self.spec is not None:
            return self.spec.name
        return self.language_id


@dataclass
class Span:
    """The code an action works on, with its indentation handled."""

    target: Target
    start_byte: int  # the span, widened to the start of its first line when only indent precedes
    end_byte: int
    indent: str  # the first line's indentation, removed from `code`
    code: str  # dedented text of the span
    context: Context | None = None


def resolve_span(source: Source, start_byte: int, end_byte: int, *, max_lines: int,
                 need_syntax: bool, with_context: bool = True) -> Span:
    """Find what the request is about, or say plainly why there is nothing."""
    if source.doc is None:
        if need_syntax:
            raise ActionError(_unparsed_reason(source) + "; only 'Ask AI to explain' on a "
                              "selection works here")
        if start_byte == end_byte:
            raise ActionError(_unparsed_reason(source) + ", so there is no enclosing function "
                              "to find: select the code to explain")
        target = Target(kind="selection", name=None, start_byte=start_byte, end_byte=end_byte,
                        def_start_byte=start_byte, is_async=False, params=())
    else:
        found = find_target(source.doc, start_byte, end_byte)
        if found is None:
            raise ActionError("there is no function, method or class here: put the cursor "
                              "inside one, or select the code")
        target = found
    text = source.text
    line_start = text.rfind(b"\n", 0, target.start_byte) + 1
    prefix = text[line_start:target.start_byte]
    start = line_start if prefix.strip() == b"" else target.start_byte
    try:
        raw = text[start:target.end_byte].decode("utf-8")
    except UnicodeDecodeError:
        if need_syntax:  # a rewrite would replace what cannot be decoded
            raise ActionError(f"the {target.kind} holds text that is not valid Unicode (such "
                              "as a lone surrogate), so it is not rewritten: fix that text "
                              "first") from None
        raw = text[start:target.end_byte].decode("utf-8", errors="replace")
    lines = raw.count("\n") + 1
    if lines > max_lines:
        raise ActionError(f"the {target.kind} is {lines} lines long, more than maxSpanLines "
                          f"({max_lines}): select a smaller part, or raise qwenLsp.maxSpanLines")
    first = raw.split("\n", 1)[0]
    indent = first[: len(first) - len(first.lstrip())]
    code = textwrap.dedent(raw) if start == line_start else raw
    context = context_for(source.doc, target) \
        if source.doc is not None and with_context else None
    return Span(target=target, start_byte=start, end_byte=target.end_byte, indent=indent,
                code=code, context=context)


def _unparsed_reason(source: Source) -> str:
    if source.spec is None:
        label = source.language_id or PurePath(source.path).suffix or "this"
        return f"qwen-lsp does not parse {label} files"
    return f"{PurePath(source.path).name} is not parsed (binary, or larger than maxFileBytes)"
