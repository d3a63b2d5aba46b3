"""A real, headless Neovim with the plain snippet users copy, against the real server.

Neovim loads editor-clients/neovim/qwen_lsp.lua itself, the very file the README shows
(neovim/init.lua only points the result cache into the test's directory). The scenario
(neovim/scenario.lua) lists the code actions, runs "Convert to async with AI" and "Ask AI
to explain" the way `vim.lsp.buf.code_action()` does, and writes what it saw as JSON; the
assertions are here. The file has non-ASCII text (2-, 3- and 4-byte UTF-8, one character
outside the BMP) before every position that matters, so columns only come out right if
the server uses the position encoding it negotiated with Neovim (UTF-8) for what it reads
and for what it sends.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from tests.clients.neovim import harness

pytestmark = [pytest.mark.e2e, pytest.mark.model]

HERE = Path(__file__).resolve().parent / "neovim"
SNIPPET = harness.PLUGIN / "qwen_lsp.lua"

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


@pytest.fixture(scope="session")
def model_path() -> str:
    return harness.embedded_model()


def test_neovim_with_the_plain_snippet_lists_converts_and_explains(tmp_path, model_path):
    nvim = harness.require_nvim()
    qwen_lsp = harness.qwen_lsp_command()

    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)  # the snippet's root_markers = { ".git" }
    source = project / "prices.py"
    source.write_text(SOURCE, encoding="utf-8")
    result_path = tmp_path / "result.json"

    async_cursor, async_index, async_line = harness.cursor(SOURCE, "time.sleep(delay)")
    explain_cursor, explain_index, explain_line = harness.cursor(SOURCE, "text.upper()")
    spec = {
        "file": str(source),
        "result": str(result_path),
        "async_cursor": async_cursor,
        "explain_cursor": explain_cursor,
        # generous for a slow machine (the whole run takes seconds here), and together
        # well inside harness.TIMEOUT, so that a slow step is reported by name
        "attach_timeout_ms": 30_000,
        "request_timeout_ms": 15_000,
        "async_timeout_ms": 45_000,
        "explain_timeout_ms": 180_000,
        "stop_timeout_ms": 10_000,
    }
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps(spec))

    env = harness.nvim_env(tmp_path, model_path,
                           QWEN_LSP_SNIPPET=str(SNIPPET),
                           QWEN_LSP_TEST_DIR=str(tmp_path),
                           QWEN_LSP_TEST_SPEC=str(spec_path))
    command = [nvim, "--headless", "-u", str(HERE / "init.lua"), "-i", "NONE",
               "-c", f"luafile {HERE / 'scenario.lua'}"]
    seconds, returncode, lingering = harness.run(command, project, env, tmp_path)
    diagnostics = harness.diagnostics(tmp_path, seconds, returncode)
    if returncode is None:
        pytest.fail(f"Neovim did not finish within {harness.TIMEOUT} s and was killed\n"
                    f"{diagnostics}")
    assert result_path.exists(), f"the scenario wrote no result\n{diagnostics}"
    seen = json.loads(result_path.read_text())
    assert seen["ok"], f"the scenario failed: {seen.get('error')}\n{diagnostics}"
    assert returncode == 0, diagnostics
    assert not lingering, f"still running after Neovim quit (killed): {lingering}\n{diagnostics}"

    # the snippet's own cmd, found on PATH: the server of this virtualenv
    assert seen["cmd"] == ["qwen-lsp"], seen["cmd"]
    assert Path(seen["cmd_path"]) == qwen_lsp, seen["cmd_path"]
    assert seen["settings"]["qwenLsp"]["explanationLanguage"] == "auto", seen["settings"]
    # the snippet: started for a Python buffer, rooted at .git, utf-8 negotiated
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
                        "character": harness.column(async_line, async_index, encoding)}
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
    caller_row = harness.line_of(SOURCE, "total += fetch_price(sku)")
    assert any(e["range"]["start"]["line"] == caller_row for e in edits), edits

    # 3. explained; the answer shown by the server with window/showDocument
    step = seen["explain"]
    position = step["request"]["range"]["start"]
    assert position == {"line": explain_cursor[0] - 1,
                        "character": harness.column(explain_line, explain_index, encoding)}
    assert {a["title"] for a in step["actions"]} >= {"Ask AI to explain"}
    assert not step.get("error"), step.get("error")
    explained = step["result"]
    markdown = explained["markdown"]
    assert len(markdown.split()) >= 5, markdown
    converted = "\n".join(buffer)
    shout_row = harness.line_of(converted, "def shout")
    last_row = harness.line_of(converted, 'return "¡"')
    last_line = converted.splitlines()[last_row]
    assert explained["target"] == {
        "start": {"line": shout_row, "character": 0},
        "end": {"line": last_row, "character": harness.column(last_line, len(last_line), encoding)},
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
