"""Code actions, from the syntax tree alone: listing them never calls the model."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from typing import TYPE_CHECKING

from lsprotocol import types

from qwen_lsp.actions.action import Action
from qwen_lsp.actions.errors import ActionError
from qwen_lsp.actions.language import answer_language
from qwen_lsp.actions.rewrite import async_offer_reason
from qwen_lsp.actions.span import Source, Span, resolve_span
from qwen_lsp.documents import OpenDocument
from qwen_lsp.edits import byte_offset
from qwen_lsp.syntax.context import context_for

if TYPE_CHECKING:
    from qwen_lsp.server import QwenServer

log = logging.getLogger(__name__)

KINDS = [action.kind for action in Action]
_NO_LIMIT = 10**9  # listing: the length limit is reported as a disabled reason


def _wanted(kind: str, only: list[str] | None) -> bool:
    if not only:
        return True
    return any(kind == o or kind.startswith(str(o) + ".") for o in only)


def _code_action(action: Action, argument: dict, disabled: str | None) -> types.CodeAction:
    return types.CodeAction(
        title=action.title, kind=action.kind,
        command=types.Command(title=action.title, command=action.command,
                              arguments=[argument]),
        disabled=types.CodeActionDisabled(reason=disabled) if disabled else None)


def register(server: QwenServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                    types.CodeActionOptions(code_action_kinds=KINDS, resolve_provider=False))
    def code_action(ls: QwenServer,
                    params: types.CodeActionParams) -> list[types.CodeAction] | None:
        doc = ls.documents.get(params.text_document.uri)
        if doc is None:
            return None
        only = [str(k) for k in params.context.only] if params.context.only else None
        rng = params.range
        start = byte_offset(doc.text, rng.start.line, rng.start.character, ls.encoding)
        end = byte_offset(doc.text, rng.end.line, rng.end.character, ls.encoding)
        argument = {
            "textDocument": {"uri": doc.uri, "version": doc.version},
            "range": {"start": {"line": rng.start.line, "character": rng.start.character},
                      "end": {"line": rng.end.line, "character": rng.end.character}},
        }
        source = doc.source()
        max_lines = ls.settings.max_span_lines
        actions: list[types.CodeAction] = []
        try:
            span = resolve_span(source, start, min(max(start, end), len(doc.text)),
                                max_lines=_NO_LIMIT, need_syntax=False, with_context=False)
        except ActionError:
            return None
        lines = span.code.count("\n") + 1
        too_long = None
        if lines > max_lines:
            too_long = (f"the {span.target.kind} is {lines} lines long, more than "
                        f"maxSpanLines ({max_lines})")
        else:
            _consider_prefill(ls, doc, source, span,
                              params.context.trigger_kind == types.CodeActionTriggerKind.Automatic)
        for action in Action:
            if not _wanted(action.kind, only):
                continue
            if action.rewrites and source.doc is None:
                continue  # only explain works on code that is not parsed
            if action is Action.CONVERT_TO_ASYNC and async_offer_reason(source, span):
                continue
            actions.append(_code_action(action, argument, too_long))
        return actions


PREFILL_DEBOUNCE = 0.15  # seconds the cursor must rest on a target (setting prefill: "idle")


class _PendingPrefill:
    """A prefill waiting for the cursor to rest; any change to the document drops it."""

    def __init__(self, ls: QwenServer, doc: OpenDocument, source: Source, span: Span) -> None:
        self.ls, self.doc, self.version = ls, doc, doc.version
        self.handle = asyncio.get_running_loop().call_later(
            PREFILL_DEBOUNCE, self.fire, source, span)
        doc.listeners.append(self.drop)

    def fire(self, source: Source, span: Span) -> None:
        self._forget()
        if self.ls.documents.get(self.doc.uri) is self.doc and self.doc.version == self.version:
            _maybe_prefill(self.ls, self.doc, source, span)

    def drop(self) -> None:
        """The document changed: the pending prefill, and one running, are of no use."""
        self.handle.cancel()
        self._forget()
        self.ls.runtime.worker.cancel_prefills()

    def _forget(self) -> None:
        if self.drop in self.doc.listeners:
            self.doc.listeners.remove(self.drop)
        if self.ls.pending_prefill is self:
            self.ls.pending_prefill = None


def _consider_prefill(ls: QwenServer, doc: OpenDocument, source: Source, span: Span,
                      automatic: bool) -> None:
    """Prefill policy (setting ``prefill``): "menu" when the user opens the actions menu,
    "idle" also when the cursor rests on a target (an automatic request, as VS Code
    sends on cursor moves), "off" never."""
    policy = ls.settings.prefill
    if policy == "off" or (automatic and policy != "idle"):
        return
    previous = ls.pending_prefill  # at most one prefill waits
    if isinstance(previous, _PendingPrefill):
        previous.handle.cancel()
        previous._forget()
    if not automatic:
        _maybe_prefill(ls, doc, source, span)
        return
    if ls.last_prefill == (doc.uri, doc.version, span.start_byte, span.end_byte):
        return  # never twice for the same target and version
    ls.pending_prefill = _PendingPrefill(ls, doc, source, span)


def _maybe_prefill(ls: QwenServer, doc: OpenDocument, source: Source, span: Span) -> None:
    """While the user looks at a function, evaluate its explain prompt in the background.

    The span is the one the explain command will resolve from the same range, so
    the prompt matches token for token; only its context is added here.
    """
    runtime = ls.runtime
    key = (doc.uri, doc.version, span.start_byte, span.end_byte)
    if runtime.model_state != "ready" or runtime.worker.queue_length or \
            ls.last_prefill == key:
        return
    ls.last_prefill = key
    if source.doc is not None:
        span = dataclasses.replace(span, context=context_for(source.doc, span.target))
    language = answer_language(ls.settings.explanation_language, ls.client_locale)
    task = asyncio.ensure_future(runtime.assistant.prefill_explain(
        source, span, language, runtime.gen_params()))
    task.add_done_callback(_log_failure)


def _log_failure(task: asyncio.Future) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.info("prefill skipped: %s", task.exception())
