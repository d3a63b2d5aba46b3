"""The commands: explain, refactor, convert to async, status.

Each runs as a task under the client's request id (see `qwen_lsp.protocol`), so a
``$/cancelRequest`` or a cancelled progress cancels the task, which cancels the
model's job; nothing is applied and the client gets ``RequestCancelled``. What a
command works on is decided by `qwen_lsp.requests` (shared with the CLI); this
module adds what speaks LSP: progress, the edit, the messages.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from qwen_lsp.actions.action import Action
from qwen_lsp.actions.errors import ActionError
from qwen_lsp.actions.language import answer_language
from qwen_lsp.actions.runner import ExplainOutcome, RewriteOutcome
from qwen_lsp.documents import OpenDocument
from qwen_lsp.edits import TextEdit, position_of
from qwen_lsp.engine.base import EngineError
from qwen_lsp.features.progress import CommandProgress
from qwen_lsp.protocol import ExpectedFailure
from qwen_lsp.requests import InvalidArguments, Prepared, decode_arguments, execute, prepare

if TYPE_CHECKING:
    from qwen_lsp.server import QwenServer

log = logging.getLogger(__name__)

STATUS_COMMAND = "qwenLsp.status"
COMMANDS = (*(action.command for action in Action), STATUS_COMMAND)
_ANNOTATION_ID = "qwen-lsp.ai-edit"


def _lsp_range(source: bytes, start: int, end: int, encoding: str) -> types.Range:
    (l0, c0), (l1, c1) = position_of(source, start, encoding), position_of(source, end, encoding)
    return types.Range(start=types.Position(line=l0, character=c0),
                       end=types.Position(line=l1, character=c1))


class CommandRun:
    """One prepared command, run with progress, and its edit sent to the editor."""

    def __init__(self, ls: QwenServer, prepared: Prepared, work_done_token: Any = None) -> None:
        self.ls = ls
        self.prepared = prepared
        self.action = prepared.action
        self.label = prepared.label
        self.work_done_token = work_done_token

    async def run(self) -> dict:
        runtime = self.ls.runtime
        progress = CommandProgress(self.ls, f"Qwen: {self.action.progress_title} {self.label}",
                                   self.work_done_token)
        outcome = "cancelled"
        what = f"{self.action.progress_title.lower()} {self.label}"
        try:
            # From its first moment, any change to the document stops a rewrite at once.
            watching = self.prepared.doc.watch() if self.action.rewrites else nullcontext()
            with watching as changed:
                if self.action is Action.EXPLAIN and progress.client_token is None:
                    # a cached answer needs no progress: not even the round trip that
                    # creates its token
                    hit = await self._cached_explain()
                    if hit is not None:
                        outcome = "done (cached)"
                        return hit
                loading = runtime.model_state == "loading"
                await progress.begin("Loading model…" if loading else "Thinking…")
                if self.action is Action.EXPLAIN:
                    result = await self._explain(progress)
                else:
                    assert changed is not None
                    result = await self._rewrite(progress, changed)
            outcome = "done (cached)" if result.get("cached") else "done"
            return result
        except (ActionError, EngineError) as exc:
            outcome = "failed"
            message = f"qwen-lsp: {what} failed: {exc}"
            self.ls.notify_user(message)
            raise ExpectedFailure(message) from None
        except Exception as exc:
            outcome = "failed"
            log.exception("%s of %s failed", self.action.id, self.label)
            message = (f"qwen-lsp: {what} failed on an internal error "
                       f"({type(exc).__name__}: {exc}); the log has the details")
            self.ls.notify_user(message)
            raise ExpectedFailure(message) from None
        finally:
            progress.end(outcome)

    def _answer_language(self) -> str:
        return answer_language(self.ls.settings.explanation_language, self.ls.client_locale)

    async def _cached_explain(self) -> dict | None:
        language = self._answer_language()
        outcome = await self.ls.runtime.assistant.cached_explain(
            self.prepared.source, self.prepared.span, language, self.ls.runtime.gen_params())
        return None if outcome is None else await self._explained(outcome)

    async def _explain(self, progress: CommandProgress) -> dict:
        outcome = await execute(self.ls.runtime, self.prepared, self._answer_language(),
                                progress.stream)
        assert isinstance(outcome, ExplainOutcome)
        return await self._explained(outcome)

    async def _explained(self, outcome: ExplainOutcome) -> dict:
        settings = self.ls.settings
        source, target = self.prepared.source, self.prepared.span.target
        rng = _lsp_range(source.text, target.start_byte, target.end_byte, self.ls.encoding)
        if settings.explanation_display == "server":
            await show_explanation(self.ls, self.prepared.doc, self.label, outcome.markdown)
        return {"markdown": outcome.markdown, "cached": outcome.cached,
                "target": self.ls.protocol.unstructure(rng)}

    async def _rewrite(self, progress: CommandProgress, changed: asyncio.Event) -> dict:
        # the answer language names the system message, which a rewrite shares with an
        # explanation evaluated before it (the prompt prefix is reused)
        language = self._answer_language()
        work = asyncio.ensure_future(execute(self.ls.runtime, self.prepared, language,
                                             progress.stream))
        waiter = asyncio.ensure_future(changed.wait())
        try:
            await asyncio.wait({work, waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
            if not work.done():
                work.cancel()  # stops the model's job: its answer could not be applied
                await asyncio.gather(work, return_exceptions=True)
        if self.prepared.document_changed(self.ls.documents.get(self.prepared.doc.uri)):
            raise ActionError("the document changed while the model was working, so nothing "
                              "was applied: run the action again")
        outcome = work.result()
        assert isinstance(outcome, RewriteOutcome)
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
            self.ls.notify_user(f"qwen-lsp: {self.label}: " + "; ".join(notes),
                                types.MessageType.Info)
        return {"applied": applied, "cached": outcome.cached,
                "edit": self.ls.protocol.unstructure(edit), "notes": notes}

    def _workspace_edit(self, edits: list[TextEdit]) -> types.WorkspaceEdit:
        caps = self.ls.client_capabilities.workspace
        ws_caps = caps.workspace_edit if caps else None
        # Annotations only travel in documentChanges: in `changes` lsprotocol drops them
        # (Neovim 0.12 announces annotation support but not documentChanges).
        annotate = bool(self.ls.settings.confirm_edits and ws_caps
                        and ws_caps.change_annotation_support and ws_caps.document_changes)
        source = self.prepared.source
        text_edits: list[Any] = []
        for e in sorted(edits, key=lambda e: e.start_byte):
            rng = _lsp_range(source.text, e.start_byte, e.end_byte, self.ls.encoding)
            if annotate:
                text_edits.append(types.AnnotatedTextEdit(range=rng, new_text=e.new_text,
                                                          annotation_id=_ANNOTATION_ID))
            else:
                text_edits.append(types.TextEdit(range=rng, new_text=e.new_text))
        annotations = None
        if annotate:
            annotations = {_ANNOTATION_ID: types.ChangeAnnotation(
                label=f"{self.action.title}: {self.label}", needs_confirmation=True,
                description="Written by the local Qwen model: review before accepting")}
        uri = self.prepared.doc.uri
        if ws_caps and ws_caps.document_changes:
            return types.WorkspaceEdit(
                document_changes=[types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(
                        uri=uri, version=self.prepared.version),
                    edits=text_edits)],
                change_annotations=annotations)
        return types.WorkspaceEdit(changes={uri: text_edits}, change_annotations=annotations)

    async def _apply(self, edit: types.WorkspaceEdit, notes: list[str]) -> bool:
        caps = self.ls.client_capabilities.workspace
        if not (caps and caps.apply_edit):
            notes.append("this editor cannot apply edits sent by a server: the edit is in "
                         "the command's result")
            return False
        response = await self.ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(
            edit=edit, label=f"Qwen: {self.action.progress_title.lower()} {self.label}"))
        if not response.applied:
            notes.append("the editor did not apply the edit"
                         + (f": {response.failure_reason}" if response.failure_reason else ""))
        return bool(response.applied)


async def show_explanation(ls: QwenServer, doc: OpenDocument, label: str, markdown: str) -> None:
    """Show an explanation in an editor that has no plugin of ours."""
    directory = ls.runtime.explanations_directory()
    name = Path(doc.path).name
    digest = hashlib.sha256(markdown.encode()).hexdigest()[:10]
    path: Path | None = directory / f"{name}.{digest}.md"
    text = f"# {label} in {name}\n\n{markdown}\n"
    try:  # the user's code, explained: readable by the user alone, like the cache
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # type: ignore[arg-type]
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(path, 0o600)  # type: ignore[arg-type]
    except OSError as exc:
        log.warning("cannot write the explanation to %s: %s", path, exc)
        path = None
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
    def make(action: Action):
        async def handler(arguments: Any, work_done_token: Any = None) -> dict:
            try:
                request = decode_arguments(action, arguments)
            except InvalidArguments as exc:
                raise JsonRpcInvalidParams(str(exc)) from None
            try:
                prepared = prepare(request, server.documents.get(request.uri), server.encoding,
                                   server.settings.max_span_lines)
            except ActionError as exc:
                message = f"qwen-lsp: {exc}"
                server.notify_user(message)
                raise ExpectedFailure(message) from None
            return await CommandRun(server, prepared, work_done_token).run()
        return handler

    async def status(arguments: Any, work_done_token: Any = None) -> dict:
        return server.runtime.status()

    for action in Action:
        server.protocol.command_handlers[action.command] = make(action)
    server.protocol.command_handlers[STATUS_COMMAND] = status

    # Registered with pygls too, so that executeCommandProvider lists them; the calls
    # themselves are routed by QwenProtocol straight to its command_handlers.
    for command in COMMANDS:
        server.command(command)(_routed_elsewhere)


def _routed_elsewhere(*args: Any) -> None:
    raise RuntimeError("qwen-lsp commands are dispatched by QwenProtocol")
