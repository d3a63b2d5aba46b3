"""End to end on the real model: the real `qwen-lsp` process over stdio.

Greedy decoding and fixed fixtures keep these repeatable. What they judge is what
a user gets: the text shown, the edit applied, and code that still runs.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from pygls.exceptions import JsonRpcException

from tests.e2e.conftest import start, stop
from tests.e2e.helpers import (
    WORDS_FIXTURE,
    apply_text_edits,
    argument,
    check_count_words,
    edits_of,
    execute,
    load_module,
    open_document,
)

pytestmark = [pytest.mark.e2e, pytest.mark.model]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

ASYNC_FIXTURE = '''\
import time


def fetch_price(sku, delay=0.01):
    """Look a price up in the slow price service."""
    time.sleep(delay)
    return {"apple": 0.5, "pear": 0.75}.get(sku, 1.0)


async def basket_total(skus):
    total = 0.0
    for sku in skus:
        total += fetch_price(sku)
    return total


def price_list(skus):
    return [fetch_price(sku) for sku in skus]
'''


async def test_explain_streams_progress_and_is_cached_across_restarts(tmp_path, env):
    path = tmp_path / "orders.py"
    shutil.copy(EXAMPLES / "orders.py", path)
    client = await start(tmp_path, env)
    try:
        uri = open_document(client, path, "python")
        result = await execute(client, "qwenLsp.explain", argument(uri, 16, 4))
        assert result["cached"] is False
        markdown = result["markdown"]
        assert len(markdown.split()) > 15, markdown
        assert markdown.startswith("**Purpose:**") and "**Returns:**" in markdown, markdown
        assert "order" in markdown.lower()
        # the target is the whole function, decorators/docstring included
        assert result["target"]["start"]["line"] == 13
        # partial text was streamed as progress reports, ending with the final text
        reports = [r for values in client.progress_reports.values() for r in values
                   if getattr(r, "kind", "") == "report" and r.message]
        assert len(reports) >= 2
        assert markdown.startswith(reports[-1].message.strip()[:40])
        # shown by the server itself in an editor without our plugin
        assert client.shown_documents and client.shown_documents[-1].uri.endswith(".md")

        again = await execute(client, "qwenLsp.explain", argument(uri, 20, 0))
        assert again["cached"] is True and again["markdown"] == markdown
    finally:
        await stop(client)

    client = await start(tmp_path, env)
    try:
        uri = open_document(client, path, "python")
        after_restart = await execute(client, "qwenLsp.explain", argument(uri, 16, 4))
        assert after_restart["cached"] is True
        assert after_restart["markdown"] == markdown
    finally:
        await stop(client)


async def test_the_same_function_in_another_file_is_a_cache_hit(tmp_path, env):
    code = "def area(width, height):\n    return width * height\n"
    first, second = tmp_path / "shapes.py", tmp_path / "renamed" / "geometry.py"
    second.parent.mkdir()
    first.write_text(code)
    second.write_text(code)
    client = await start(tmp_path, env)
    try:
        a = await execute(client, "qwenLsp.explain",
                          argument(open_document(client, first, "python"), 1, 4))
        b = await execute(client, "qwenLsp.explain",
                          argument(open_document(client, second, "python"), 1, 4))
        assert a["cached"] is False and b["cached"] is True
        assert a["markdown"] == b["markdown"]
    finally:
        await stop(client)


async def test_explain_reports_on_the_clients_own_progress_token(tmp_path, env):
    path = tmp_path / "orders.py"
    shutil.copy(EXAMPLES / "orders.py", path)
    client = await start(tmp_path, env, cache={"enabled": False})
    try:
        uri = open_document(client, path, "python")
        client.progress_reports["panel-7"] = []  # the token our plugins pass
        result = await execute(client, "qwenLsp.explain", argument(uri, 16, 4),
                               work_done_token="panel-7")
        assert set(client.progress_reports) == {"panel-7"}, "the server made its own token"
        kinds = [r.kind for r in client.progress_reports["panel-7"]]
        assert kinds[0] == "begin" and kinds[-1] == "end" and kinds.count("report") >= 2
        last = [r.message for r in client.progress_reports["panel-7"] if r.kind == "report"][-1]
        assert result["markdown"].startswith(last.strip()[:40])
    finally:
        await stop(client)


async def test_refactor_is_applied_and_the_function_still_passes_its_tests(tmp_path, env):
    path = tmp_path / "words.py"
    path.write_text(WORDS_FIXTURE)
    check_count_words(load_module(WORDS_FIXTURE))
    client = await start(tmp_path, env)
    try:
        uri = open_document(client, path, "python")
        result = await execute(client, "qwenLsp.refactor", argument(uri, 6, 4, version=1))
        assert result["applied"] is True, result["notes"]
        edits = edits_of(result, uri)
        assert edits, "the refactor changed nothing"
        # the very edit the client was asked to apply: versioned, marked for confirmation
        sent = client.applied_edits[-1].edit
        assert sent.document_changes[0].text_document.version == 1
        assert sent.change_annotations and all(
            a.needs_confirmation for a in sent.change_annotations.values())
        new_code = apply_text_edits(WORDS_FIXTURE, edits)
    finally:
        await stop(client)

    assert new_code != WORDS_FIXTURE
    # the edit is minimal: the other function is untouched
    assert new_code.endswith(WORDS_FIXTURE[WORDS_FIXTURE.index("def most_common"):])
    check_count_words(load_module(new_code))


TOTAL_FIXTURE = '''\
def total(values):
    """Add up the numbers, skipping None."""
    result = 0
    for value in values:
        if value is not None:
            result += value
    return result
'''


async def test_a_rewrite_that_changes_behaviour_is_refused_with_its_counterexample(tmp_path, env):
    # The real model, told by a user template to change what the function returns: the
    # behaviour check runs both versions and refuses the edit, naming an input where
    # they differ.
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    (prompts / "refactor.user.txt").write_text(
        "```{fence}\n{code}\n```\nChange `{name}` above so that it returns twice the "
        "result. Reply with only the changed function in one code block.")
    (prompts / "repair.user.txt").write_text(
        "Reply again with the version of `{name}` that returns twice the result.")
    path = tmp_path / "total.py"
    path.write_text(TOTAL_FIXTURE)
    client = await start(tmp_path, env, promptsDirectory=str(prompts),
                         cache={"enabled": False})
    try:
        uri = open_document(client, path, "python")
        with pytest.raises(JsonRpcException) as info:
            await execute(client, "qwenLsp.refactor", argument(uri, 2, 4, version=1))
        message = str(info.value)
        assert "behaves differently" in message, message
        assert "for total(" in message and "the original returns" in message, message
        assert client.applied_edits == []
    finally:
        await stop(client)


async def test_convert_to_async_awaits_async_callers_and_lists_sync_ones(tmp_path, env):
    path = tmp_path / "prices.py"
    path.write_text(ASYNC_FIXTURE)
    client = await start(tmp_path, env)
    try:
        uri = open_document(client, path, "python")
        result = await execute(client, "qwenLsp.convertToAsync", argument(uri, 5, 4))
        assert result["applied"] is True
        new_code = apply_text_edits(ASYNC_FIXTURE, edits_of(result, uri))
        notes = " ".join(result["notes"])
        assert "price_list" in notes  # the sync caller is listed, not changed
    finally:
        await stop(client)

    assert "async def fetch_price" in new_code
    assert "total += await fetch_price(sku)" in new_code
    assert "return [fetch_price(sku) for sku in skus]" in new_code
    module = load_module(new_code)
    assert asyncio.iscoroutinefunction(module.fetch_price)
    assert await module.fetch_price("pear") == 0.75
    assert await module.basket_total(["apple", "pear", "fig"]) == 2.25


JS_FIXTURE = '''\
function fetchUser(id) {
  return id === 1 ? Promise.resolve({ name: "ada" }) : Promise.reject(new Error("no user"));
}

function loadUser(id) {
  return fetchUser(id)
    .then((user) => user.name.toUpperCase())
    .catch(() => "unknown");
}

async function greetAll(ids) {
  const names = [];
  for (const id of ids) {
    names.push(await loadUser(id));
  }
  return names.join(", ");
}

function report(id) {
  return loadUser(id).then((name) => "report for " + name);
}

module.exports = { loadUser, greetAll, report };
'''

NODE_CHECK = """
const m = require(process.argv[1]);
(async () => {
  const out = [await m.loadUser(1), await m.loadUser(2), await m.greetAll([1, 2]),
               await m.report(1), m.loadUser.constructor.name];
  console.log(JSON.stringify(out));
})();
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node is needed to run the JS result")
async def test_convert_then_chain_to_async_await_with_the_model(tmp_path, env):
    import json
    import subprocess

    path = tmp_path / "users.js"
    path.write_text(JS_FIXTURE)

    def run_node(code: str) -> list:
        target = tmp_path / "check.js"
        target.write_text(code)
        out = subprocess.run(["node", "-e", NODE_CHECK, str(target)], capture_output=True,
                             text=True, timeout=60, check=True)
        return json.loads(out.stdout)

    before = run_node(JS_FIXTURE)
    assert before[:4] == ["ADA", "unknown", "ADA, unknown", "report for ADA"]
    client = await start(tmp_path, env)
    try:
        uri = open_document(client, path, "javascript")
        result = await execute(client, "qwenLsp.convertToAsync", argument(uri, 5, 2))
        assert result["applied"] is True
        assert not any("exact rules" in n for n in result["notes"])  # the model did this one
        assert any("report" in n for n in result["notes"])  # sync caller listed
        new_code = apply_text_edits(JS_FIXTURE, edits_of(result, uri))
    finally:
        await stop(client)
    assert "async function loadUser" in new_code
    assert ".then((user)" not in new_code
    after = run_node(new_code)
    assert after[:4] == before[:4]
    assert after[4] == "AsyncFunction"
