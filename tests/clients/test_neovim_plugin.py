"""The Neovim plugin (editor-clients/neovim) in a real, headless Neovim, against the real
server and model.

Each test is one Neovim session: neovim_plugin/init.lua sets the plugin up from a plain
runtimepath entry, and neovim_plugin/scenario.lua runs the steps the test names (the
plugin's user commands, as a user types them) and writes what it saw as JSON; the
assertions are here. The file has non-ASCII text (2-, 3- and 4-byte UTF-8) before the
positions that matter, so the ranges only come out right in the negotiated encoding.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.clients.neovim import harness

pytestmark = [pytest.mark.e2e, pytest.mark.model]

HERE = Path(__file__).resolve().parent / "neovim_plugin"

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


def invoice_lines(orders):
    lines = []
    for order in orders:
        name = order["name"]
        qty = order["qty"]
        price = PRICES.get(name, 1.0)
        if qty > 10:
            price = price * 0.9
        total = qty * price
        lines.append(name + " x" + str(qty) + ": " + str(round(total, 2)) + " €")
    return lines


def shout(text):
    # café ☕ 😀: make it loud
    return "¡" + text.upper() + "! ☕"
'''

INFO, WARN, ERROR = 2, 3, 4  # vim.log.levels
COMMANDS = {"QwenExplain", "QwenRefactor", "QwenAsync", "QwenCancel", "QwenStatus"}
REQUEST_CANCELLED = -32800


@pytest.fixture(scope="session")
def model_path() -> str:
    return harness.embedded_model()


def _session(tmp_path: Path, model_path: str, steps: list[str], *,
             cmd: str | None = None, settings: dict | None = None,
             **spec_extra) -> tuple[dict, Path]:
    """Run one Neovim session with the plugin; return what it saw and the source file."""
    nvim = harness.require_nvim()
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    source = project / "prices.py"
    source.write_text(SOURCE, encoding="utf-8")
    result_path = tmp_path / "result.json"
    spec = {
        "steps": steps,
        "file": str(source),
        "result": str(result_path),
        "async_cursor": harness.cursor(SOURCE, "time.sleep(delay)")[0],
        "explain_cursor": harness.cursor(SOURCE, "text.upper()")[0],
        "refactor_cursor": harness.cursor(SOURCE, 'qty = order["qty"]')[0],
        # generous for a slow machine, and together well inside harness.TIMEOUT, so that
        # a slow step is reported by name
        "attach_timeout_ms": 30_000,
        "request_timeout_ms": 15_000,
        "async_timeout_ms": 45_000,
        "explain_timeout_ms": 240_000,
        "refactor_timeout_ms": 60_000,
        "stop_timeout_ms": 10_000,
        "settle_ms": 500,
        **spec_extra,
    }
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps(spec))
    env = harness.nvim_env(tmp_path, model_path,
                           QWEN_LSP_PLUGIN_ROOT=str(harness.PLUGIN),
                           QWEN_LSP_TEST_CMD=cmd or str(harness.qwen_lsp_command()),
                           QWEN_LSP_TEST_DIR=str(tmp_path),
                           QWEN_LSP_TEST_SPEC=str(spec_path),
                           QWEN_LSP_TEST_SETTINGS=json.dumps(settings or {}))
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
    if "stop" in steps:
        assert seen["steps"]["stop"]["stopped"], diagnostics
    print(f"neovim plugin session {steps}: {seconds:.1f} s; {seen['timings_ms']}")
    return seen, source


def _argument(sent: dict) -> dict:
    (argument,) = sent["arguments"]
    return argument


def _position(text: str, needle: str, offset: int = 0) -> dict:
    """The LSP position (utf-8) of needle's start (+offset characters) in text."""
    row = harness.line_of(text, needle)
    line = text.splitlines()[row]
    return {"line": row, "character": harness.column(line, line.index(needle) + offset, "utf-8")}


def test_plugin_sets_up_the_server_lists_actions_sends_ranges_and_converts_to_async(
        tmp_path, model_path):
    # the selection: from "text.upper()" to the "☕" at the end of shout's last line, as
    # 1-based byte offsets into the file (for Neovim's `go`)
    row = harness.line_of(SOURCE, "text.upper()")
    line_start = len("".join(SOURCE.splitlines(keepends=True)[:row]).encode())
    end_line = SOURCE.splitlines()[row]
    first, last = (harness.line_of(SOURCE, 'name = order["name"]'),
                   harness.line_of(SOURCE, "total = qty * price"))
    seen, source = _session(
        tmp_path, model_path,
        ["attach", "actions", "ranges", "async_error", "apply_edit_answers", "async", "stop"],
        async_error_cursor=harness.cursor(SOURCE, "total = 0.0")[0],
        select_from=line_start + len(end_line[:end_line.index("text.upper()")].encode()) + 1,
        select_to=line_start + len(end_line[:end_line.rindex("☕")].encode()) + 1,
        lines=[first + 1, last + 1])

    # setup(): the plugin's client, with explanations left to the plugin
    attach = seen["steps"]["attach"]
    assert attach["filetype"] == "python"
    assert attach["offset_encoding"] == "utf-8"
    assert attach["init_options"]["explanationDisplay"] == "client", attach["init_options"]
    assert attach["settings"]["qwenLsp"]["explanationDisplay"] == "client"
    assert attach["settings"]["qwenLsp"]["cache"]["directory"] == str(tmp_path / "results")
    assert attach["cmd"] == [str(harness.qwen_lsp_command())]
    assert len(attach["filetypes"]) == 15 and "typescriptreact" in attach["filetypes"]
    assert COMMANDS <= set(attach["commands"]), attach["commands"]

    # the code actions are listed for the plugin's client too
    offered = {(a["title"], a["command"]) for a in seen["steps"]["actions"]["actions"]}
    assert offered == {("Ask AI to explain", "qwenLsp.explain"),
                       ("Refactor with AI", "qwenLsp.refactor"),
                       ("Convert to async with AI", "qwenLsp.convertToAsync")}, offered

    # :'<,'>QwenExplain on a characterwise selection ending in a 3-byte character, and
    # :{a},{b}QwenExplain on whole lines, in utf-8 columns
    ranges = seen["steps"]["ranges"]
    visual = _argument(ranges["visual"])
    assert visual["textDocument"]["uri"] == source.as_uri()
    assert visual["range"] == {
        "start": _position(SOURCE, "text.upper()"),
        "end": {"line": row, "character": len(end_line.encode()) - 1},  # all of "☕", no quote
    }, visual["range"]
    lines = _argument(ranges["lines"])
    assert lines["range"] == {
        "start": {"line": first, "character": 0},
        "end": {"line": last, "character": len(SOURCE.splitlines()[last].encode())},
    }, lines["range"]
    assert ranges["in_float"], "the explanation window did not take the cursor"
    assert ranges["windows_after"] == 1, "a cancelled explanation left its window open"
    cancelled = [n for n in seen["notifications"]
                 if n["message"].startswith("qwen-lsp: explain cancelled")]
    assert len(cancelled) == 2, seen["notifications"]  # :QwenCancel, then q in the window

    # a refusal (basket_total is already async): one error message, nothing changed
    step = seen["steps"]["async_error"]
    assert step["err"]["code"] == -32803 and "async" in step["err"]["message"], step["err"]
    assert [(n["level"], n["message"]) for n in step["notifications"]] == [
        (ERROR, step["err"]["message"])], step["notifications"]
    assert not step["messages"], step["messages"]
    assert step["buffer"] == SOURCE.splitlines()

    # an AI edit that needs confirmation: answered No in Neovim's "Apply all changes?",
    # the plugin tells the server applied = false (Neovim alone would say true)
    declined, accepted = (seen["steps"]["apply_edit_answers"][k] for k in ("1", "2"))
    assert (declined["asked"], declined["changed"], declined["result"]["applied"]) == (
        1, False, False), declined
    assert "applied nothing" in declined["result"]["failureReason"], declined
    assert (accepted["asked"], accepted["changed"], accepted["result"]["applied"]) == (
        1, True, True), accepted
    assert seen["steps"]["apply_edit_answers"]["buffer_after_undo"] == SOURCE.splitlines()

    # :QwenAsync at a cursor after non-ASCII text: the function under the cursor
    step = seen["steps"]["async"]
    sent = step["sent"]
    assert sent["command"] == "qwenLsp.convertToAsync"
    assert isinstance(sent["workDoneToken"], str) and sent["workDoneToken"]
    argument = _argument(sent)
    assert argument["textDocument"] == {"uri": source.as_uri(), "version": step["version"]}
    here = _position(SOURCE, "time.sleep(delay)")
    assert argument["range"] == {"start": here, "end": here}
    assert not step.get("err"), step.get("err")
    assert step["result"]["applied"] is True, step["result"]
    assert len(seen["applied_edits"]) == 3, seen["applied_edits"]  # the two above, this one

    # Neovim applied the server's edit: async def, the awaited call site, still valid Python
    buffer = "\n".join(step["buffer"]) + "\n"
    assert "async def fetch_price(sku, delay=0.01):" in buffer
    assert "await asyncio.sleep(delay)" in buffer and "time.sleep(" not in buffer
    assert '        print("café ☕ 😀", sku); total += await fetch_price(sku)' in buffer
    assert buffer.count("import asyncio") == 1
    compile(buffer, str(source), "exec")

    # the notes, once: from the plugin (vim.notify), not repeated by the server's message
    note = step["notification"]
    assert note and note["level"] == INFO, seen["notifications"]
    assert "applied" in note["message"] and "price_list" in note["message"], note
    assert not [m for m in seen["messages"] if "price_list" in m["message"]], seen["messages"]


def test_plugin_explains_in_a_float_that_fills_in_as_it_streams(tmp_path, model_path):
    seen, _ = _session(tmp_path, model_path, ["attach", "explain", "code_action_explain", "stop"])
    step = seen["steps"]["explain"]

    # the function under the cursor, with the plugin's own progress token
    sent = step["sent"]
    token = sent["workDoneToken"]
    here = _position(SOURCE, "text.upper()")
    assert _argument(sent)["range"] == {"start": here, "end": here}
    assert not step.get("err"), step.get("err")
    markdown = step["result"]["markdown"]
    assert len(markdown.split()) >= 10, markdown
    assert step["result"]["cached"] is False

    # a floating Markdown window opened at once, with the cursor in it
    assert step["opened"] == {"floating": True, "filetype": "markdown", "state": "waiting",
                              "text": "_Thinking…_"}, step["opened"]
    assert step["focused_float"]

    # it filled in from the reports on the plugin's token, more than once, growing
    reports = [p for p in seen["progress"] if p["token"] == token and p["kind"] == "report"]
    streamed = [p["float_text"] for p in reports if p["float_state"] == "streaming"]
    distinct = list(dict.fromkeys(streamed))
    assert len(distinct) >= 2, reports
    for earlier, later in zip(distinct, distinct[1:], strict=False):
        assert later.startswith(earlier), (earlier, later)
    # the stream is the answer as the model writes it; the final answer may only differ
    # in its line breaks (labels start paragraphs)
    words = " ".join(markdown.split())
    assert words.startswith(" ".join(distinct[-1].split())), (distinct[-1], markdown)
    # the statusline (vim.lsp.status()) got a short summary, never the streamed text
    statuses = [p["lsp_status"] for p in reports if p["lsp_status"]]
    assert statuses, reports
    assert all(re.fullmatch(r"Qwen: Explaining `shout`: (1 word|\d+ words) so far", s)
               for s in statuses), statuses
    kinds = [p["kind"] for p in seen["progress"] if p["token"] == token]
    assert kinds[0] == "begin" and kinds[-1] == "end", kinds

    # the final window holds the whole answer; no Markdown file was shown by the server
    final = step["final"]
    assert final["floating"] and final["filetype"] == "markdown" and final["state"] == "done"
    assert final["text"] == markdown
    assert final["height"] > 1
    assert not seen["shown_documents"], seen["shown_documents"]
    # q closed it, and the cursor is back in the source
    assert step["after_q"] == {"open": False, "current_is_source": True}

    # "Ask AI to explain" chosen from the code-action menu goes through the plugin as
    # well: its own token, the action's argument, the answer (now cached) in the window
    step = seen["steps"]["code_action_explain"]
    assert not step.get("err"), step.get("err")
    assert step["sent"]["arguments"] == [step["action_argument"]]
    assert step["sent"]["workDoneToken"] not in (None, token)
    assert step["result"]["cached"] is True and step["result"]["markdown"] == markdown
    assert step["float"] == {"floating": True, "state": "done", "text": markdown}
    assert not seen["shown_documents"], seen["shown_documents"]


def test_plugin_cancels_a_refactor_midway_the_server_goes_idle_and_a_crash_is_reported(
        tmp_path, model_path):
    seen, _ = _session(tmp_path, model_path, ["attach", "cancel", "crash"])
    step = seen["steps"]["cancel"]

    # cancelled while the model was writing (the server was busy) ...
    assert step["first_report"]["message"], step["first_report"]
    assert re.fullmatch(r"Qwen: Refactoring `invoice_lines`: (1 line|\d+ lines) so far",
                        step["first_report"]["lsp_status"]), step["first_report"]
    assert step["busy_ticks_500ms"] >= 5, step  # >= 0.05 s of CPU in 0.5 s (a shared CPU)
    # ... answered with RequestCancelled: Neovim logs the ack and calls no handler
    assert not step["handler_called"]
    log = harness.lsp_log(tmp_path).read_text(errors="replace")
    acks = re.findall(r'"Received cancellation ack"\s+\{ error = \{ code = (-?\d+),.*?'
                      r'\}, id = (\d+)', log)
    assert (str(REQUEST_CANCELLED), str(step["id"])) in acks, acks
    assert step["cancel_to_ack_ms"] < 2000, step
    note = [n for n in seen["notifications"] if "refactor cancelled" in n["message"]]
    assert len(note) == 1 and note[0]["level"] == INFO, seen["notifications"]
    # nothing applied
    assert step["edits_applied"] == 0 and not seen["applied_edits"], seen["applied_edits"]
    assert step["after"] == step["before"] == SOURCE.splitlines()
    # the server is idle afterwards, and :QwenStatus says so
    assert step["idle_ticks_1s"] <= 5, step  # <= 0.05 s of CPU in 1 s
    status = step["status"]
    assert status["queue"] == 0 and status["model"]["state"] == "ready", status
    assert "queue: 0 job(s)" in step["status_text"] and "model ready" in step["status_text"]

    # then the server dies during an explanation: one error, the window closed, nothing left
    crash = seen["steps"]["crash"]
    assert crash["opened"] and len(crash["killed"]) == 1, crash
    assert crash["notification"]["level"] == ERROR, crash
    assert crash["notification"]["message"] == "qwen-lsp: the server stopped during the explain"
    assert not crash["window_open"] and crash["active"] == 0, crash


def _health(record: dict) -> str:
    return "\n".join(record["lines"])


def test_checkhealth_starts_the_server_and_finds_the_model_ready(tmp_path, model_path):
    from qwen_lsp.engine.model import EXPECTED_SHA256

    seen, _ = _session(tmp_path, model_path, ["health", "attach", "health", "stop"])
    fresh, running = seen["steps"]["health"]

    text = _health(fresh)
    assert not fresh["with_client"]
    assert "ERROR" not in text and "WARNING" not in text, text
    assert f"OK server command: {harness.qwen_lsp_command()}" in text, text
    assert "OK the server starts and initializes (qwen-lsp " in text, text
    assert "OK model ready" in text and EXPECTED_SHA256 in text, text
    assert str(tmp_path / "results") in text, text  # the cache of the plugin's settings

    text = _health(running)
    assert running["with_client"]
    assert "ERROR" not in text and "WARNING" not in text, text
    assert "OK running: client" in text and "position encoding utf-8" in text, text
    assert "OK model ready" in text and EXPECTED_SHA256 in text, text


def test_checkhealth_says_how_to_install_a_missing_server(tmp_path, model_path):
    missing = tmp_path / "nowhere" / "qwen-lsp"
    seen, _ = _session(tmp_path, model_path, ["health", "without_server"], cmd=str(missing))
    (record,) = seen["steps"]["health"]
    text = _health(record)
    assert f'ERROR the server command "{missing}" is not executable' in text, text
    assert "python3 -m venv .venv && .venv/bin/pip install ." in text, text
    assert "model ready" not in text
    # and a command in a Python buffer says the same, once, as an error
    step = seen["steps"]["without_server"]
    assert step["clients"] == 0
    ((level, message),) = [(n["level"], n["message"]) for n in step["notifications"]]
    assert level == ERROR and f'"{missing}" is not executable' in message, message
    assert "pip install ." in message and ":checkhealth qwen_lsp" in message, message


def test_checkhealth_reports_a_model_that_cannot_load_and_what_to_do(tmp_path, model_path):
    bad = tmp_path / "missing.gguf"
    seen, _ = _session(tmp_path, model_path, ["health"], settings={"modelPath": str(bad)})
    (record,) = seen["steps"]["health"]
    text = _health(record)
    assert "OK the server starts and initializes" in text, text
    assert "ERROR the model is not available" in text and str(bad) in text, text
    assert "Check the modelPath setting" in text, text
    assert "OK model ready" not in text
