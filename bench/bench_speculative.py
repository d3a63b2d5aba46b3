"""Rewrites through the model: plain greedy decoding vs lean speculative decoding.

    .venv/bin/python bench/bench_speculative.py [--repeat N] [--threads T]

One LlamaEngine (the real embedded model) in this process; the rewrite prompts are
built by the project's own code (`rewrite_messages`, ruff's findings as the runner
asks for them): a refactor of a 30-line Python function and a conversion of a
30-line JavaScript function with `.then()` chains to async/await, and a 9-line
one (a short answer that copies less: where drafting gains least). Each repetition
runs every (case, mode) once, the modes alternating, and consecutive runs are
always different cases, so each run is cold for its own prompt (the KV cache holds
the other case's prompt, sharing only a few tokens). Prints median totals (prompt
evaluation included), the generation part alone, tokens/s, draft acceptance and
the plain/lean ratios, and checks that both modes wrote the same text.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from bench_fixtures import ledger_source  # noqa: E402

from qwen_lsp.actions.action import Action  # noqa: E402
from qwen_lsp.actions.improve import lint_python  # noqa: E402
from qwen_lsp.actions.messages import rewrite_messages  # noqa: E402
from qwen_lsp.actions.prompts import PromptStore  # noqa: E402
from qwen_lsp.actions.span import resolve_span  # noqa: E402
from qwen_lsp.documents import OpenDocument  # noqa: E402
from qwen_lsp.engine.base import GenParams  # noqa: E402
from qwen_lsp.settings import Settings  # noqa: E402

ORDERS_JS = """\
const api = require("./api");

function loadOrderSummary(customerId, options) {
  const limit = options && options.limit ? options.limit : 10;
  return api.fetchCustomer(customerId)
    .then((customer) => {
      if (!customer.active) {
        throw new Error("inactive customer " + customerId);
      }
      return api.fetchOrders(customer.id, { limit: limit })
        .then((orders) => ({ customer: customer, orders: orders }));
    })
    .then(({ customer, orders }) => {
      const open = orders.filter((order) => order.status === "open");
      const total = open.reduce((sum, order) => sum + order.amount, 0);
      return api.fetchRates(customer.currency).then((rates) => {
        const rate = rates[customer.currency] || 1;
        return {
          name: customer.name,
          openOrders: open.length,
          total: Math.round(total * rate * 100) / 100,
          currency: customer.currency,
        };
      });
    })
    .catch((error) => {
      console.error("summary failed: " + error.message);
      return { name: null, openOrders: 0, total: 0, currency: null };
    });
}

module.exports = { loadOrderSummary };
"""

FETCH_JS = """\
function fetchJson(url) {
  return fetch(url)
    .then((response) => {
      if (!response.ok) {
        throw new Error("HTTP " + response.status);
      }
      return response.json();
    });
}
"""


@dataclass
class Case:
    name: str
    messages: list[dict[str, str]]


def _span_at(path: str, language: str, text: str, needle: str):
    settings = Settings()
    doc = OpenDocument.open("file://" + path, path, language, 1, text, settings.max_file_bytes)
    source = doc.source(snapshot=True)
    start = text.encode("utf-8").index(needle.encode("utf-8"))
    span = resolve_span(source, start, start, max_lines=settings.max_span_lines,
                        need_syntax=True)
    return source, span


def rewrite_cases() -> list[Case]:
    """The prompts the server builds for the two rewrites (as in actions/runner.py)."""
    prompts = PromptStore(Settings().prompts_directory)
    source, span = _span_at("/bench/ledger.py", "python", ledger_source(1),
                            "balances = {}")
    findings = lint_python(span.code).unfixed
    improvements = "\n".join(f"- {f.describe()}" for f in findings)
    refactor = rewrite_messages(prompts, Action.REFACTOR, source, span,
                                improvements=improvements)
    source, span = _span_at("/bench/orders.js", "javascript", ORDERS_JS, "const limit")
    to_async = rewrite_messages(prompts, Action.CONVERT_TO_ASYNC, source, span)
    source, span = _span_at("/bench/fetch.js", "javascript", FETCH_JS, "return fetch")
    short_async = rewrite_messages(prompts, Action.CONVERT_TO_ASYNC, source, span)
    return [Case("refactor 30-line Python function", refactor),
            Case("convert 30-line JS function to async", to_async),
            Case("convert 9-line JS function to async", short_async)]


@dataclass
class Runs:
    totals: list[float] = field(default_factory=list)
    generation: list[float] = field(default_factory=list)  # after the first token
    tokens: list[int] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)
    acceptance: list[float] = field(default_factory=list)
    drafted: list[int] = field(default_factory=list)
    batches: list[int] = field(default_factory=list)
    texts: set[str] = field(default_factory=set)


def run(engine, case: Case, params: GenParams) -> tuple[str, dict]:
    started = time.perf_counter()
    text = engine.generate(case.messages, params, lambda _piece: None, threading.Event())
    stats = dict(engine.last_stats)
    stats["wall"] = time.perf_counter() - started
    return text, stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", "-n", type=int, default=3)
    parser.add_argument("--threads", type=int, default=Settings().threads)
    parser.add_argument("--max-tokens", type=int, default=Settings().max_output_tokens)
    args = parser.parse_args(argv)

    from qwen_lsp.engine.llama import LlamaEngine
    from qwen_lsp.engine.model import resolve_model

    cases = rewrite_cases()
    engine = LlamaEngine(resolve_model(None), n_threads=args.threads,
                         n_ctx=Settings().context_size)
    plain = GenParams(max_tokens=args.max_tokens, temperature=0.0)
    modes = {"plain": plain, "lean": replace(plain, draft_from_prompt=True)}
    results = {(c.name, m): Runs() for c in cases for m in modes}
    load = os.getloadavg()
    try:
        # warm-up: page the weights in with an unrelated prompt (every run stays cold)
        engine.generate([{"role": "user", "content": "Say hello."}], GenParams(max_tokens=4),
                        lambda _p: None, threading.Event())
        for rep in range(args.repeat):
            order = ["plain", "lean"] if rep % 2 == 0 else ["lean", "plain"]
            # consecutive runs are different cases: A/m0, B/m1, C/m0, A/m1, B/m0, C/m1
            schedule = [(case, order[(i + j) % 2]) for j in range(2)
                        for i, case in enumerate(cases)]
            for case, mode in schedule:
                text, stats = run(engine, case, modes[mode])
                r = results[(case.name, mode)]
                r.totals.append(stats["total_seconds"])
                r.generation.append(stats["total_seconds"] - stats["first_token_seconds"])
                r.tokens.append(int(stats["output_tokens"]))
                r.rates.append(float(stats["tokens_per_second"]))
                r.acceptance.append(float(stats.get("draft_acceptance", 0.0)))
                r.drafted.append(int(stats.get("draft_tokens", 0)))
                r.batches.append(int(stats.get("decode_batches", stats["output_tokens"])))
                r.texts.add(text)
                print(f"  rep {rep} {mode:5s} {case.name}: {stats['total_seconds']:.2f} s, "
                      f"{stats['output_tokens']} tokens, {stats['tokens_per_second']} tok/s"
                      + (f", acceptance {stats['draft_acceptance']:.2f}, "
                         f"{stats['decode_batches']} batches" if mode == "lean" else ""),
                      flush=True)
    finally:
        engine.close()
    load_after = os.getloadavg()

    med = statistics.median
    low = statistics.median_low  # whole numbers stay whole
    print()
    print(f"threads {args.threads}, {args.repeat} repetitions, load average "
          f"{load[0]:.2f} before / {load_after[0]:.2f} after (2 cores, shared)")
    print()
    print("| case | mode | total s (median) | generation s | output tokens | tokens/s "
          "| draft acceptance | decode calls | same text |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    all_same = True
    for case in cases:
        texts = results[(case.name, "plain")].texts | results[(case.name, "lean")].texts
        same = len(texts) == 1
        all_same &= same
        for mode in modes:
            r = results[(case.name, mode)]
            acceptance = f"{med(r.acceptance):.2f} ({low(r.drafted)} drafted)" \
                if mode == "lean" else "-"
            print(f"| {case.name} | {mode} | {med(r.totals):.2f} | {med(r.generation):.2f} "
                  f"| {low(r.tokens)} | {med(r.rates):.1f} | {acceptance} | {low(r.batches)} "
                  f"| {'yes' if same else 'NO'} |")
    print()
    print("| case | plain/lean total | plain/lean generation |")
    print("| --- | --- | --- |")
    for case in cases:
        p, s = results[(case.name, "plain")], results[(case.name, "lean")]
        print(f"| {case.name} | {med(p.totals) / med(s.totals):.2f}x "
              f"| {med(p.generation) / med(s.generation):.2f}x |")
    if not all_same:
        print("\nTEXTS DIFFER between plain and lean decoding", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
