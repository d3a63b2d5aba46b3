"""Lean speculative decoding for rewrites: drafts copied from the prompt, verified in one batch.

A rewrite's answer mostly copies its input, often re-indented (a body moved into a
``try`` block, a ``.then()`` callback turned into statements). So after each
verified step, the end of the answer so far is looked up in the prompt's code
blocks with every line's indentation ignored; where it occurs, the text that
followed it there, re-indented by the same shift, is tokenized into the *draft*. The model evaluates
the pending token and the draft in one llama.cpp batch, with logits computed only
for those few positions (never for the prompt), and keeps the longest draft prefix
that greedy decoding would have produced itself, plus the token it chose at the
first mismatch. Rejected positions are removed from the KV cache, so
``Llama.input_ids`` / ``n_tokens`` and the cache stay what plain decoding leaves.

Greedy only: with temperature 0 the text is the one plain decoding writes. A batch
of n tokens costs much less than n single steps here but more than one. Measured
on this machine (llama.cpp's CPU kernels take 4 rows at a time, and 1-3 rows one
by one): 2 tokens ~2.4x one, 4 ~3.2x, 5-7 ~5x, 8 ~4x, 16 ~5-6.5x, 32 ~7.5-10x,
48 ~10.5-14.5x, depending on the load. So batches hold a multiple of 4 tokens:
drafts of 7, 15, 31 or 47 tokens, the length doubling while drafts are accepted in
full and falling back after a miss; nothing is drafted where no match is found.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Generator
from contextlib import closing
from dataclasses import dataclass
from typing import Any

import numpy as np

MIN_MATCH_CHARS = 12  # the answer's last characters (indentation aside) found in the prompt
SPAN_CHARS = 320  # prompt text tokenized for one draft (more than the longest draft needs)
BATCH_MULTIPLE = 4  # batch sizes the CPU kernels handle best: 4, 8, 12, ...
_BLANKS = re.compile(r"[ \t]*")
_FENCED = re.compile(r"^```[^\n]*\n.*?^```", re.MULTILINE | re.DOTALL)


def draft_source(texts: list[str]) -> str:
    """What drafts are copied from: the fenced code blocks of ``texts`` (fences
    included), else all of them. A rewrite's answer is code; copying the prose of
    the instructions ("that gives the same results ...") only wastes batches."""
    blocks = [m.group(0) for text in texts for m in _FENCED.finditer(text)]
    return "\n".join(blocks) if blocks else "\n".join(texts)


def _unindented(text: str) -> tuple[str, list[int]]:
    """``text`` without each line's leading blanks, and each kept character's index."""
    kept: list[str] = []
    where: list[int] = []
    line_start = True
    for i, ch in enumerate(text):
        if line_start and ch in " \t":
            continue
        line_start = ch == "\n"
        kept.append(ch)
        where.append(i)
    return "".join(kept), where


def _line_start(text: str, pos: int) -> int:
    return text.rfind("\n", 0, pos) + 1


def _indent(text: str, line_start: int) -> str:
    match = _BLANKS.match(text, line_start)
    return match.group(0) if match else ""


def _shift(indent: str, delta: int, unit: str) -> str:
    if delta > 0:
        return unit * delta + indent
    return indent[min(-delta, len(indent)):] if delta < 0 else indent


class TextLookup:
    """Drafts: the prompt text that followed the end of the answer so far, re-indented.

    ``source`` is the text to copy from (the messages' contents); ``tokenize`` turns
    text into model tokens (plain text, no special tokens). Feed the answer's raw
    token bytes with ``append``; ``draft`` returns up to ``limit`` tokens, or [] when
    the answer's last ``min_chars`` characters (indentation ignored) are nowhere in
    the source. Of several occurrences, the one whose match reaches furthest back
    wins, the latest on a tie.
    """

    def __init__(self, source: str, tokenize: Callable[[str], list[int]],
                 min_chars: int = MIN_MATCH_CHARS, span_chars: int = SPAN_CHARS) -> None:
        self.source = source
        self._flat, self._where = _unindented(source)
        self._tokenize = tokenize
        self.min_chars = min_chars
        self.span_chars = span_chars
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.text = ""
        self.match_chars = 0  # length of the last draft's match (indentation aside)

    def append(self, piece: bytes) -> None:
        self.text += self._decoder.decode(piece)

    def draft(self, limit: int) -> list[int]:
        if limit <= 0 or self._decoder.getstate()[0]:  # no draft inside a UTF-8 character
            return []
        text = self.text
        tail, _ = _unindented(text[_line_start(text, max(0, len(text) - 400)):])
        if len(tail) < self.min_chars:
            return []
        end = self._best_match(tail)
        if end < 0:
            return []
        return self._continuation(self._where[end], limit)

    def _best_match(self, tail: str) -> int:
        """Index in the flat source just after the best occurrence of ``tail``'s end."""
        flat = self._flat
        key = tail[-self.min_chars:]
        best, best_len = -1, 0
        start = flat.find(key)
        while start >= 0:
            end = start + len(key)
            if end < len(flat):  # something follows it
                n = len(key)
                while n < len(tail) and n < end and flat[end - n - 1] == tail[-n - 1]:
                    n += 1
                if n >= best_len:
                    best, best_len = end, n
            start = flat.find(key, start + 1)
        self.match_chars = best_len
        return best

    def _continuation(self, pos: int, limit: int) -> list[int]:
        source, text = self.source, self.text
        piece = source[pos:pos + self.span_chars]
        truncated = pos + self.span_chars < len(source)
        fence = piece.find("\n```")
        if fence >= 0:  # the answer's code block ends there too; what follows is not copied
            piece, truncated = piece[:fence + 4], False
        src_line = _line_start(source, pos)
        out_line = _line_start(text, len(text))
        written = text[out_line:]
        if written.strip():  # the answer's current line has content: compare this line
            out_indent = _indent(text, out_line)
            delta = len(out_indent) - len(_indent(source, src_line))
        else:
            # At a line start (maybe with some blanks written), and `pos` at the content
            # of its line: the shift is the previous lines', and the draft begins with
            # the rest of this line's indentation.
            out_indent = _indent(text, _line_start(text, max(out_line - 1, 0)))
            prev_src = _indent(source, _line_start(source, max(src_line - 1, 0)))
            delta = len(out_indent) - len(prev_src)
            wanted = _shift(_indent(source, src_line), delta, out_indent[:1] or " ")
            if wanted.startswith(written):
                piece = wanted[len(written):] + piece
        if delta:
            unit = out_indent[:1] or " "
            lines = piece.split("\n")
            for i in range(1, len(lines)):
                blanks = _indent(lines[i], 0)
                if len(blanks) < len(lines[i]):  # blank lines stay as they are
                    lines[i] = _shift(blanks, delta, unit) + lines[i][len(blanks):]
            piece = "\n".join(lines)
        tokens = self._tokenize(piece)
        if truncated and len(tokens) > 1:
            tokens = tokens[:-1]  # the last one may be a cut word
        return tokens[:limit]


@dataclass
class DraftLength:
    """7, 15, 31 or 47 tokens (batches of 8, 16, 32, 48): doubled after a draft accepted
    in full, back to ``start`` after one that was not."""

    start: int = 7
    high: int = 47
    value: int = 0

    def __post_init__(self) -> None:
        self.value = self.start

    def update(self, drafted: int, accepted: int) -> None:
        if drafted == 0:
            return
        self.value = min(self.high, 2 * self.value + 1) if accepted == drafted else self.start


@dataclass
class DraftStats:
    drafted: int = 0  # draft tokens sent for verification
    accepted: int = 0  # of those, the ones greedy decoding chose too
    batches: int = 0  # llama_decode calls after the prompt (each gives >= 1 token)
    drafting_batches: int = 0  # of those, the ones that carried a draft

    def as_dict(self) -> dict[str, float | int]:
        return {
            "draft_tokens": self.drafted,
            "draft_accepted": self.accepted,
            "draft_acceptance": round(self.accepted / self.drafted, 3) if self.drafted else 0.0,
            "decode_batches": self.batches,
            "drafting_batches": self.drafting_batches,
        }


def speculative_tokens(llama: Any, prompt: list[int], source: str, max_new: int,
                       stats: DraftStats, token_bytes: Callable[[int], bytes], *,
                       top_k: int = 40, top_p: float = 0.95, written: str = "",
                       length: DraftLength | None = None) -> Generator[int, Any, None]:
    """Greedy tokens after ``prompt``, as ``Llama.generate(prompt, temp=0)`` gives, drafted.

    ``llama`` is a ``llama_cpp.Llama`` (0.3.36) built with ``logits_all=False``;
    ``source`` the text drafts are copied from; ``written`` the start of the answer
    that the prompt already holds (a last assistant message). The prompt is
    evaluated by ``Llama.generate`` itself, so the KV cache prefix shared with the previous
    request is reused as usual, and the first token is its greedy sample. At most
    ``max_new`` tokens are yielded. When the consumer stops early, the KV cache and
    ``input_ids[:n_tokens]`` hold the prompt and verified tokens only; after a
    failed (e.g. aborted) decode, only what was complete before it. RuntimeError
    from llama.cpp propagates.
    """
    import llama_cpp  # loaded by the engine already; kept out of this module's import

    if max_new <= 0:
        return
    plain = llama.generate(prompt, temp=0.0, top_k=top_k, top_p=top_p, repeat_penalty=1.0,
                           reset=True)
    with closing(plain):
        pending = next(plain)  # the prompt is evaluated; n_tokens == len(prompt)
    ctx = llama._ctx
    batch = llama._batch
    n_vocab = llama.n_vocab()

    def tokenize(text: str) -> list[int]:
        return llama.tokenize(text.encode("utf-8"), add_bos=False, special=False)

    lookup = TextLookup(source, tokenize)
    lookup.text = written
    lookup.append(token_bytes(pending))
    length = length or DraftLength()
    produced = 0
    try:
        while True:
            yield pending
            produced += 1
            if produced >= max_new:
                return
            draft = lookup.draft(min(length.value, max_new - produced))
            # a batch of 1 + len(draft) tokens, a multiple of BATCH_MULTIPLE (or just 1)
            usable = (1 + len(draft)) // BATCH_MULTIPLE * BATCH_MULTIPLE - 1
            draft = draft[:usable] if usable > 0 else []
            row = [pending, *draft]
            n_past = llama.n_tokens
            batch.set_batch(batch=row, n_past=n_past, logits_all=True)
            try:
                ctx.decode(batch)
            except RuntimeError:
                ctx.kv_cache_seq_rm(-1, n_past, -1)  # nothing of a broken batch is kept
                raise
            stats.batches += 1
            choices = [
                int(np.argmax(np.ctypeslib.as_array(
                    llama_cpp.llama_get_logits_ith(ctx.ctx, i), shape=(n_vocab,))))
                for i in range(len(row))
            ]
            accepted = 0
            while accepted < len(draft) and choices[accepted] == draft[accepted]:
                accepted += 1
            keep = n_past + 1 + accepted
            if keep < n_past + len(row):
                ctx.kv_cache_seq_rm(-1, keep, -1)
            llama.input_ids[n_past:keep] = row[: 1 + accepted]
            llama.n_tokens = keep
            if draft:
                stats.drafting_batches += 1
                stats.drafted += len(draft)
                stats.accepted += accepted
                length.update(len(draft), accepted)
            for token in draft[:accepted]:
                lookup.append(token_bytes(token))
                yield token
                produced += 1
                if produced >= max_new:
                    return
            pending = choices[accepted]
            lookup.append(token_bytes(pending))
    finally:
        # The context's last logits may belong to a rejected draft token: a later
        # Llama.generate must decode before it samples (0.3.36's own flag).
        llama._requires_eval = True
