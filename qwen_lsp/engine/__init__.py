"""The model: locating/assembling/verifying the GGUF, the resident worker, cancellation.

``LlamaEngine`` is imported lazily so that this package (and the fake engine used in
plumbing tests) does not load llama.cpp until a real model is wanted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qwen_lsp.engine.base import Cancelled, Engine, EngineError, GenParams, Message
from qwen_lsp.engine.fake import FakeEngine
from qwen_lsp.engine.model import (
    EXPECTED_SHA256,
    EXPECTED_SIZE,
    ModelError,
    embedded_model_path,
    model_info,
    resolve_model,
)
from qwen_lsp.engine.worker import EngineWorker

if TYPE_CHECKING:
    from qwen_lsp.engine.llama import LlamaEngine

__all__ = [
    "EXPECTED_SHA256",
    "EXPECTED_SIZE",
    "Cancelled",
    "Engine",
    "EngineError",
    "EngineWorker",
    "FakeEngine",
    "GenParams",
    "LlamaEngine",
    "Message",
    "ModelError",
    "embedded_model_path",
    "model_info",
    "resolve_model",
]


def __getattr__(name: str) -> Any:
    if name == "LlamaEngine":
        from qwen_lsp.engine.llama import LlamaEngine

        return LlamaEngine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
