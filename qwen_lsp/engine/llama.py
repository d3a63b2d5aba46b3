"""The real engine: one resident llama.cpp model (llama-cpp-python 0.3.36).

Only ever used from one thread (the EngineWorker's). Prompts are formatted as ChatML
here; no template from the model file is executed. Cancellation is real: llama.cpp
checks an abort flag between the nodes of every graph it computes, so a request
stops within milliseconds, also in the middle of evaluating a long prompt.
"""

from __future__ import annotations

import codecs
import ctypes
import importlib
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import closing, contextmanager
from typing import Any

import llama_cpp

from qwen_lsp.engine.base import Cancelled, EngineError, GenParams, Message
from qwen_lsp.engine.model import ModelError
from qwen_lsp.engine.speculative import DraftStats, draft_source, speculative_tokens

log = logging.getLogger(__name__)

ROLES = ("system", "user", "assistant")
N_BATCH = 512
TOP_K = 40
TOP_P = 0.95
_WATCH_INTERVAL = 0.02  # seconds between looks at a job's cancel event


def format_chatml(messages: list[Message]) -> str:
    """The ChatML text of ``messages``, ending with the open assistant turn.

    A last message from the assistant is the start of its answer: it stays open,
    and the model continues it.
    """
    if messages and messages[-1]["role"] == "assistant":
        *closed, last = messages
        return format_chatml(closed) + last["content"]
    turns = [f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages]
    return "".join(turns) + "<|im_start|>assistant\n"


class LlamaEngine:
    """Qwen (or any ChatML GGUF) on the CPU through llama.cpp."""

    def __init__(
        self, model_path: str | os.PathLike[str], n_threads: int, n_ctx: int, seed: int = 0
    ) -> None:
        _route_native_logs()
        _keep_stdio_untouched()
        started = time.perf_counter()
        try:
            self._llama = llama_cpp.Llama(
                model_path=str(model_path),
                n_ctx=n_ctx,
                n_threads=n_threads,
                n_threads_batch=n_threads,
                n_batch=N_BATCH,
                verbose=False,
                logits_all=False,
                seed=seed,
            )
        except (ValueError, RuntimeError) as exc:
            raise ModelError(
                f"llama.cpp could not load {model_path}: {exc}. Is it a complete GGUF model "
                "of an architecture this llama.cpp supports?"
            ) from exc
        self.load_seconds = time.perf_counter() - started
        self.model_path = str(model_path)
        self.n_ctx = self._llama.n_ctx()
        self._vocab = llama_cpp.llama_model_get_vocab(self._llama.model)
        self._eos = self._llama.token_eos()
        self._abort = _AbortSwitch(self._llama.ctx)
        self._special_cache: dict[str, list[int]] = {}
        self.last_stats: dict[str, float | int] = {}
        log.info("loaded %s in %.2f s (n_ctx=%d)", model_path, self.load_seconds, self.n_ctx)

    # -- prompts -----------------------------------------------------------------

    def prompt_tokens(self, messages: list[Message]) -> list[int]:
        """ChatML tokens: control markers parsed as special tokens, contents as plain text.

        Message contents are tokenized with special=False, so code that happens to
        contain ``<|im_end|>`` cannot end a turn early.
        """
        tokens: list[int] = []
        answer_start = ""
        if messages and messages[-1]["role"] == "assistant":  # continued by the model
            *messages, last = messages
            answer_start = last["content"]
        for message in messages:
            role = message["role"]
            if role not in ROLES:
                raise EngineError(f"unknown chat role {role!r}; expected one of {ROLES}")
            tokens += self._special(f"<|im_start|>{role}\n")
            tokens += self._llama.tokenize(
                message["content"].encode("utf-8"), add_bos=False, special=False
            )
            tokens += self._special("<|im_end|>\n")
        tokens += self._special("<|im_start|>assistant\n")
        if answer_start:
            tokens += self._llama.tokenize(answer_start.encode("utf-8"), add_bos=False,
                                           special=False)
        return tokens

    def _special(self, text: str) -> list[int]:
        cached = self._special_cache.get(text)
        if cached is None:
            cached = self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=True)
            self._special_cache[text] = cached
        return cached

    def _check_fits(self, n_prompt: int, n_output: int) -> None:
        if n_prompt + n_output > self.n_ctx:
            raise EngineError(
                f"the request is too long for the context: {n_prompt} prompt tokens + "
                f"{n_output} output > contextSize {self.n_ctx}; "
                "select less code or raise contextSize"
            )

    # -- generation --------------------------------------------------------------

    def generate(
        self,
        messages: list[Message],
        params: GenParams,
        on_text: Callable[[str], None],
        cancel: threading.Event,
    ) -> str:
        tokens = self.prompt_tokens(messages)
        self._check_fits(len(tokens), params.max_tokens)
        if cancel.is_set():
            raise Cancelled()
        stream = _TextStream(params.stop, on_text)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        started = time.perf_counter()
        first = 0.0
        produced = 0
        drafts = DraftStats() if self._drafts(params) else None
        with self._decoding(cancel), \
                closing(self._tokens(tokens, params, drafts, messages)) as sampled:
            for token in sampled:
                if produced == 0:
                    first = time.perf_counter() - started
                if cancel.is_set():
                    raise Cancelled()
                if self._is_end(token):
                    break
                produced += 1
                if stream.feed(decoder.decode(self.token_bytes(token))):
                    break
                if produced >= params.max_tokens:
                    break
        text = stream.finish(decoder.decode(b"", final=True))
        self._record(len(tokens), produced, started, first, drafts)
        return text

    def prefill(self, messages: list[Message], cancel: threading.Event) -> None:
        """Evaluate the prompt of ``messages`` into the KV cache without answering.

        A later generate() with the same messages then starts sampling at once, and
        one sharing a prefix evaluates only the rest. Cancellable like generate().
        """
        tokens = self.prompt_tokens(messages)
        self._check_fits(len(tokens), 1)
        with self._decoding(cancel), closing(self._tokens(tokens, GenParams())) as sampled:
            next(sampled, None)  # the prompt is evaluated once the first token is sampled

    @staticmethod
    def _drafts(params: GenParams) -> bool:
        """Draft from the prompt: asked for, and greedy (the same text as plain decoding)."""
        return params.draft_from_prompt and params.temperature == 0

    def _tokens(self, tokens: list[int], params: GenParams, drafts: DraftStats | None = None,
                messages: list[Message] | None = None) -> Generator[int, Any, None]:
        # Llama.generate reuses the KV cache for the longest common prefix with the
        # previous call (reset=True only resets when nothing matches); so does the
        # speculative path, which evaluates the prompt through it and drafts from
        # the messages' code blocks.
        if drafts is not None and messages:
            source = draft_source([m["content"] for m in messages])
            answer_start = messages[-1]["content"] if messages[-1]["role"] == "assistant" \
                else ""
            return speculative_tokens(self._llama, tokens, source, params.max_tokens, drafts,
                                      self.token_bytes, top_k=TOP_K, top_p=TOP_P,
                                      written=answer_start)
        return self._llama.generate(
            tokens,
            temp=params.temperature,
            top_k=TOP_K,
            top_p=TOP_P,
            repeat_penalty=1.0,
            reset=True,
        )

    @contextmanager
    def _decoding(self, cancel: threading.Event) -> Iterator[None]:
        """Arm the abort flag for ``cancel``; map an aborted decode to Cancelled."""
        with self._abort.armed(cancel):
            try:
                yield
            except RuntimeError as exc:
                # llama_decode returns 2 when aborted; llama-cpp-python raises
                # RuntimeError and leaves n_tokens at the last complete batch.
                self._forget_logits()
                if cancel.is_set():
                    raise Cancelled() from None
                raise EngineError(f"llama.cpp failed while generating: {exc}") from exc

    def _forget_logits(self) -> None:
        # After a failed decode the context's logits may not belong to the last
        # evaluated token: make the next generate() re-evaluate one token rather
        # than sample from them (llama-cpp-python's own flag for restored state).
        if hasattr(self._llama, "_requires_eval"):
            self._llama._requires_eval = True

    def _is_end(self, token: int) -> bool:
        return token == self._eos or bool(llama_cpp.llama_vocab_is_eog(self._vocab, token))

    def token_bytes(self, token: int) -> bytes:
        """The raw bytes of one token (may be part of a UTF-8 character)."""
        # Not Llama.detokenize: in 0.3.36 it uses a 32-byte buffer and silently drops
        # longer pieces (Qwen has 240 such tokens, e.g. runs of 35+ spaces).
        size = 64
        while True:
            buffer = ctypes.create_string_buffer(size)
            n = llama_cpp.llama_token_to_piece(self._vocab, token, buffer, size, 0, False)
            if n >= 0:
                return buffer.raw[:n]
            size = -n

    def _record(self, n_prompt: int, produced: int, started: float, first: float,
                drafts: DraftStats | None = None) -> None:
        total = time.perf_counter() - started
        decode = total - first
        stats: dict[str, float | int] = {
            "prompt_tokens": n_prompt,
            "output_tokens": produced,
            "first_token_seconds": round(first, 3),
            "total_seconds": round(total, 3),
            "tokens_per_second": round((produced - 1) / decode, 1) if produced > 1 else 0.0,
        }
        if drafts is not None:  # draft tokens verified, accepted, and the batches it took
            stats |= drafts.as_dict()
        self.last_stats = stats
        log.debug("generation: %s", self.last_stats)

    def close(self) -> None:
        self._llama.close()


class _TextStream:
    """Emits decoded text as it comes, holding back what could begin a stop string."""

    def __init__(self, stops: tuple[str, ...], on_text: Callable[[str], None]) -> None:
        self._stops = tuple(s for s in stops if s)
        self._on_text = on_text
        self._text = ""
        self._sent = 0
        self._stopped = False

    def feed(self, piece: str) -> bool:
        """Add ``piece``; True when a stop string appeared (the text ends before it)."""
        if not piece or self._stopped:
            return self._stopped
        self._text += piece
        hits = [i for s in self._stops if (i := self._text.find(s, self._sent)) >= 0]
        if hits:
            self._text = self._text[: min(hits)]
            self._emit(len(self._text))
            self._stopped = True
            return True
        self._emit(len(self._text) - self._held_back())
        return False

    def finish(self, tail: str) -> str:
        if tail:
            self.feed(tail)
        self._emit(len(self._text))
        return self._text

    def _held_back(self) -> int:
        longest = 0
        pending = len(self._text) - self._sent
        for stop in self._stops:
            for k in range(min(len(stop) - 1, pending), longest, -1):
                if self._text.endswith(stop[:k]):
                    longest = k
                    break
        return longest

    def _emit(self, upto: int) -> None:
        if upto > self._sent:
            piece = self._text[self._sent : upto]
            self._sent = upto
            self._on_text(piece)


class _AbortSwitch:
    """The flag llama.cpp polls between graph nodes (~550 times per generated token).

    A Python callback there would take the GIL every time and stall decoding
    whenever the event-loop thread runs Python (measured here: ~3 instead of ~12
    tokens/s next to a busy thread). So the callback is libc's ``strlen`` over a
    two-byte buffer: "" means go on, "\\x01" means abort. ``strlen(const char *)``
    and ``bool (*)(void *)`` pass and return the same way, and it returns exactly
    0 or 1 here. A short-lived watcher thread mirrors the job's cancel event into
    the buffer while llama.cpp runs.
    """

    def __init__(self, ctx: Any) -> None:
        self._flag = ctypes.create_string_buffer(2)
        self._lock = threading.Lock()
        self._epoch = 0
        strlen = _libc_strlen()
        if strlen is not None:
            self._callback = llama_cpp.ggml_abort_callback(strlen)
            data = ctypes.cast(self._flag, ctypes.c_void_p)
        else:  # no libc found: correct, but takes the GIL on every check
            self._callback = llama_cpp.ggml_abort_callback(lambda _data: self._flag.raw[0] != 0)
            data = None
        llama_cpp.llama_set_abort_callback(ctx, self._callback, data)

    @contextmanager
    def armed(self, cancel: threading.Event) -> Iterator[None]:
        with self._lock:
            self._epoch += 1
            epoch = self._epoch
            self._flag[0] = b"\x01" if cancel.is_set() else b"\x00"
        threading.Thread(
            target=self._watch, args=(cancel, epoch), name="qwen-lsp-abort-watch", daemon=True
        ).start()
        try:
            yield
        finally:
            with self._lock:
                self._epoch += 1
                self._flag[0] = b"\x00"

    def _watch(self, cancel: threading.Event, epoch: int) -> None:
        while True:
            fired = cancel.wait(_WATCH_INTERVAL)
            with self._lock:
                if self._epoch != epoch:
                    return
                if fired:
                    self._flag[0] = b"\x01"
                    return


def _libc_strlen() -> int | None:
    loaders: tuple[Callable[[], ctypes.CDLL], ...] = (
        lambda: ctypes.CDLL(None),
        lambda: ctypes.cdll.msvcrt,
    )
    for load in loaders:
        try:
            address = ctypes.cast(load().strlen, ctypes.c_void_p).value
        except (OSError, AttributeError, TypeError):
            continue
        if address:
            return address
    return None


# -- keeping llama.cpp off stdout ----------------------------------------------------

_native_log = logging.getLogger("qwen_lsp.engine.llama_cpp")
# ggml_log_level: 0 none, 1 debug, 2 info, 3 warn, 4 error, 5 continues the previous
# message (llama-cpp-python's own _logger.py still documents the older numbering).
# llama.cpp's warnings are notes (a smaller context than trained, a control token
# typed oddly in this GGUF, an aborted decode dropping its cache entries): INFO.
_LEVELS = {0: logging.DEBUG, 1: logging.DEBUG, 2: logging.DEBUG, 3: logging.INFO, 4: logging.ERROR}


_ABORTED = re.compile(r"failed with error 1\b|compute status: 1\b|failed to decode, ret = 2\b")


class _NativeLogRouter:
    """Collects llama.cpp's log output line by line into ``logging``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending = ""
        self._level = logging.DEBUG

    def __call__(self, level: int, text: bytes | None, _user_data: object) -> None:
        try:
            with self._lock:
                if level != 5:
                    self._flush()
                    self._level = _LEVELS.get(level, logging.DEBUG)
                self._pending += (text or b"").decode("utf-8", errors="replace")
                if "\n" in self._pending:
                    self._flush()
        except Exception:  # never let an exception cross back into C
            pass

    def _flush(self) -> None:
        for line in self._pending.splitlines():
            if line.strip():
                # A stop we asked for (ggml status 1 = aborted, llama_decode 2 = aborted)
                # is reported by llama.cpp as an error; it is not one.
                level = logging.DEBUG if _ABORTED.search(line) else self._level
                _native_log.log(level, "%s", line.rstrip())
        self._pending = ""


_router = _NativeLogRouter()
_log_callback = llama_cpp.llama_log_callback(_router)
_log_routed = False


def _route_native_logs() -> None:
    """Send llama.cpp/ggml logs to ``logging`` (replaces llama-cpp-python's stderr printer)."""
    global _log_routed
    if not _log_routed:
        llama_cpp.llama_log_set(_log_callback, ctypes.c_void_p(0))
        _log_routed = True


class _NoRedirect:
    def __init__(self, disable: bool = True) -> None:
        pass

    def __enter__(self) -> _NoRedirect:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None


def _keep_stdio_untouched() -> None:
    """Stop llama-cpp-python from pointing fds 1 and 2 at /dev/null while it loads.

    With verbose=False, 0.3.36 wraps backend init and model loading in
    ``suppress_stdout_stderr``, which dup2()s /dev/null over the process's stdout
    and stderr. In a stdio language server that silently swallows any JSON-RPC
    message the event loop writes meanwhile. The native logs it hides are routed to
    ``logging`` instead (``_route_native_logs``), so the redirect is replaced by a
    no-op in the two modules that use it.
    """
    for name in ("llama_cpp.llama", "llama_cpp._internals"):
        module = importlib.import_module(name)
        if hasattr(module, "suppress_stdout_stderr"):
            module.suppress_stdout_stderr = _NoRedirect
        else:
            log.warning("%s has no suppress_stdout_stderr any more; check stdout safety", name)
