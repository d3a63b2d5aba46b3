"""Wiring: a QwenServer with every feature registered (esbonio's setup.py is the model)."""

from __future__ import annotations

import logging

from qwen_lsp.features import code_actions, commands, config, sync, window_log
from qwen_lsp.server import QwenServer

FEATURES = (config, sync, code_actions, commands)


def create_server(model_override: str | None = None) -> QwenServer:
    server = QwenServer(model_override)
    for feature in FEATURES:
        feature.register(server)
    logging.getLogger("qwen_lsp").addHandler(window_log.WindowLogHandler(server))
    return server
