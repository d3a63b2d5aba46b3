"""Where qwen-lsp keeps its files: the one place that decides the cache directories.

The root is ``$QWEN_LSP_CACHE_DIR`` when set, else the platform's user cache
directory for qwen-lsp (``~/.cache/qwen-lsp`` on Linux, honouring ``XDG_CACHE_HOME``).
Beneath it: ``models/`` (the assembled embedded model), ``results/`` (the result
cache) and ``explanations/`` (Markdown files the server shows to plugin-less editors).
The ``cache.directory`` setting moves the last two.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ENV_CACHE_DIR = "QWEN_LSP_CACHE_DIR"


def cache_root() -> Path:
    return Path(os.environ.get(ENV_CACHE_DIR) or platformdirs.user_cache_dir("qwen-lsp"))


def models_directory() -> Path:
    return cache_root() / "models"


def results_directory(cache_directory_setting: str = "") -> Path:
    if cache_directory_setting:
        return Path(cache_directory_setting).expanduser()
    return cache_root() / "results"


def explanations_directory(cache_directory_setting: str = "") -> Path:
    if cache_directory_setting:
        return Path(cache_directory_setting).expanduser() / "explanations"
    return cache_root() / "explanations"
