"""Wiring: a QwenServer with every feature registered (esbonio's setup.py is the model)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from qwen_lsp.engine.base import Engine
from qwen_lsp.features import code_actions, commands, config, sync, window_log
from qwen_lsp.server import QwenServer
from qwen_lsp.settings import Settings

FEATURES = (config, sync, code_actions, commands)


def create_server(model_override: str | None = None,
                  engine_factory: Callable[[Path, Settings], Engine] | None = None) -> QwenServer:
    """The server; `engine_factory` replaces the llama.cpp engine (a FakeEngine in tests)."""
    server = QwenServer(model_override, engine_factory)
    for feature in FEATURES:
        feature.register(server)
    logging.getLogger("qwen_lsp").addHandler(window_log.WindowLogHandler(server))
    return server
