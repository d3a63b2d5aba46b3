"""What the server and the CLI share: settings, model, worker, cache, prompts.

One object, used from the asyncio event loop thread. The model is resolved
(assembled and verified on first use) and loaded in the engine worker's thread,
never on the event loop; llama.cpp itself is imported only then.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Callable
from pathlib import Path

from qwen_lsp import paths
from qwen_lsp.actions.errors import ActionError
from qwen_lsp.actions.prompts import PromptStore
from qwen_lsp.actions.runner import Assistant
from qwen_lsp.cache import ResultCache
from qwen_lsp.engine.base import Engine, GenParams
from qwen_lsp.engine.model import model_info, resolve_model
from qwen_lsp.engine.worker import EngineWorker
from qwen_lsp.settings import Settings

log = logging.getLogger(__name__)

_MODEL_KEYS = ("model_path", "threads", "context_size")
_CACHE_KEYS = ("cache_enabled", "cache_directory", "cache_max_megabytes")


def open_cache(settings: Settings) -> ResultCache | None:
    """The result cache the settings ask for (None when it is disabled)."""
    if not settings.cache_enabled:
        return None
    directory = paths.results_directory(settings.cache_directory)
    return ResultCache(directory, settings.cache_max_megabytes * 1024 * 1024)


class Runtime:
    def __init__(self, settings: Settings,
                 engine_factory: Callable[[Path, Settings], Engine] | None = None,
                 model_override: str | None = None,
                 on_warning: Callable[[str], None] | None = None) -> None:
        self.settings = settings
        self.model_override = model_override  # --model on the command line wins
        # called on the event loop with the message when a model fails to load
        self.on_model_error: Callable[[str], None] | None = None
        self.worker = EngineWorker()
        self._engine_factory = engine_factory or _llama_factory
        self.model: dict[str, object] = {"path": None, "sha256": None, "size": None,
                                         "error": None}
        self._model_known: asyncio.Event | None = None
        self.on_warning = on_warning  # problems the user should see, e.g. a template typo
        self.prompts = PromptStore(settings.prompts_directory, on_warning)
        self.cache = open_cache(settings)
        self.assistant = Assistant(self.worker, self.prompts, self.cache, self.model_id)

    # -- the model ---------------------------------------------------------------------

    def start_model(self) -> None:
        """Queue resolving and loading the model; returns at once."""
        loop = asyncio.get_running_loop()
        event = asyncio.Event()
        self._model_known = event
        self.model = {"path": None, "sha256": None, "size": None, "error": None}
        settings = self.settings

        def factory() -> Engine:
            try:
                path = resolve_model(self.model_override or settings.model_path or None)
                info = model_info(path)
                self.model = {"path": str(path), "sha256": info["sha256"],
                              "size": info["size"], "error": None}
                loop.call_soon_threadsafe(event.set)
                return self._engine_factory(path, settings)
            except Exception as exc:
                self.model = dict(self.model, error=str(exc))
                loop.call_soon_threadsafe(event.set)
                raise

        done = self.worker.load(factory)

        def reported(future: concurrent.futures.Future[None]) -> None:
            if self.on_model_error is not None and not future.cancelled() \
                    and future.exception() is not None:
                loop.call_soon_threadsafe(self.on_model_error, str(future.exception()))

        done.add_done_callback(reported)

    @property
    def model_started(self) -> bool:
        return self._model_known is not None

    async def model_id(self) -> str:
        """The model's sha256 (part of every cache key); waits for it to be known."""
        if self._model_known is None:
            self.start_model()
        assert self._model_known is not None
        await self._model_known.wait()
        sha = self.model.get("sha256")
        if not sha:
            raise ActionError(str(self.model.get("error") or "the model is not available"))
        return str(sha)

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
        if any(getattr(old, k) != getattr(new, k) for k in _MODEL_KEYS) \
                and self._model_known is not None:
            log.info("model settings changed: reloading the model")
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
            "model": {"path": self.model.get("path"), "sha256": self.model.get("sha256"),
                      "state": self.model_state, "error": self.model_error},
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
