"""Open documents: their bytes, version and incrementally kept syntax tree."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from qwen_lsp.actions.span import Source
from qwen_lsp.edits import byte_offset
from qwen_lsp.syntax.document import SyntaxDocument
from qwen_lsp.syntax.languages import LanguageSpec, language_for

log = logging.getLogger(__name__)

# a UTF-16 surrogate as kept from a client's JSON ("\\ud83d" alone: 3 "surrogatepass" bytes)
_HIGH_SURROGATE = re.compile(rb"\xed[\xa0-\xaf][\x80-\xbf]")
_LOW_SURROGATE = re.compile(rb"\xed[\xb0-\xbf][\x80-\xbf]")


def _join_surrogates(text: bytes, start: int, end: int,
                     new: bytes) -> tuple[int, int, bytes]:
    """Widen an edit so that a lone high and a lone low surrogate it brings together
    become the one character they are in the client's UTF-16 string (4 UTF-8 bytes)."""
    if b"\xed" not in new and not (start >= 3 and text[start - 3] == 0xED) \
            and text[end:end + 1] != b"\xed":
        return start, end, new  # the common case: nothing to join
    if start >= 3 and _HIGH_SURROGATE.fullmatch(text, start - 3, start):
        start, new = start - 3, text[start - 3:start] + new
    if _LOW_SURROGATE.match(text, end):
        end, new = end + 3, new + text[end:end + 3]
    units = new.decode("utf-8", "surrogatepass").encode("utf-16-le", "surrogatepass")
    return start, end, units.decode("utf-16-le", "surrogatepass").encode("utf-8",
                                                                         "surrogatepass")


@dataclass
class OpenDocument:
    uri: str
    path: str
    language_id: str
    version: int | None
    text: bytes
    spec: LanguageSpec | None
    syntax: SyntaxDocument | None
    max_file_bytes: int
    # called after every change: a running rewrite listens, to stop at once
    listeners: list[Callable[[], None]] = field(default_factory=list)

    @classmethod
    def open(cls, uri: str, path: str, language_id: str, version: int | None, text: str,
             max_file_bytes: int) -> OpenDocument:
        # a languageId that is not a string (a client bug: 42, null) means "unknown"
        language_id = str(getattr(language_id, "value", language_id) or "")
        doc = cls(uri=uri, path=path, language_id=language_id, version=version,
                  text=text.encode("utf-8", errors="surrogatepass"),
                  spec=language_for(language_id, path), syntax=None,
                  max_file_bytes=max_file_bytes)
        doc._reparse()
        return doc

    @property
    def parse_skipped_reason(self) -> str | None:
        if self.spec is None:
            return f"language '{self.language_id}' is not parsed"
        if len(self.text) > self.max_file_bytes:
            return (f"the file is {len(self.text):,} bytes, more than maxFileBytes "
                    f"({self.max_file_bytes:,})")
        if b"\0" in self.text:
            return "the file holds NUL bytes (binary)"
        return None

    def _reparse(self) -> None:
        reason = self.parse_skipped_reason
        if reason is not None:
            if self.syntax is not None or self.spec is not None:
                log.info("%s: not parsed: %s", self.path, reason)
            self.syntax = None
            return
        assert self.spec is not None
        if self.syntax is None:
            self.syntax = SyntaxDocument(self.spec, self.text)
        else:
            self.syntax.replace_all(self.text)

    def change(self, version: int | None, changes: list[tuple[tuple[int, int, int, int] | None,
                                                              str]], encoding: str) -> None:
        """Apply content changes in order: (range as (l0, c0, l1, c1) or None, text)."""
        for rng, new_text in changes:
            new_bytes = new_text.encode("utf-8", errors="surrogatepass")
            if rng is None:
                self.text = new_bytes
                self._reparse()
                continue
            start = byte_offset(self.text, rng[0], rng[1], encoding)
            end = max(start, byte_offset(self.text, rng[2], rng[3], encoding))
            start, end, new_bytes = _join_surrogates(self.text, start, end, new_bytes)
            self.text = self.text[:start] + new_bytes + self.text[end:]
            if self.syntax is not None and self.parse_skipped_reason is None:
                self.syntax.edit(start, end, new_bytes)
            else:
                self._reparse()
        self.version = version
        self.notify_changed()

    def notify_changed(self) -> None:
        """Tell every watcher that the text changed, or the document closed or reopened."""
        for listener in list(self.listeners):
            listener()

    @contextmanager
    def watch(self) -> Iterator[asyncio.Event]:
        """An event set by the next change; the watch ends with the block, however it ends."""
        changed = asyncio.Event()
        self.listeners.append(changed.set)
        try:
            yield changed
        finally:
            self.listeners.remove(changed.set)

    def source(self, snapshot: bool = False) -> Source:
        """The document as actions see it; a snapshot stays valid across later edits."""
        syntax = self.syntax
        if snapshot and syntax is not None:
            syntax = syntax.snapshot()
        return Source(path=self.path, text=self.text, spec=self.spec, doc=syntax,
                      language_id=self.language_id)

    def set_max_file_bytes(self, limit: int) -> None:
        if limit != self.max_file_bytes:
            self.max_file_bytes = limit
            self._reparse()
