"""Fixtures for the robustness tests: raw-wire servers (real model, broken model, or
the FakeEngine), sample documents, and the run sizes (CI vs. the benchmark mode)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.robustness.wire import FAKE_SERVER, SERVER, WireServer, server_env

# CI keeps the counts modest; bench/bench_robustness.py sets QWEN_ROBUST_SCALE up.
SCALE = float(os.environ.get("QWEN_ROBUST_SCALE", "1"))


def scaled(n: int) -> int:
    return max(1, int(n * SCALE))


@pytest.fixture(scope="session")
def real_model_path() -> str:
    """The embedded model, assembled from its PyPI parts and verified once."""
    from qwen_lsp.engine.model import resolve_model

    return str(resolve_model(None))


def write_fake_gguf(path: Path) -> str:
    """A file that passes the GGUF magic check; only the FakeEngine ever 'loads' it."""
    path.write_bytes(b"GGUF" + b"\0" * 60 + b"qwen-lsp robustness fake model")
    return str(path)


def write_broken_model(path: Path) -> str:
    """A model path that fails fast and clearly: a file that is not GGUF."""
    path.write_bytes(b"this is not a GGUF model\n" * 10)
    return str(path)


Starter = Callable[..., WireServer]


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Starter]:
    """start_server(kind="fake"|"real"|"broken", options=..., env=...) -> WireServer.

    Every server started is stopped (its process group killed) at teardown.
    """
    started: list[WireServer] = []

    def start(kind: str = "fake", options: dict | None = None, *, root: Path | None = None,
              env_extra: dict[str, str] | None = None, model_path: str | None = None,
              initialize: bool = True, settings: dict | None = None, **kwargs) -> WireServer:
        root = root or tmp_path
        if model_path is None:
            if kind == "fake":
                model_path = write_fake_gguf(tmp_path / "fake-model.gguf")
            elif kind == "broken":
                model_path = write_broken_model(tmp_path / "broken-model.gguf")
            else:
                from qwen_lsp.engine.model import resolve_model

                model_path = str(resolve_model(None))
        env = server_env(tmp_path, model_path)
        env.update(env_extra or {})
        argv = FAKE_SERVER if kind == "fake" else SERVER
        opts = {"cache": {"directory": str(tmp_path / "results")}, "threads": 2,
                "explanationDisplay": "client"}
        opts.update(options or {})
        server = WireServer(argv, env, tmp_path / f"stderr-{len(started)}.log",
                            settings=settings if settings is not None else opts, **kwargs)
        started.append(server)
        if initialize:
            server.initialize(root, opts)
        return server

    yield start
    for server in started:
        server.close()
