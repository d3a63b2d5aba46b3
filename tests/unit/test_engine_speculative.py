"""Lean speculative decoding: the draft lookup alone, then on the real model.

The lookup is tested with a character-level stand-in tokenizer (no model). On the
real embedded model, drafted decoding must write exactly the text plain greedy
decoding writes, on the rewrite prompts the server builds; it must keep the KV
cache consistent for the next request, stop on cancel, stop strings and
max_tokens, and report its draft acceptance. Speed is measured by
bench/bench_speculative.py, not here.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from qwen_lsp.engine.speculative import DraftLength, DraftStats, TextLookup, draft_source

PROJECT = Path(__file__).resolve().parents[2]


def chars(text: str) -> list[int]:
    """A stand-in tokenizer: one token per character."""
    return [ord(ch) for ch in text]


def lookup(source: str, answer: str, **kwargs) -> TextLookup:
    found = TextLookup(source, chars, **kwargs)
    found.append(answer.encode("utf-8"))
    return found


def text_of(tokens: list[int]) -> str:
    return "".join(chr(t) for t in tokens)


# -- the lookup ------------------------------------------------------------------------


def test_draft_copies_what_followed_the_answers_end_in_the_source() -> None:
    source = "Code:\ndef total(xs):\n    return sum(x for x in xs)\n"
    found = lookup(source, "def total(xs):\n    return s")
    assert text_of(found.draft(12)) == "um(x for x i"
    assert text_of(found.draft(100)) == "um(x for x in xs)\n"


def test_no_draft_without_a_long_enough_match() -> None:
    source = "def total(xs):\n    return sum(xs)\n"
    assert lookup(source, "return s").draft(8) == []  # shorter than min_chars
    assert lookup(source, "something else entirely").draft(8) == []
    assert lookup(source, "def total(xs):\n    return s").draft(0) == []


def test_no_draft_in_the_middle_of_a_utf8_character() -> None:
    source = "label = 'Größe in €uro'\n"
    found = lookup(source, "label = 'Größe in ")
    found.append("€".encode()[:2])
    assert found.draft(4) == []
    found.append("€".encode()[2:])
    assert text_of(found.draft(4)) == "uro'"


def test_draft_is_reindented_like_the_answer() -> None:
    # a .then() callback body (6 spaces) becomes statements of the function (2 spaces)
    source = (
        "function load(id) {\n"
        "  return get(id)\n"
        "    .then((user) => {\n"
        "      const name = user.name.trim();\n"
        "      return name.toUpperCase();\n"
        "    });\n"
        "}\n"
    )
    answer = (
        "async function load(id) {\n"
        "  const user = await get(id);\n"
        "  const name = user.name.trim();\n"
    )
    assert text_of(lookup(source, answer).draft(40)) == (
        "  return name.toUpperCase();\n"
        "});\n"
        "}\n"
    )
    # in the middle of a line: the rest of it, then the next lines shifted the same way
    assert text_of(lookup(source, answer + "  return name.").draft(40)) == (
        "toUpperCase();\n});\n}\n"
    )
    # some blanks of the line already written: the rest of the indentation
    assert text_of(lookup(source, answer + " ").draft(10)) == " return na"


def test_deeper_indentation_is_added_in_the_answers_own_blanks() -> None:
    source = "def f(rows):\n    for row in rows:\n        print(row)\n    return len(rows)\n"
    answer = "def f(rows):\n    try:\n        for row in rows:\n"
    assert text_of(lookup(source, answer).draft(60)) == (
        "            print(row)\n        return len(rows)\n"
    )


def test_tabs_are_kept_when_the_indentation_is_the_same() -> None:
    source = "func f() {\n\tfor {\n\t\tstep()\n\t}\n}\n"
    assert text_of(lookup(source, "func f() {\n\tfor {\n").draft(20)) == "\t\tstep()\n\t}\n}\n"


def test_the_longest_match_wins_over_a_later_shorter_one() -> None:
    source = (
        "def a(items):\n    return [item.name for item in items]\n"
        "Keep it as one expression: return [item.id]\n"
    )
    found = lookup(source, "def a(items):\n    return [item.")
    assert text_of(found.draft(4)) == "name"
    assert found.match_chars > len("return [item.")


def test_drafts_end_with_the_code_block() -> None:
    source = "Code:\n```python\nx = compute(1)\n```\nRewrite the code above."
    assert text_of(lookup(source, "```python\nx = compute(").draft(50)) == "1)\n```"


def test_drafts_come_from_the_code_blocks_of_the_messages() -> None:
    texts = ["You reply with code.",
             "Code to refactor:\n```python\ndef f():\n    return 1\n```\nRefactor `f` above.",
             "```\nx = 2\n```"]
    assert draft_source(texts) == "```python\ndef f():\n    return 1\n```\n```\nx = 2\n```"
    assert draft_source(["no code at all"]) == "no code at all"


def test_draft_length_doubles_on_full_acceptance_and_falls_back_on_a_miss() -> None:
    length = DraftLength()
    assert length.value == 7
    length.update(7, 7)
    assert length.value == 15
    length.update(15, 15)
    assert length.value == 31
    length.update(31, 31)
    assert length.value == 47
    length.update(47, 47)
    assert length.value == 47
    length.update(47, 30)
    assert length.value == 7
    length.update(0, 0)  # nothing drafted: unchanged
    assert length.value == 7


def test_draft_stats_report_acceptance() -> None:
    stats = DraftStats(drafted=20, accepted=15, batches=9, drafting_batches=3)
    assert stats.as_dict() == {"draft_tokens": 20, "draft_accepted": 15,
                               "draft_acceptance": 0.75, "decode_batches": 9,
                               "drafting_batches": 3}
    assert DraftStats().as_dict()["draft_acceptance"] == 0.0


# -- the real model ----------------------------------------------------------------------

JS_SOURCE = """\
const api = require("./api");

function loadReport(userId) {
  return api.getUser(userId)
    .then((user) => {
      if (!user.active) {
        throw new Error("inactive user " + userId);
      }
      return api.getOrders(user.id).then((orders) => ({ user, orders }));
    })
    .then(({ user, orders }) => {
      const open = orders.filter((order) => order.status === "open");
      return { name: user.name, open: open.length };
    })
    .catch(() => ({ name: null, open: 0 }));
}

module.exports = { loadReport };
"""

N_THREADS = 1  # the machine is shared: one llama.cpp thread (see test_engine_llama.py)


def _messages(path: str, language: str, text: str, needle: str, action_id: str):
    from qwen_lsp.actions.action import Action
    from qwen_lsp.actions.improve import lint_python
    from qwen_lsp.actions.messages import rewrite_messages
    from qwen_lsp.actions.prompts import PromptStore
    from qwen_lsp.actions.span import resolve_span
    from qwen_lsp.documents import OpenDocument
    from qwen_lsp.settings import Settings

    settings = Settings()
    doc = OpenDocument.open("file://" + path, path, language, 1, text, settings.max_file_bytes)
    source = doc.source(snapshot=True)
    start = text.encode("utf-8").index(needle.encode("utf-8"))
    span = resolve_span(source, start, start, max_lines=settings.max_span_lines,
                        need_syntax=True)
    action = Action.from_id(action_id)
    improvements = ""
    if language == "python" and action is Action.REFACTOR:  # as the runner asks
        improvements = "\n".join(f"- {f.describe()}" for f in lint_python(span.code).unfixed)
    return rewrite_messages(PromptStore(settings.prompts_directory), action, source, span,
                            improvements=improvements)


def rewrite_prompts() -> dict[str, list[dict[str, str]]]:
    """Rewrite prompts as the server builds them (actions/messages.py)."""
    orders = (PROJECT / "examples" / "orders.py").read_text()
    return {
        "refactor python": _messages("/w/orders.py", "python", orders, "totals = {}",
                                     "refactor"),
        "async javascript": _messages("/w/report.js", "javascript", JS_SOURCE,
                                      "return api.getUser", "async"),
        "async python": _messages("/w/orders.py", "python", orders, "time.sleep(delay)",
                                  "async"),
    }


@pytest.fixture(scope="module")
def engine() -> Iterator:
    pytest.importorskip("llama_cpp")
    from qwen_lsp.engine.llama import LlamaEngine
    from qwen_lsp.engine.model import ModelError, resolve_model

    try:
        path = resolve_model(None)
    except ModelError as exc:
        pytest.skip(f"embedded model unavailable: {exc}")
    llama_engine = LlamaEngine(path, n_threads=N_THREADS, n_ctx=4096)
    yield llama_engine
    llama_engine.close()


@pytest.fixture(scope="module")
def prompts() -> dict[str, list[dict[str, str]]]:
    return rewrite_prompts()


def _params(max_tokens: int = 180, **kwargs):
    from qwen_lsp.engine.base import GenParams

    return GenParams(max_tokens=max_tokens, **({"temperature": 0.0} | kwargs))


@pytest.fixture(scope="module")
def plain_answers(engine, prompts) -> dict[str, str]:
    """Plain greedy answers, each computed cold (another prompt in the KV cache)."""
    answers = {}
    for name, messages in prompts.items():
        answers[name] = engine.generate(messages, _params(), lambda _p: None,
                                        threading.Event())
    return answers


def _generate(engine, messages, params, on_text=None, cancel=None) -> str:
    return engine.generate(messages, params, on_text or (lambda _p: None),
                           cancel or threading.Event())


@pytest.mark.model
@pytest.mark.parametrize("name", ["refactor python", "async javascript", "async python"])
def test_drafted_decoding_writes_the_same_text_as_plain_decoding(
    engine, prompts, plain_answers, name: str
) -> None:
    pieces: list[str] = []
    text = _generate(engine, prompts[name], _params(draft_from_prompt=True), pieces.append)

    assert text == plain_answers[name]
    assert "".join(pieces) == text
    stats = engine.last_stats
    assert stats["draft_tokens"] >= stats["draft_accepted"] > 0
    assert stats["decode_batches"] < stats["output_tokens"]  # drafts saved decode calls
    assert stats["tokens_per_second"] > 0


@pytest.mark.model
def test_drafts_are_not_used_unless_asked_for_or_when_sampling(engine, prompts) -> None:
    _generate(engine, prompts["async python"], _params(max_tokens=8))
    assert "draft_tokens" not in engine.last_stats
    _generate(engine, prompts["async python"],
              _params(max_tokens=8, draft_from_prompt=True, temperature=0.7))
    assert "draft_tokens" not in engine.last_stats


@pytest.mark.model
def test_the_kv_cache_after_drafting_serves_the_next_request(
    engine, prompts, plain_answers
) -> None:
    # The next request continues the drafted answer: it reuses the drafted request's
    # KV cache (prompt + verified tokens) and must write what it writes from scratch.
    messages = prompts["refactor python"]
    answer = plain_answers["refactor python"]
    follow_up = [*messages, {"role": "assistant", "content": answer[: len(answer) // 2]}]

    _generate(engine, prompts["async javascript"], _params())  # something else cached
    cold = _generate(engine, follow_up, _params(max_tokens=40))

    assert _generate(engine, messages, _params(draft_from_prompt=True)) == answer
    # the cache holds the prompt, then verified answer tokens only
    llama = engine._llama
    prompt = engine.prompt_tokens(messages)
    assert llama.n_tokens > len(prompt)
    assert list(llama.input_ids[: len(prompt)]) == prompt
    kept = b"".join(engine.token_bytes(int(t)) for t in llama.input_ids[len(prompt):
                                                                         llama.n_tokens])
    assert answer.encode("utf-8").startswith(kept)
    reused = _generate(engine, follow_up, _params(max_tokens=40))
    assert reused == cold


@pytest.mark.model
def test_max_tokens_and_stop_strings_hold_while_drafting(engine, prompts) -> None:
    messages = prompts["refactor python"]
    short_plain = _generate(engine, messages, _params(max_tokens=23))
    short = _generate(engine, messages, _params(max_tokens=23, draft_from_prompt=True))
    assert short == short_plain
    assert engine.last_stats["output_tokens"] == 23

    stopped_plain = _generate(engine, messages, _params(stop=("counts",)))
    pieces: list[str] = []
    stopped = _generate(engine, messages, _params(draft_from_prompt=True, stop=("counts",)),
                        pieces.append)
    assert stopped == stopped_plain
    assert "".join(pieces) == stopped
    assert "totals" in stopped  # the stop string comes after some copied code
    assert "counts" not in stopped


@pytest.mark.model
def test_cancel_while_drafting_stops_and_the_engine_recovers(
    engine, prompts, plain_answers
) -> None:
    from qwen_lsp.engine.base import Cancelled

    cancel = threading.Event()
    pieces: list[str] = []

    def on_text(piece: str) -> None:
        pieces.append(piece)
        if len(pieces) == 20:
            cancel.set()

    params = _params(draft_from_prompt=True)
    with pytest.raises(Cancelled):
        _generate(engine, prompts["refactor python"], params, on_text, cancel)
    assert len(pieces) == 20  # nothing streamed after the cancel

    # an abort inside a drafted batch: the abort flag set while llama.cpp computes
    cancel = threading.Event()
    timer = threading.Timer(0.05, cancel.set)
    pieces.clear()

    def start_timer(piece: str) -> None:
        pieces.append(piece)
        if len(pieces) == 1:
            timer.start()

    with pytest.raises(Cancelled):
        _generate(engine, prompts["refactor python"], params, start_timer, cancel)
    timer.cancel()

    again = _generate(engine, prompts["refactor python"], params)
    assert again == plain_answers["refactor python"]
    plain = _generate(engine, prompts["refactor python"], replace(params,
                                                                   draft_from_prompt=False))
    assert plain == plain_answers["refactor python"]
