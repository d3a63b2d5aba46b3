"""Document sync: our own bytes and syntax tree per document, kept incrementally.

pygls applies a didChange to its own copy before our handler runs; we apply the
same changes, in order, to our bytes, so tree-sitter gets exact edit positions.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from lsprotocol import types
from pygls.uris import to_fs_path

from qwen_lsp.documents import OpenDocument

if TYPE_CHECKING:
    from qwen_lsp.server import QwenServer

log = logging.getLogger(__name__)


def _path(uri: str) -> str:
    return to_fs_path(uri) or uri


def register(server: QwenServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: QwenServer, params: types.DidOpenTextDocumentParams) -> None:
        item = params.text_document
        previous = ls.documents.get(item.uri)
        if previous is not None:  # opened again: a rewrite of the old text must stop
            previous.notify_changed()
        try:
            ls.documents[item.uri] = OpenDocument.open(
                item.uri, _path(item.uri), item.language_id, item.version, item.text,
                ls.settings.max_file_bytes)
        except Exception:
            log.exception("could not open %s; it will not be offered AI actions", item.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: QwenServer, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        doc = ls.documents.get(uri)
        if doc is None:
            log.warning("didChange for a document that is not open: %s", uri)
            return
        changes: list[tuple[tuple[int, int, int, int] | None, str]] = []
        for change in params.content_changes:
            rng = getattr(change, "range", None)
            if rng is None:
                changes.append((None, change.text))
            else:
                changes.append(((rng.start.line, rng.start.character, rng.end.line,
                                 rng.end.character), change.text))
        try:
            doc.change(params.text_document.version, changes, ls.encoding)
        except Exception:
            # Our copy may no longer be the editor's: stop offering actions on it (a
            # rewrite of it would be wrong) until the editor opens it again.
            log.exception("incremental update of %s failed", uri)
            ls.documents.pop(uri, None)
            doc.notify_changed()
            ls.notify_user(f"qwen-lsp lost track of the changes to {_path(uri)}: close and "
                           "reopen it to use the AI actions on it again",
                           types.MessageType.Warning)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: QwenServer, params: types.DidCloseTextDocumentParams) -> None:
        doc = ls.documents.pop(params.text_document.uri, None)
        if doc is not None:
            doc.notify_changed()  # a running rewrite stops now
