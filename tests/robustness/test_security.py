"""Security: private cache files, plain template substitution, hostile model answers
that must never reach outside the target's span, and URIs the server must refuse."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from qwen_lsp.actions.action import Action
from qwen_lsp.actions.errors import ActionError
from qwen_lsp.actions.prompts import PromptStore, fill
from qwen_lsp.actions.runner import Assistant
from qwen_lsp.actions.span import resolve_span
from qwen_lsp.documents import OpenDocument
from qwen_lsp.engine.base import GenParams
from qwen_lsp.engine.fake import FakeEngine
from qwen_lsp.engine.worker import EngineWorker
from tests.robustness.test_protocol_fuzz import PY

CODE = '''\
import time


def helper(x):
    return x * 2


def wait(seconds):
    time.sleep(seconds)
    return helper(seconds)


async def main():
    return wait(1)


def total(prices):
    result = 0
    for p in prices:
        result = result + p
    return result
'''


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- the cache is private ----------------------------------------------------------------


def test_the_servers_cache_files_are_0600_and_its_folders_0700(start_server, tmp_path):
    server = start_server("fake")
    uri = (tmp_path / "m.py").as_uri()
    server.open(uri, PY)
    response = server.command("qwenLsp.explain", {
        "textDocument": {"uri": uri}, "range": {"start": {"line": 3, "character": 4},
                                                 "end": {"line": 3, "character": 4}}})
    assert "result" in response, response
    assert server.stop() == 0
    results = tmp_path / "results"
    assert _mode(results) == 0o700
    files = [p for p in results.iterdir() if p.is_file()]
    assert files, "the cache wrote nothing"
    for path in files:
        assert _mode(path) == 0o600, (path, oct(_mode(path)))


def test_explanations_the_server_writes_are_private(start_server, tmp_path):
    # handed off (commands.show_explanation used the umask: 0755/0644); now fixed
    server = start_server("fake", {"explanationDisplay": "server"})
    uri = (tmp_path / "m.py").as_uri()
    server.open(uri, PY)
    server.command("qwenLsp.explain", {
        "textDocument": {"uri": uri}, "range": {"start": {"line": 3, "character": 4},
                                                 "end": {"line": 3, "character": 4}}})
    server.stop()
    written = list((tmp_path / "results" / "explanations").glob("*.md"))
    assert written
    assert _mode(written[0].parent) == 0o700 and _mode(written[0]) == 0o600


def test_an_explanation_file_stays_inside_its_folder_whatever_the_uri(start_server,
                                                                     tmp_path):
    server = start_server("fake", {"explanationDisplay": "server"})
    uri = "file:///tmp/x/..%2F..%2F..%2Fetc%2Fpasswd.py"
    server.open(uri, PY)
    response = server.command("qwenLsp.explain", {
        "textDocument": {"uri": uri}, "range": {"start": {"line": 3, "character": 4},
                                                 "end": {"line": 3, "character": 4}}})
    assert "result" in response, response
    shown = [r for r in server.server_requests if r["method"] == "window/showDocument"]
    assert shown, server.server_requests
    folder = (tmp_path / "results" / "explanations").resolve()
    target = Path(shown[0]["params"]["uri"].removeprefix("file://")).resolve()
    assert target.parent == folder, target
    assert server.stop() == 0


# -- URIs -----------------------------------------------------------------------------------


def test_a_command_for_a_document_that_is_not_open_is_refused_and_reads_nothing(
        start_server, tmp_path):
    server = start_server("broken")
    for uri in ("file:///etc/passwd", "file:///root/.ssh/id_rsa", "untitled:Untitled-1",
                "http://example.com/a.py", (tmp_path / "closed.py").as_uri()):
        for command in ("qwenLsp.explain", "qwenLsp.refactor", "qwenLsp.convertToAsync"):
            response = server.command(command, {
                "textDocument": {"uri": uri},
                "range": {"start": {"line": 0, "character": 0},
                          "end": {"line": 0, "character": 0}}})
            assert response["error"]["code"] == -32803, response
            assert "not open" in response["error"]["message"], response
    assert not [r for r in server.server_requests if r["method"] == "workspace/applyEdit"]
    assert server.stop() == 0


# -- templates are filled by plain substitution ------------------------------------------


@pytest.mark.parametrize("value", ["{name}", "{0}", "{code.__class__.__mro__}", "{{", "}",
                                   "%(x)s", "${x}", "{% for x in y %}", "{{ 7*7 }}"])
def test_a_placeholder_inside_user_code_stays_literal(value):
    assert fill("<{code}|{name}>", {"code": value, "name": "n"}) == f"<{value}|n>"


def test_a_user_template_cannot_reach_attributes_or_run_code(tmp_path):
    (tmp_path / "explain.user.txt").write_text(
        "{code.__class__} {code!r} {code:>999999999} {__import__} {0} {{code}} {code}")
    warnings: list[str] = []
    store = PromptStore(str(tmp_path), warnings.append)
    text = store.render("explain.user", {"code": "X", "name": "n", "language": "Python"})
    # unknown "placeholders" are either left as text or refused with the shipped template
    assert "<class" not in text and "'X'" not in text and len(text) < 10_000


# -- hostile answers: every edit stays inside the span (or is a rule edit) --------------


def _offset(line: int) -> int:
    return sum(len(x) + 1 for x in CODE.split("\n")[:line]) + 4


HOSTILE = {
    "redefines another function": "```python\ndef helper(x):\n    import os\n    os.system('rm"
                                  " -rf /')\n\n\ndef total(prices):\n    return sum(prices)\n```",
    "the whole file": "```python\n" + CODE.replace("result + p", "p + result") + "```",
    "carriage returns": "```python\ndef total(prices):\r\n    return sum(prices)\r\n```",
    "lone carriage return": "```python\ndef total(prices):\r    return sum(prices)\r```",
    "huge": "```python\ndef total(prices):\n" + "    x = 1\n" * 50_000 + "    return 0\n```",
    "code after the fence": "```python\ndef total(prices):\n    return sum(prices)\n```\n"
                            "import os\nos.remove('/etc/passwd')\n",
    "two blocks": "```python\nimport os\n```\n```python\ndef total(prices):\n    return 1\n```",
    "async everything": "```python\nasync def wait(seconds):\n    await asyncio.sleep(seconds)"
                        "\n    return helper(seconds)\n\n\nasync def helper(x):\n    return x\n```",
    "module-level code": "```python\nimport subprocess\nsubprocess.run(['id'])\n\n\n"
                         "def total(prices):\n    return sum(prices)\n```",
}


async def _assistant(tmp_path: Path, answer: str) -> tuple[Assistant, EngineWorker]:
    engine = FakeEngine(answer=answer, piece_size=4096)
    worker = EngineWorker()
    worker.load(lambda: engine)
    await worker.wait_ready()

    async def model_id() -> str:
        return "fake-model-sha"

    return Assistant(worker, PromptStore(), None, model_id), worker


@pytest.mark.parametrize("name", list(HOSTILE))
@pytest.mark.parametrize("action, line", [(Action.REFACTOR, 17), (Action.CONVERT_TO_ASYNC, 8)])
async def test_a_hostile_answer_never_edits_outside_the_span(name, action, line, tmp_path):
    doc = OpenDocument.open("file:///shop.py", "/shop.py", "python", 1, CODE, 5_000_000)
    source = doc.source(snapshot=True)
    span = resolve_span(source, _offset(line), _offset(line), max_lines=400, need_syntax=True)
    assistant, worker = await _assistant(tmp_path, HOSTILE[name])
    try:
        try:
            outcome = await assistant.rewrite(action, source, span, GenParams(max_tokens=64),
                                              lambda s: None)
        except ActionError:
            return  # refused: nothing to apply
        text = source.text
        for edit in outcome.plan.edits:
            inside = span.start_byte <= edit.start_byte <= edit.end_byte <= span.end_byte
            new = edit.new_text
            rule = (edit.start_byte == edit.end_byte and new.strip() in ("await", "import asyncio")
                    ) or (edit.end_byte - edit.start_byte < 200 and "await " in new
                          and new.replace("await ", "", 1) == text[edit.start_byte:
                                                                    edit.end_byte].decode())
            assert inside or rule, (name, edit, span.start_byte, span.end_byte)
            assert "os.system" not in new and "subprocess" not in new and "remove(" not in new
    finally:
        worker.shutdown(1.0)
