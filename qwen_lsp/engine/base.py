"""What every engine offers: parameters, errors, and the Engine protocol."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

Message = dict[str, str]
"""One chat message: ``{"role": "system" | "user" | "assistant", "content": str}``."""


DEFAULT_MAX_TOKENS = 768
"""The answer length bound when nothing else says (setting ``maxOutputTokens``)."""


@dataclass(frozen=True)
class GenParams:
    max_tokens: int = DEFAULT_MAX_TOKENS
    temperature: float = 0.0  # 0 = greedy: repeatable, cacheable
    stop: tuple[str, ...] = ()
    # A rewrite whose answer mostly copies the prompt: with temperature 0 the llama.cpp
    # engine may draft tokens from the prompt and verify them in one batch (the same
    # text, sooner). Other engines ignore it; it does not change the answer.
    draft_from_prompt: bool = False


class Cancelled(Exception):
    """The generation was stopped because its cancel event was set."""


class EngineError(Exception):
    """The model could not answer; the message says why and what to do."""


class Engine(Protocol):
    def generate(
        self,
        messages: list[Message],
        params: GenParams,
        on_text: Callable[[str], None],
        cancel: threading.Event,
    ) -> str:
        """Blocking. Streams decoded text pieces to ``on_text`` and returns the whole text.

        Raises Cancelled when ``cancel`` is set (within ~100 ms, also during prompt
        evaluation) and EngineError when the request cannot be answered. A last
        message with the role "assistant" is the start of the answer, which the model
        continues; the returned text is the continuation only.
        """
        ...


@runtime_checkable
class Prefiller(Protocol):
    """An engine that can evaluate a prompt into its cache ahead of a request."""

    def prefill(self, messages: list[Message], cancel: threading.Event) -> None: ...


@runtime_checkable
class Closable(Protocol):
    def close(self) -> None: ...
