"""A real OpenAI-compatible model server on 127.0.0.1: ``python -m llama_cpp.server``
with the embedded GGUF, started in its own process group and stopped by killing it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ModelServer:
    """llama_cpp.server serving ``model`` as ``alias``, answering only ``api_key``."""

    def __init__(self, model: str, api_key: str, log_path: Path, alias: str = "team-qwen",
                 port: int | None = None, threads: int = 2) -> None:
        self.model = model
        self.api_key = api_key
        self.alias = alias
        self.port = port or free_port()
        self.threads = threads
        self.log_path = log_path
        self._popen: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def process(self) -> psutil.Process:
        assert self._popen is not None, "the model server is not running"
        return psutil.Process(self._popen.pid)

    def start(self, timeout: float = 90.0) -> None:
        command = [sys.executable, "-m", "llama_cpp.server", "--model", self.model,
                   "--host", "127.0.0.1", "--port", str(self.port),
                   "--n_threads", str(self.threads), "--n_threads_batch", str(self.threads),
                   "--n_ctx", "4096", "--api_key", self.api_key, "--model_alias", self.alias]
        log = self.log_path.open("ab")
        self._popen = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        headers = {"Authorization": f"Bearer {self.api_key}"}
        while time.monotonic() < deadline:
            if self._popen.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited ({self._popen.returncode}); "
                                   f"see {self.log_path}")
            try:
                if httpx.get(f"{self.base_url}/models", headers=headers, timeout=2,
                             trust_env=False).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        self.kill()
        raise RuntimeError(f"llama_cpp.server did not answer within {timeout} s; "
                           f"see {self.log_path}")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Kill the server's whole process group (it has no children, but be sure)."""
        popen, self._popen = self._popen, None
        if popen is None:
            return
        try:
            os.killpg(popen.pid, sig)
        except ProcessLookupError:
            pass
        try:
            popen.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(popen.pid, signal.SIGKILL)
            popen.wait(10)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)
