"""Fixtures that run the real `qwen-lsp` server over stdio with the real model."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from tests.e2e.helpers import install_apply_edit_handler

SERVER = [sys.executable, "-m", "qwen_lsp"]


@pytest.fixture(scope="session")
def model_path() -> str:
    """The embedded model, assembled from its PyPI parts and verified once."""
    from qwen_lsp.engine.model import resolve_model

    return str(resolve_model(None))


@pytest.fixture
def env(tmp_path: Path, model_path: str) -> dict[str, str]:
    """The server's environment: its own cache dirs, the real model."""
    env = dict(os.environ)
    env["XDG_CACHE_HOME"] = str(tmp_path / "xdg-cache")
    env["QWEN_LSP_MODEL"] = model_path
    env.pop("QWEN_LSP_CACHE_DIR", None)
    return env


def init_options(tmp_path: Path, **extra) -> dict:
    options = {"cache": {"directory": str(tmp_path / "results")}, "threads": 2}
    options.update(extra)
    return options


async def start(tmp_path: Path, env: dict[str, str], *, client_name: str = "visual-studio-code",
                **options) -> LanguageClient:
    """Start a server process and initialize a session with VS Code's capabilities."""
    config = ClientServerConfig(server_command=SERVER, server_env=env)
    client = await config.start()
    install_apply_edit_handler(client)
    await client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities(client_name),
        root_uri=tmp_path.as_uri(),
        locale="en",
        initialization_options=init_options(tmp_path, **options),
    ))
    return client


async def stop(client: LanguageClient) -> None:
    try:
        await client.shutdown_session()
    finally:
        await client.stop()
