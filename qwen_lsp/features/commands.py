"""The commands: explain, refactor, convert to async, status.

Each runs as a task under the client's request id (see ``QwenProtocol``), so a
``$/cancelRequest`` or a cancelled progress cancels the task, which cancels the
model's job; nothing is applied and the client gets ``RequestCancelled``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from qwen_lsp.actions.common import ActionError, Source, Span, answer_language, resolve_span
from qwen_lsp.actions.rewrite import async_offer_reason
from qwen_lsp.documents import OpenDocument
from qwen_lsp.edits import TextEdit, byte_offset, position_of
from qwen_lsp.engine.base import EngineError
from qwen_lsp.features.progress import CommandProgress
from qwen_lsp.server import COMMANDS, ExpectedFailure, QwenServer

log = logging.getLogger(__name__)

_ACTIONS = {"qwenLsp.explain": "explain", "qwenLsp.refactor": "refactor",
            "qwenLsp.convertToAsync": "async"}
_TITLES = {"explain": "Explaining", "refactor": "Refactoring", "async": "Converting to async"}


def _decode(arguments: Any) -> tuple[str, int | None, tuple[int, int, int, int]]:
    """The one argument object of every command, checked field by field."""
    usage = ('expected one argument {"textDocument": {"uri": ..., "version": ...}, '
             '"range": {"start": {"line", "character"}, "end": {...}}}')
    if not isinstance(arguments, (list, tuple)) or len(arguments) != 1 or \
            not isinstance(arguments[0], dict):
        raise JsonRpcInvalidParams(f"{usage}; got {arguments!r:.200}")
    arg = arguments[0]
    doc = arg.get("textDocument")
    if not isinstance(doc, dict) or not isinstance(doc.get("uri"), str):
        raise JsonRpcInvalidParams(f"textDocument.uri is missing; {usage}")
    version = doc.get("version")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        raise JsonRpcInvalidParams("textDocument.version must be an integer")
    rng = arg.get("range")
    try:
        values = (rng["start"]["line"], rng["start"]["character"],
                  rng["end"]["line"], rng["end"]["character"])
    except (TypeError, KeyError):
        raise JsonRpcInvalidParams(f"range is missing or malformed; {usage}") from None
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values):
        raise JsonRpcInvalidParams("range positions must be non-negative integers")
    if (values[2], values[3]) < (values[0], values[1]):
        raise JsonRpcInvalidParams("range end is before its start")
    return doc["uri"], version, values  # type: ignore[return-value]


def _lsp_range(source: bytes, start: int, end: int, encoding: str) -> types.Range:
    (l0, c0), (l1, c1) = position_of(source, start, encoding), position_of(source, end, encoding)
    return types.Range(start=types.Position(line=l0, character=c0),
                       end=types.Position(line=l1, character=c1))


def _unstructure(ls: QwenServer, value: Any) -> Any:
    return ls.protocol._converter.unstructure(value)


class CommandRun:
    """One command invocation, from decoded arguments to its JSON result."""

    def __init__(self, ls: QwenServer, action: str, arguments: Any) -> None:
        self.ls = ls
        self.action = action
        uri, version, rng = _decode(arguments)
        doc = ls.documents.get(uri)
        if doc is None:
            raise ActionError(f"{uri} is not open in the editor: open it, then try again")
        if version is not None and doc.version is not None and version != doc.version:
            raise ActionError(f"the document changed (the request is for version {version}, "
                              f"the document is at version {doc.version}): try again")
        self.doc: OpenDocument = doc
        self.version = doc.version
        self.source: Source = doc.source(snapshot=True)
        enc = ls.encoding
        start = byte_offset(doc.text, rng[0], rng[1], enc)
        end = max(start, byte_offset(doc.text, rng[2], rng[3], enc))
        self.span: Span = resolve_span(self.source, start, end,
                                       max_lines=ls.settings.max_span_lines,
                                       need_syntax=action != "explain")
        if action == "async":
            reason = async_offer_reason(self.source, self.span)
            if reason:
                raise ActionError(reason)
        # From here on, any change to the document stops a rewrite at once.
        self.changed = asyncio.Event()
        if action != "explain":
            doc.listeners.append(self.changed.set)

    @property
    def label(self) -> str:
        target = self.span.target
        return f"`{target.name}`" if target.name else f"the {target.kind}"

    async def run(self) -> dict:
        runtime = self.ls.runtime
        progress = CommandProgress(self.ls, f"Qwen: {_TITLES[self.action]} {self.label}")
        loading = runtime.model_state == "loading"
        await progress.begin("Loading model…" if loading else "Thinking…")
        outcome = "cancelled"
        try:
            if self.action == "explain":
                result = await self._explain(progress)
            else:
                result = await self._rewrite(progress)
            outcome = "done (cached)" if result.get("cached") else "done"
            return result
        except (ActionError, EngineError) as exc:
            outcome = "failed"
            message = f"qwen-lsp: {_TITLES[self.action].lower()} {self.label} failed: {exc}"
            self.ls.notify_user(message)
            raise ExpectedFailure(message) from None
        except Exception as exc:
            outcome = "failed"
            log.exception("%s of %s failed", self.action, self.label)
            message = (f"qwen-lsp: {_TITLES[self.action].lower()} {self.label} failed on an "
                       f"internal error ({type(exc).__name__}: {exc}); the log has the details")
            self.ls.notify_user(message)
            raise ExpectedFailure(message) from None
        finally:
            if self.changed.set in self.doc.listeners:
                self.doc.listeners.remove(self.changed.set)
            progress.end(outcome)

    async def _explain(self, progress: CommandProgress) -> dict:
        settings = self.ls.settings
        language = answer_language(settings.explanation_language, self.ls.client_locale)
        outcome = await self.ls.runtime.assistant.explain(
            self.source, self.span, language, self.ls.runtime.gen_params(), progress.stream)
        target = _lsp_range(self.source.text, self.span.target.start_byte,
                            self.span.target.end_byte, self.ls.encoding)
        if settings.explanation_display == "server":
            await show_explanation(self.ls, self.doc, self.label, outcome.markdown)
        return {"markdown": outcome.markdown, "cached": outcome.cached,
                "target": _unstructure(self.ls, target)}

    def _document_changed(self) -> bool:
        return (self.ls.documents.get(self.doc.uri) is not self.doc
                or self.doc.version != self.version or self.doc.text != self.source.text)

    async def _rewrite(self, progress: CommandProgress) -> dict:
        work = asyncio.ensure_future(self.ls.runtime.assistant.rewrite(
            self.action, self.source, self.span, self.ls.runtime.gen_params(), progress.stream))
        waiter = asyncio.ensure_future(self.changed.wait())
        try:
            await asyncio.wait({work, waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            if not work.done():
                work.cancel()  # stops the model's job: its answer could not be applied
                await asyncio.gather(work, return_exceptions=True)
        if self._document_changed():
            raise ActionError("the document changed while the model was working, so nothing "
                              "was applied: run the action again")
        outcome = work.result()
        notes = list(outcome.notes)
        edit = self._workspace_edit(outcome.plan.edits)
        applied = False
        if outcome.plan.edits:
            sending = asyncio.ensure_future(self._apply(edit, notes))
            try:
                applied = await asyncio.shield(sending)
            except asyncio.CancelledError:
                # Too late to cancel: the editor has the edit. Report what it did.
                applied = await sending
                notes.append("the request was cancelled after the edit was sent")
        if notes:
            kind = types.MessageType.Info
            self.ls.notify_user(f"qwen-lsp: {self.label}: " + "; ".join(notes), kind)
        return {"applied": applied, "cached": outcome.cached,
                "edit": _unstructure(self.ls, edit), "notes": notes}

    def _workspace_edit(self, edits: list[TextEdit]) -> types.WorkspaceEdit:
        caps = self.ls.client_capabilities.workspace
        ws_caps = caps.workspace_edit if caps else None
        annotate = bool(self.ls.settings.confirm_edits and ws_caps
                        and ws_caps.change_annotation_support)
        annotation_id = "qwen-lsp.ai-edit"
        text_edits: list[Any] = []
        for e in sorted(edits, key=lambda e: e.start_byte):
            rng = _lsp_range(self.source.text, e.start_byte, e.end_byte, self.ls.encoding)
            if annotate:
                text_edits.append(types.AnnotatedTextEdit(range=rng, new_text=e.new_text,
                                                          annotation_id=annotation_id))
            else:
                text_edits.append(types.TextEdit(range=rng, new_text=e.new_text))
        annotations = None
        if annotate:
            annotations = {annotation_id: types.ChangeAnnotation(
                label=f"AI {self.action} of {self.label}", needs_confirmation=True,
                description="Written by the local Qwen model: review before accepting")}
        if ws_caps and ws_caps.document_changes:
            return types.WorkspaceEdit(
                document_changes=[types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(
                        uri=self.doc.uri, version=self.version),
                    edits=text_edits)],
                change_annotations=annotations)
        return types.WorkspaceEdit(changes={self.doc.uri: text_edits},
                                   change_annotations=annotations)

    async def _apply(self, edit: types.WorkspaceEdit, notes: list[str]) -> bool:
        caps = self.ls.client_capabilities.workspace
        if not (caps and caps.apply_edit):
            notes.append("this editor cannot apply edits sent by a server: the edit is in "
                         "the command's result")
            return False
        response = await self.ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(
            edit=edit, label=f"Qwen: {_TITLES[self.action].lower()} {self.label}"))
        if not response.applied:
            notes.append("the editor did not apply the edit"
                         + (f": {response.failure_reason}" if response.failure_reason else ""))
        return bool(response.applied)


async def show_explanation(ls: QwenServer, doc: OpenDocument, label: str, markdown: str) -> None:
    """Show an explanation in an editor that has no plugin of ours."""
    directory = ls.runtime.explanations_directory()
    name = Path(doc.path).name
    digest = hashlib.sha256(markdown.encode()).hexdigest()[:10]
    path = directory / f"{name}.{digest}.md"
    text = f"# {label} in {name}\n\n{markdown}\n"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        log.warning("cannot write the explanation to %s: %s", path, exc)
        path = None  # type: ignore[assignment]
    window = ls.client_capabilities.window
    if path is not None and window and window.show_document and window.show_document.support:
        try:
            shown = await ls.window_show_document_async(types.ShowDocumentParams(
                uri=path.as_uri(), take_focus=False))
            if shown is not None and shown.success:
                return
            log.info("the editor did not show %s", path)
        except Exception as exc:
            log.info("showDocument failed: %s", exc)
    first = "\n".join(markdown.strip().splitlines()[:6])
    where = f" (full text: {path})" if path is not None else ""
    ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Info,
                                                   message=f"{label}: {first}{where}"))
    ls.window_log_message(types.LogMessageParams(type=types.MessageType.Info, message=text))


def register(server: QwenServer) -> None:
    def make(action: str):
        async def handler(arguments: Any) -> dict:
            try:
                run = CommandRun(server, action, arguments)
            except ActionError as exc:
                message = f"qwen-lsp: {exc}"
                server.notify_user(message)
                raise ExpectedFailure(message) from None
            return await run.run()
        return handler

    async def status(arguments: Any) -> dict:
        return server.runtime.status()

    for command, action in _ACTIONS.items():
        server.command_handlers[command] = make(action)
    server.command_handlers["qwenLsp.status"] = status

    # Registered with pygls too, so that executeCommandProvider lists them; the calls
    # themselves are routed by QwenProtocol straight to command_handlers.
    for command in COMMANDS:
        server.command(command)(_routed_elsewhere)


def _routed_elsewhere(*args: Any) -> None:
    raise RuntimeError("qwen-lsp commands are dispatched by QwenProtocol")
