"""The team backend: an OpenAI-compatible model server (vLLM, llama.cpp's llama-server,
Ollama, llama_cpp.server) behind the same Engine protocol as the embedded model.

``POST {baseUrl}/chat/completions`` with ``stream: true``; the streamed body is read
line by line and only its ``data:`` lines are used. The HTTP client is httpx's
AsyncClient, run on a private event loop thread owned by the engine: the worker
thread that calls generate() waits on a queue of text pieces and looks at its
cancel event every 20 ms, and a cancel cancels the request's task, which makes
httpx close the connection at once, also while the server is still reading the
prompt and has sent nothing. Every OpenAI-compatible server stops generating when
its client goes away (llama_cpp.server checks after every token).

A last message with the role "assistant" (the start of the answer that the prompt
wrote) is continued by some servers and not by others: llama.cpp's llama-server
and Ollama continue it, vLLM does with its ``continue_final_message`` flag, but
llama_cpp.server (and OpenAI's API) render it as a closed turn and open a new one,
and the model then writes a fresh answer after it. So when the engine connects it
*asks the server*: the prompt-token counts (``usage``) of a one-token request with
and without a short trailing assistant message differ by that message's tokens
when the server continues it, and by several more (the closing and reopening
markers) when it does not. A server that continues gets the message as it is (with
vLLM's flags); any other gets it *folded*: the message is left out, the user
prompt already asks for the answer's form, and when the model writes the start
itself it is removed from what comes back. Either way the returned text is the
continuation only, as with the embedded engine. Measured on llama_cpp.server with
the 0.5B model: asking in words to "begin with" the start made it echo "Purpose:"
and stop; leaving it out gave a normal answer.

The API key is read from the environment variable whose *name* the settings give;
it goes into the Authorization header and nowhere else (not into messages, logs
or the model id). ``trust_env=False``: no proxy variables, no .netrc, so the only
host ever contacted is the one of ``baseUrl``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import json
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from qwen_lsp.engine.base import Cancelled, EngineError, GenParams, Message

log = logging.getLogger(__name__)
# httpx logs every request at INFO, which the server would forward to the editor's log
# (window/logMessage) once per answer; its warnings and errors still come through.
if logging.getLogger("httpx").level == logging.NOTSET:
    logging.getLogger("httpx").setLevel(logging.WARNING)

DEFAULT_API_KEY_ENV = "QWEN_LSP_API_KEY"
DEFAULT_TIMEOUT_SECONDS = 60.0
_POLL = 0.02  # seconds between looks at a job's cancel event
_PROBE = [{"role": "user", "content": "Say yes."}]
_PROBE_START = {"role": "assistant", "content": "Yes"}
# vLLM's names; llama-server, Ollama and llama_cpp.server ignore unknown fields
_CONTINUE = {"continue_final_message": True, "add_generation_prompt": False}
_PROBE_TIMEOUT = 10.0  # seconds; a probe that takes longer counts as "does not continue"
_CONNECT_TIMEOUT = 10.0  # seconds at most to connect: a team server answers in milliseconds
_SHOWN = 200  # characters of a server's reply quoted in an error message

T = TypeVar("T")


@dataclass(frozen=True)
class ServedModel:
    """Which model answers: the server, its model id, and a fingerprint of what the
    server says about that model (its ``/models`` entry without the volatile
    ``created``), so that another model served under the same name is another id."""

    base_url: str
    name: str
    fingerprint: str = ""

    @property
    def model_id(self) -> str:
        """The id that goes into every cache key: backend, server, model, fingerprint."""
        return f"openai|{self.base_url}|{self.name}|{self.fingerprint}"


def normalize_base_url(base_url: str) -> str:
    """``base_url`` without a trailing slash; EngineError when it is not http(s)."""
    url = base_url.strip().rstrip("/")
    parts = urlsplit(url)
    if not url:
        raise EngineError('qwenLsp.backend is "openai" but qwenLsp.openai.baseUrl is empty: set '
                          "it to the team's model server, e.g. http://gpu-box:8000/v1")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EngineError(f"qwenLsp.openai.baseUrl {url!r} is not an http:// or https:// URL "
                          "(e.g. http://gpu-box:8000/v1)")
    return url


def fold_answer_start(messages: list[Message]) -> tuple[list[Message], str]:
    """Messages without a trailing assistant message, and that message's text."""
    if not messages or messages[-1]["role"] != "assistant":
        return list(messages), ""
    *rest, last = messages
    return rest, last["content"]


class _StartStripper:
    """Passes streamed text on, without the answer start the model was asked to write.

    Text is held back only while it could still be that start (leading whitespace
    aside). When the model wrote it, it is dropped; when it wrote something else,
    the text is passed on as it is (after one space, so that it does not stick to
    the start the caller puts in front).
    """

    def __init__(self, start: str, on_text: Callable[[str], None]) -> None:
        self._start = start.strip()
        self._on_text = on_text
        self._held = ""
        self._decided = not self._start
        self.text = ""

    def feed(self, piece: str) -> None:
        if self._decided:
            self._emit(piece)
            return
        self._held += piece
        body = self._held.lstrip()
        if len(body) < len(self._start) and self._start.startswith(body):
            return  # could still be the start
        self._decided = True
        held, self._held = self._held, ""
        if body.startswith(self._start):
            self._emit(body[len(self._start):])
        else:
            self._emit(held if held[:1].isspace() else " " + held)

    def finish(self) -> str:
        if not self._decided:
            self._decided = True
            held, self._held = self._held, ""
            body = held.lstrip()
            if body and not self._start.startswith(body):
                self._emit(held)
        return self.text

    def _emit(self, piece: str) -> None:
        if piece:
            self.text += piece
            self._on_text(piece)


class _LoopThread:
    """A private asyncio event loop on a daemon thread, for the HTTP client."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="qwen-lsp-http",
                                        daemon=True)
        self._thread.start()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def stop(self) -> None:
        if self.loop.is_running():
            try:
                self.submit(self.loop.shutdown_asyncgens()).result(2.0)
            except Exception:
                log.debug("closing the HTTP streams failed", exc_info=True)
            self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(2.0)
        if not self._thread.is_alive():
            self.loop.close()


class OpenAIEngine:
    """Answers from an OpenAI-compatible server. Used from one thread (the worker's)."""

    def __init__(self, base_url: str, model: str = "",
                 api_key_env: str = DEFAULT_API_KEY_ENV,
                 timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base_url = normalize_base_url(base_url)
        self.api_key_env = api_key_env or DEFAULT_API_KEY_ENV
        self.timeout_seconds = float(timeout_seconds)
        key = os.environ.get(self.api_key_env, "").strip()
        self._key_set = bool(key)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._loop = _LoopThread()
        self._client = httpx.AsyncClient(
            base_url=self.base_url + "/", headers=headers, trust_env=False,
            timeout=httpx.Timeout(self.timeout_seconds,
                                  connect=min(self.timeout_seconds, _CONNECT_TIMEOUT)),
            transport=transport,
            follow_redirects=False)
        self.last_stats: dict[str, float | int] = {}
        try:
            self.served = self._call(self._resolve(model.strip()))
            self.continues = self._call(self._probe_continuation())
        except BaseException:
            self.close()
            raise
        log.info("model server %s, model %s (%s a trailing assistant message)", self.base_url,
                 self.served.name, "continues" if self.continues else "does not continue")

    @property
    def model(self) -> str:
        return self.served.name

    # -- the Engine protocol -------------------------------------------------------

    def generate(
        self,
        messages: list[Message],
        params: GenParams,
        on_text: Callable[[str], None],
        cancel: threading.Event,
    ) -> str:
        if cancel.is_set():
            raise Cancelled()
        sent, start = fold_answer_start(messages)
        if start and self.continues:
            sent, start = list(messages), ""
        body: dict[str, Any] = {
            "model": self.served.name, "messages": sent, "stream": True,
            "temperature": params.temperature, "max_tokens": params.max_tokens,
        }
        if sent and sent[-1]["role"] == "assistant":
            body.update(_CONTINUE)
        if params.stop:
            body["stop"] = list(params.stop)
        pieces: queue.Queue[str | None] = queue.Queue()  # None: the request is over
        started = time.perf_counter()
        future = self._loop.submit(self._stream(body, pieces.put))
        future.add_done_callback(lambda _f: pieces.put(None))
        stripper = _StartStripper(start, on_text)
        first = 0.0
        try:
            while True:
                try:
                    piece = pieces.get(timeout=_POLL)
                except queue.Empty:
                    if cancel.is_set():
                        future.cancel()
                        raise Cancelled() from None
                    continue
                if piece is None:
                    break
                if not first:
                    first = time.perf_counter() - started
                stripper.feed(piece)
                if cancel.is_set():
                    future.cancel()
                    raise Cancelled()
            future.result()  # raises the request's EngineError
        finally:
            if not future.done():
                future.cancel()
        text = stripper.finish()
        total = time.perf_counter() - started
        self.last_stats = {"first_token_seconds": round(first, 3),
                           "total_seconds": round(total, 3), "characters": len(text)}
        log.debug("generation: %s", self.last_stats)
        return text

    def close(self) -> None:
        try:
            self._call(self._client.aclose(), timeout=2.0)
        except Exception:  # closing must not fail the caller
            log.debug("closing the HTTP client failed", exc_info=True)
        self._loop.stop()

    # -- HTTP ----------------------------------------------------------------------

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        return self._loop.submit(coro).result(timeout)

    async def _resolve(self, wanted: str) -> ServedModel:
        """The model to use: ``wanted``, checked against ``GET /models``, or the first
        one listed when ``wanted`` is empty."""
        try:
            listed = await self._models()
        except EngineError as exc:
            if wanted and getattr(exc, "status", None) == 404:
                log.info("%s/models is not served; using model %r unchecked", self.base_url,
                         wanted)
                return ServedModel(self.base_url, wanted)
            raise
        if not listed:
            raise EngineError(f"the model server at {self.base_url} lists no models "
                              f"({self.base_url}/models is empty); is a model loaded there?")
        names = [str(entry.get("id")) for entry in listed]
        if not wanted:
            entry = listed[0]
        elif wanted in names:
            entry = listed[names.index(wanted)]
        else:
            raise EngineError(f"the model server at {self.base_url} has no model {wanted!r}; it "
                              f"offers: {', '.join(names)}. Set qwenLsp.openai.model to one of "
                              'them, or to "" for the first')
        stable = {k: v for k, v in entry.items() if k != "created"}
        digest = hashlib.sha256(json.dumps(stable, sort_keys=True, default=str).encode())
        return ServedModel(self.base_url, str(entry.get("id")), digest.hexdigest()[:16])

    async def _probe_continuation(self) -> bool:
        """Whether the server continues a trailing assistant message (see the module doc).

        A refused key or an unknown model is an error here already; any other trouble
        (a server that reports no usage, a slow one) means "fold", which works anywhere.
        """
        plain = await self._prompt_tokens(_PROBE, {})
        started = await self._prompt_tokens([*_PROBE, _PROBE_START], _CONTINUE)
        if plain is None or started is None:
            return False
        return started - plain <= 2  # "Yes" is one or two tokens; a closed turn adds more

    async def _prompt_tokens(self, messages: list[Message], extra: dict[str, Any]
                             ) -> int | None:
        url = f"{self.base_url}/chat/completions"
        body = {"model": self.served.name, "messages": messages, "max_tokens": 1,
                "temperature": 0.0, "stream": False, **extra}
        try:
            response = await self._client.post("chat/completions", json=body,
                                               timeout=min(self.timeout_seconds, _PROBE_TIMEOUT))
        except httpx.HTTPError as exc:
            if isinstance(exc, httpx.ConnectError):
                raise self._transport_error(exc, url, received=0) from None
            log.info("continuation probe failed (%s); folding answer starts", exc)
            return None
        if response.status_code in (401, 403):
            raise self._status_error(response.status_code, response.text, url)
        if response.status_code == 404:
            raise await self._not_found(response.text, url)
        try:
            tokens = response.json()["usage"]["prompt_tokens"]
        except (ValueError, KeyError, TypeError):
            tokens = None
        if response.status_code != 200 or not isinstance(tokens, int):
            log.info("continuation probe got HTTP %d without usage; folding answer starts",
                     response.status_code)
            return None
        return tokens

    async def _models(self) -> list[dict[str, Any]]:
        url = f"{self.base_url}/models"
        try:
            response = await self._client.get("models")
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, url, received=0) from None
        if response.status_code != 200:
            raise self._status_error(response.status_code, response.text, url)
        data = _json(response.text, url)
        entries = data.get("data") if isinstance(data, dict) else None
        if not isinstance(entries, list) or \
                not all(isinstance(e, dict) and e.get("id") for e in entries):
            raise EngineError(f"{url} did not answer with an OpenAI model list "
                              f"({{\"data\": [{{\"id\": ...}}]}}): {_quote(response.text)}")
        return entries

    async def _stream(self, body: dict[str, Any], put: Callable[[str], None]) -> None:
        url = f"{self.base_url}/chat/completions"
        received = 0
        try:
            async with self._client.stream("POST", "chat/completions", json=body) as response:
                if response.status_code != 200:
                    text = (await response.aread()).decode("utf-8", errors="replace")
                    if response.status_code == 404:
                        raise await self._not_found(text, url)
                    raise self._status_error(response.status_code, text, url)
                kind = response.headers.get("content-type", "")
                if "text/event-stream" not in kind:
                    # a server that ignored stream: true and sent one JSON completion
                    text = (await response.aread()).decode("utf-8", errors="replace")
                    put(_whole_answer(text, url, kind))
                    return
                ended = False
                async for line in response.aiter_lines():
                    event = _event(line, url)
                    if event is None:
                        continue
                    if event is _DONE:
                        ended = True
                        break
                    content, finished = _delta(event, url)
                    if content:
                        received += len(content)
                        put(content)
                    if finished:
                        ended = True
                if not ended:
                    raise EngineError(
                        f"the stream from {url} ended mid-answer (after {received} characters, "
                        "with no finish_reason and no [DONE]); the server may have restarted: "
                        "try again")
        except httpx.HTTPError as exc:
            raise self._transport_error(exc, url, received) from None

    async def _not_found(self, text: str, url: str) -> EngineError:
        detail = _detail(text)
        try:
            names = [str(e.get("id")) for e in await self._models()]
        except EngineError:
            return EngineError(f"{url} was not found (HTTP 404: {detail}); is "
                               f"qwenLsp.openai.baseUrl right? It usually ends with /v1")
        return EngineError(f"the model server at {self.base_url} has no model "
                           f"{self.served.name!r} (HTTP 404: {detail}); it offers: "
                           f"{', '.join(names) or 'nothing'}. Set qwenLsp.openai.model to one "
                           'of them, or to "" for the first')

    def _status_error(self, status: int, text: str, url: str) -> EngineError:
        detail = _detail(text)
        if status in (401, 403):
            state = "is set but was refused" if self._key_set else "is not set"
            error = EngineError(
                f"the model server at {self.base_url} refused the request (HTTP {status}: "
                f"{detail}): the API key is missing or wrong. The environment variable "
                f"{self.api_key_env} (qwenLsp.openai.apiKeyEnv) {state}; set it to the team's "
                "key in the environment the editor starts qwen-lsp from, then restart the "
                "editor")
        elif status == 404:
            error = EngineError(f"{url} was not found (HTTP 404: {detail}); is "
                                "qwenLsp.openai.baseUrl right? It usually ends with /v1")
        elif status >= 500:
            error = EngineError(f"the model server at {self.base_url} failed (HTTP {status}: "
                                f"{detail}); try again, or tell whoever runs it")
        else:
            error = EngineError(f"the model server at {self.base_url} rejected the request "
                                f"(HTTP {status}: {detail})")
        error.status = status  # type: ignore[attr-defined]
        return error

    def _transport_error(self, exc: httpx.HTTPError, url: str, received: int) -> EngineError:
        seconds = _number(self.timeout_seconds)
        if isinstance(exc, httpx.ConnectTimeout):
            connect = _number(min(self.timeout_seconds, _CONNECT_TIMEOUT))
            return EngineError(f"could not connect to the model server at {self.base_url} "
                               f"within {connect} s; is it running, is the machine reachable "
                               "from here, and is qwenLsp.openai.baseUrl right?")
        if isinstance(exc, httpx.TimeoutException):
            when = "before answering" if received == 0 else \
                f"in the middle of its answer (after {received} characters)"
            return EngineError(f"the model server at {self.base_url} sent nothing for "
                               f"{seconds} s {when} (qwenLsp.openai.timeoutSeconds); it may be "
                               "overloaded: try again, or raise the timeout")
        if isinstance(exc, httpx.ConnectError):
            return EngineError(f"cannot reach the model server at {self.base_url} ({exc}); is "
                               "it running, and is qwenLsp.openai.baseUrl right?")
        if received:
            return EngineError(f"the connection to {url} broke mid-answer (after {received} "
                               f"characters: {exc or type(exc).__name__}); try again")
        return EngineError(f"the request to {url} failed ({exc or type(exc).__name__}); is the "
                           "model server running?")


# -- reading replies -------------------------------------------------------------------

_DONE = object()


def _event(line: str, url: str) -> dict[str, Any] | object | None:
    """One line of the event stream: a JSON object, _DONE, or None (not a data line)."""
    if not line.startswith("data:"):
        return None  # blank separators, ": comments", "event:"/"id:" fields
    payload = line[5:].strip()
    if payload == "[DONE]":
        return _DONE
    if not payload:
        return None
    data = _json(payload, url, what="a stream line")
    if not isinstance(data, dict):
        raise EngineError(f"{url} sent a stream line that is not a JSON object: "
                          f"{_quote(payload)}")
    return data


def _delta(event: dict[str, Any], url: str) -> tuple[str, bool]:
    """The text of one chunk and whether it is the last one."""
    if "error" in event:
        raise EngineError(f"the model server failed mid-answer: {_detail(json.dumps(event))}")
    choices = event.get("choices")
    if not isinstance(choices, list):
        raise EngineError(f"{url} sent a chunk that is not an OpenAI chat completion chunk "
                          f"(no choices): {_quote(json.dumps(event))}")
    if not choices:
        return "", False  # e.g. a final usage-only chunk
    choice = choices[0] if isinstance(choices[0], dict) else {}
    delta = choice.get("delta") or {}
    content = delta.get("content") if isinstance(delta, dict) else None
    return (content if isinstance(content, str) else ""), bool(choice.get("finish_reason"))


def _whole_answer(text: str, url: str, kind: str) -> str:
    data = _json(text, url, what=f"a reply ({kind or 'no content-type'})")
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        content = None
    if not isinstance(content, str):
        raise EngineError(f"{url} answered with JSON that is not an OpenAI chat completion: "
                          f"{_quote(text)}")
    return content


def _json(text: str, url: str, what: str = "a reply") -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise EngineError(f"{url} sent {what} that is not JSON: {_quote(text)}; is "
                          "qwenLsp.openai.baseUrl an OpenAI-compatible API?") from None


def _detail(text: str) -> str:
    """The server's own error message, from the usual JSON shapes, else the text."""
    try:
        data = json.loads(text)
    except ValueError:
        return _quote(text) if text.strip() else "no details"
    if isinstance(data, dict):
        error = data.get("error", data.get("detail", data.get("message")))
        if isinstance(error, dict):
            error = error.get("message", error)
        if isinstance(error, str) and error:
            return _quote(error)
    return _quote(text)


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
