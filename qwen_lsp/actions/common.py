"""What every action shares: the request, the target span, the prompt context."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from pathlib import PurePath

from qwen_lsp.syntax.context import Context, context_for
from qwen_lsp.syntax.document import SyntaxDocument
from qwen_lsp.syntax.languages import LanguageSpec, display_name
from qwen_lsp.syntax.targets import Target, find_target

_LANGUAGE_NAMES = {
    "en": "English", "zh": "Chinese (简体中文)", "zh-tw": "Traditional Chinese (繁體中文)",
    "ja": "Japanese", "ko": "Korean", "de": "German", "fr": "French", "es": "Spanish",
    "it": "Italian", "pt": "Portuguese", "ru": "Russian", "pl": "Polish", "nl": "Dutch",
    "tr": "Turkish", "uk": "Ukrainian", "cs": "Czech", "sv": "Swedish", "vi": "Vietnamese",
}


class ActionError(Exception):
    """A failure the user can act on; the message says what and what to do."""


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
    notes: list[str] = field(default_factory=list)


def answer_language(setting: str, client_locale: str | None) -> str:
    tag = client_locale if setting == "auto" else setting
    if not tag or tag.upper() in ("C", "POSIX"):
        return "English"
    tag = tag.replace("_", "-").lower()
    return _LANGUAGE_NAMES.get(tag) or _LANGUAGE_NAMES.get(tag.split("-")[0]) or tag


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


def context_text(context: Context | None) -> str:
    if context is None:
        return ""
    parts: list[str] = []
    if context.imports.strip():
        parts.append("The file imports:\n" + context.imports.strip())
    if context.class_header:
        parts.append("It is inside: " + context.class_header.strip())
    if context.called_signatures:
        parts.append("Functions of the same file it calls:\n"
                     + "\n".join(s.strip() for s in context.called_signatures))
    if not parts:
        return ""
    return "Context from the same file, for reference only (do not repeat it):\n" \
        + "\n".join(parts) + "\n\n"


_FENCE_RE = re.compile(r"```[^\n`]*\n(.*?)(?:^[ \t]*```|\Z)", re.S | re.M)


def extract_code(answer: str) -> str | None:
    """The code of a model answer: its first fenced block, else the bare answer."""
    match = _FENCE_RE.search(answer)
    if match:
        code = match.group(1)
    elif "```" in answer:
        return None
    else:
        code = answer
    code = code.strip("\n")
    return code if code.strip() else None


def reindent(code: str, indent: str) -> str:
    """Dedent the model's code, then give every non-blank line the original indent."""
    code = textwrap.dedent(code)
    if not indent:
        return code
    return "\n".join(indent + line if line.strip() else line for line in code.split("\n"))


def file_name(path: str) -> str:
    return PurePath(path).name or path
