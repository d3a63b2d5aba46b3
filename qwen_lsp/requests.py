"""One flow for an action request, shared by the language server and the CLI.

`decode_arguments` reads a command's argument object (INTERFACE.md); `prepare`
checks the version, snapshots the document and resolves the span; `execute` runs
the action. None of it speaks LSP: the server adds progress, edits and messages
around it (`features/commands.py`), the CLI prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from qwen_lsp.actions.action import Action
from qwen_lsp.actions.errors import ActionError
from qwen_lsp.actions.rewrite import async_offer_reason
from qwen_lsp.actions.runner import ExplainOutcome, OnText, RewriteOutcome
from qwen_lsp.actions.span import Source, Span, resolve_span
from qwen_lsp.documents import OpenDocument
from qwen_lsp.edits import byte_offset
from qwen_lsp.runtime import Runtime

Range = tuple[int, int, int, int]
"""(start line, start character, end line, end character) in the session's encoding."""

USAGE = ('expected one argument {"textDocument": {"uri": ..., "version": ...}, '
         '"range": {"start": {"line", "character"}, "end": {...}}}')


class InvalidArguments(ValueError):
    """The argument object is malformed; the message says which field."""


@dataclass(frozen=True)
class Request:
    action: Action
    uri: str
    version: int | None
    range: Range


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def decode_arguments(action: Action, arguments: Any) -> Request:
    """The one argument object of every command, checked field by field."""
    if not isinstance(arguments, (list, tuple)) or len(arguments) != 1 or \
            not isinstance(arguments[0], dict):
        raise InvalidArguments(f"{USAGE}; got {arguments!r:.200}")
    arg = arguments[0]
    doc = arg.get("textDocument")
    if not isinstance(doc, dict) or not isinstance(doc.get("uri"), str):
        raise InvalidArguments(f"textDocument.uri is missing; {USAGE}")
    version = doc.get("version")
    if version is not None and not _is_int(version):
        raise InvalidArguments("textDocument.version must be an integer")
    rng = arg.get("range")
    try:
        values = (rng["start"]["line"], rng["start"]["character"],
                  rng["end"]["line"], rng["end"]["character"])
    except (TypeError, KeyError):
        raise InvalidArguments(f"range is missing or malformed; {USAGE}") from None
    if not all(_is_int(v) and v >= 0 for v in values):
        raise InvalidArguments("range positions must be non-negative integers")
    if (values[2], values[3]) < (values[0], values[1]):
        raise InvalidArguments("range end is before its start")
    return Request(action, doc["uri"], version, values)


@dataclass(frozen=True)
class Prepared:
    """A request checked against its document: what the action will work on."""

    action: Action
    doc: OpenDocument
    version: int | None
    source: Source  # a snapshot: stays valid whatever the editor does meanwhile
    span: Span

    @property
    def label(self) -> str:
        target = self.span.target
        return f"`{target.name}`" if target.name else f"the {target.kind}"

    def document_changed(self, current: OpenDocument | None) -> bool:
        """True when `current` (the open document now) is not what was prepared."""
        return (current is not self.doc or self.doc.version != self.version
                or self.doc.text != self.source.text)


def prepare(request: Request, doc: OpenDocument | None, encoding: str,
            max_span_lines: int) -> Prepared:
    """Check the version, snapshot the document, resolve the span (ActionError if not)."""
    if doc is None:
        raise ActionError(f"{request.uri} is not open in the editor: open it, then try again")
    if request.version is not None and doc.version is not None and \
            request.version != doc.version:
        raise ActionError(f"the document changed (the request is for version "
                          f"{request.version}, the document is at version {doc.version}): "
                          "try again")
    source = doc.source(snapshot=True)
    l0, c0, l1, c1 = request.range
    start = byte_offset(doc.text, l0, c0, encoding)
    end = max(start, byte_offset(doc.text, l1, c1, encoding))
    span = resolve_span(source, start, end, max_lines=max_span_lines,
                        need_syntax=request.action.rewrites)
    if request.action is Action.CONVERT_TO_ASYNC:
        reason = async_offer_reason(source, span)
        if reason:
            raise ActionError(reason)
    return Prepared(request.action, doc, doc.version, source, span)


async def execute(runtime: Runtime, prepared: Prepared, language: str,
                  on_text: OnText) -> ExplainOutcome | RewriteOutcome:
    """Run the action: the cache, the model, the checks (see `actions.runner`)."""
    params = runtime.gen_params()
    if prepared.action is Action.EXPLAIN:
        return await runtime.assistant.explain(prepared.source, prepared.span, language,
                                               params, on_text)
    return await runtime.assistant.rewrite(prepared.action, prepared.source, prepared.span,
                                           params, on_text, language)
