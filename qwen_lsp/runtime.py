"""What the server and the CLI share: settings, model, worker, cache, prompts.

One object, used from the asyncio event loop thread. The engine comes from the
``backend`` setting: the embedded model, resolved (assembled and verified on first
use) and loaded in the engine worker's thread, never on the event loop, with
llama.cpp imported only then; or an OpenAI-compatible server, whose model is looked
up (``GET /models``) in that same thread, and then the embedded model is never
resolved or loaded. A change of the backend or of its settings swaps the engine
without a restart.

Every cache key holds ``model_id``: the GGUF's sha256 for the embedded model (as it
always was, so existing caches stay valid), ``openai|<baseUrl>|<model>|<fingerprint>``
for a server, so answers of different models never mix.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from qwen_lsp import __version__, paths
from qwen_lsp.actions.errors import ActionError
from qwen_lsp.actions.prompts import PromptStore
from qwen_lsp.actions.runner import Assistant
from qwen_lsp.cache import ResultCache
from qwen_lsp.engine.base import Engine, GenParams
from qwen_lsp.engine.model import model_info, resolve_model
from qwen_lsp.engine.worker import EngineWorker
from qwen_lsp.settings import Settings

if TYPE_CHECKING:
    from qwen_lsp.engine.openai import ServedModel

log = logging.getLogger(__name__)

_EMBEDDED_KEYS = ("model_path", "threads", "context_size")
_OPENAI_KEYS = ("openai_base_url", "openai_model", "openai_api_key_env",
                "openai_timeout_seconds")
_CACHE_KEYS = ("cache_enabled", "cache_directory", "cache_max_megabytes")


def open_cache(settings: Settings) -> ResultCache | None:
    """The result cache the settings ask for (None when it is disabled)."""
    if not settings.cache_enabled:
        return None
    directory = paths.results_directory(settings.cache_directory)
    return ResultCache(directory, settings.cache_max_megabytes * 1024 * 1024)


def engine_settings(settings: Settings) -> tuple:
    """What the engine is made from: a change of any of it swaps the engine."""
    keys = _OPENAI_KEYS if settings.backend == "openai" else _EMBEDDED_KEYS
    return (settings.backend, *(getattr(settings, k) for k in keys))


RemoteFactory = Callable[[Settings], "tuple[Engine, ServedModel]"]


class Runtime:
    def __init__(self, settings: Settings,
                 engine_factory: Callable[[Path, Settings], Engine] | None = None,
                 model_override: str | None = None,
                 on_warning: Callable[[str], None] | None = None,
                 remote_factory: RemoteFactory | None = None) -> None:
        self.settings = settings
        self.model_override = model_override  # --model on the command line wins
        # called on the event loop with the message when a model fails to load
        self.on_model_error: Callable[[str], None] | None = None
        self.worker = EngineWorker()
        self._engine_factory = engine_factory or _llama_factory
        self._remote_factory = remote_factory or _openai_factory
        self.model: dict[str, object] = self._unknown_model(settings)
        self._model_known: asyncio.Event | None = None
        self.on_warning = on_warning  # problems the user should see, e.g. a template typo
        # the messages whose prompt is evaluated once the model is loaded (a shared prefix)
        self.warm_up_messages: Callable[[], list[dict[str, str]] | None] | None = None
        self.prompts = PromptStore(settings.prompts_directory, on_warning)
        self.cache = open_cache(settings)
        self.assistant = Assistant(self.worker, self.prompts, self.cache, self.model_id)

    # -- the model ---------------------------------------------------------------------

    @staticmethod
    def _unknown_model(settings: Settings) -> dict[str, object]:
        remote = settings.backend == "openai"
        return {"backend": settings.backend, "name": None, "id": None, "path": None,
                "sha256": None, "size": None,
                "baseUrl": settings.openai_base_url if remote else None, "error": None}

    def start_model(self, report: bool = True) -> None:
        """Queue making the engine the settings ask for; returns at once.

        ``report``: whether a failure goes to ``on_model_error`` (a retry made for a
        request is reported by that request's own error instead).
        """
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        self._model_known = event
        settings = self.settings
        self.model = self._unknown_model(settings)
        make = self._remote_engine if settings.backend == "openai" else self._embedded_engine

        def known() -> None:  # the model id is known (or will not be): lookups may go on
            loop.call_soon_threadsafe(event.set)

        def factory() -> Engine:
            try:
                return make(settings, known)
            except Exception as exc:
                self.model = dict(self.model, error=str(exc))
                known()
                raise

        done = self.worker.load(factory)

        def reported(future: concurrent.futures.Future[None]) -> None:
            if report and self.on_model_error is not None and not future.cancelled() \
                    and future.exception() is not None:
                loop.call_soon_threadsafe(self.on_model_error, str(future.exception()))

        done.add_done_callback(reported)

        def warm(future: concurrent.futures.Future[None]) -> None:
            # only before the first request: a request evaluates the same prefix itself,
            # and work queued after one (say, after its cancel, or on a reload) is not wanted
            if not future.cancelled() and future.exception() is None and \
                    self.worker.runs_submitted == 0:
                loop.call_soon_threadsafe(self._warm_up)

        done.add_done_callback(warm)

    def _warm_up(self) -> None:
        """Right after the model loads: evaluate the prompt prefix every explanation
        starts with (its system text), so a first request evaluates only its own code.
        A background prefill: any request cancels it; off with ``prefill: "off"``."""
        if self.settings.prefill == "off" or self.warm_up_messages is None or \
                self.worker.runs_submitted:
            return
        try:
            messages = self.warm_up_messages()
        except Exception:  # a broken user template: the request will say so
            log.debug("no warm-up prefix", exc_info=True)
            return
        if messages and self.worker.prefill(messages):
            log.debug("warming up the shared prompt prefix")

    def _embedded_engine(self, settings: Settings, known: Callable[[], None]) -> Engine:
        """On the worker thread: resolve, verify and load the GGUF.

        The id is known before the model loads, so a cache hit does not wait for it."""
        path = resolve_model(self.model_override or settings.model_path or None)
        info = model_info(path)
        self.model = dict(self.model, path=str(path), name=path.name, sha256=info["sha256"],
                          size=info["size"], id=info["sha256"])
        known()
        return self._engine_factory(path, settings)

    def _remote_engine(self, settings: Settings, known: Callable[[], None]) -> Engine:
        """On the worker thread: connect to the model server and look its model up."""
        engine, served = self._remote_factory(settings)
        self.model = dict(self.model, name=served.name, baseUrl=served.base_url,
                          id=served.model_id)
        known()
        return engine

    @property
    def model_started(self) -> bool:
        return self._model_known is not None

    async def model_id(self) -> str:
        """The model's id (part of every cache key); waits for it to be known.

        A model server that could not be reached or refused us is asked again by the
        next request, so that a server that comes back needs no restart.
        """
        if self._model_known is None:
            self.start_model()
        assert self._model_known is not None
        await self._model_known.wait()
        if self.model.get("error") and self.settings.backend == "openai":
            log.info("asking the model server again: %s", self.model.get("error"))
            self.start_model(report=False)
            await self._model_known.wait()
        model_id = self.model.get("id")
        if not model_id:
            raise ActionError(str(self.model.get("error") or "the model is not available"))
        return str(model_id)

    @property
    def model_state(self) -> str:
        if self.model.get("error") or self.worker.state == "error":
            return "error"
        return "ready" if self.worker.state == "ready" else "loading"

    @property
    def model_error(self) -> str | None:
        return str(self.model.get("error") or self.worker.error or "") or None

    # -- settings ---------------------------------------------------------------------

    def apply_settings(self, new: Settings) -> None:
        old, self.settings = self.settings, new
        if engine_settings(old) != engine_settings(new) and self._model_known is not None:
            log.info("model settings changed: %s", "connecting to the model server"
                     if new.backend == "openai" else "reloading the model")
            self.start_model()
        if any(getattr(old, k) != getattr(new, k) for k in _CACHE_KEYS):
            if self.cache is not None:
                self.cache.close()
            self.cache = open_cache(new)
            self.assistant.cache = self.cache
        if old.prompts_directory != new.prompts_directory:
            self.prompts = PromptStore(new.prompts_directory, self.on_warning)
            self.assistant.prompts = self.prompts

    def explanations_directory(self) -> Path:
        """Where explanations shown by the server are written, beside the cache."""
        return paths.explanations_directory(self.settings.cache_directory)

    def gen_params(self) -> GenParams:
        return GenParams(max_tokens=self.settings.max_output_tokens,
                         temperature=self.settings.temperature)

    def status(self) -> dict:
        cache = self.cache.info() if self.cache is not None else {
            "entries": 0, "bytes": 0, "path": None, "enabled": False}
        return {
            "version": __version__,
            "model": {"backend": self.model.get("backend"), "name": self.model.get("name"),
                      "baseUrl": self.model.get("baseUrl"), "path": self.model.get("path"),
                      "sha256": self.model.get("sha256"), "state": self.model_state,
                      "error": self.model_error},
            "queue": self.worker.queue_length,
            "cache": cache,
        }

    def shutdown(self, timeout: float = 5.0) -> None:
        self.worker.shutdown(timeout)
        if self.cache is not None:
            self.cache.close()


def _llama_factory(path: Path, settings: Settings) -> Engine:
    from qwen_lsp.engine.llama import LlamaEngine  # llama.cpp loads when the model does

    return LlamaEngine(path, n_threads=settings.threads, n_ctx=settings.context_size)


def _openai_factory(settings: Settings) -> tuple[Engine, ServedModel]:
    from qwen_lsp.engine.openai import OpenAIEngine  # httpx loads when the backend is used

    engine = OpenAIEngine(settings.openai_base_url, settings.openai_model,
                          settings.openai_api_key_env, settings.openai_timeout_seconds)
    return engine, engine.served
