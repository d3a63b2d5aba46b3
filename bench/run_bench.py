"""Benchmarks of qwen-lsp, side by side in one run; results go to bench/BENCHMARKS.md.

    /path/to/venv/bin/python bench/run_bench.py [--quick] [--repeat N]

Needs the project installed with its test extras (pytest-lsp drives the server) and
the embedded model (assembled on first use). See BENCHMARKS.md for what is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil
from bench_engine import EngineContext, engine_context
from bench_fixtures import EXPLAIN_FILE_NAME, explain_cursor, function_lines, ledger_source
from bench_latency import (
    CONVERT_BATCH,
    CONVERT_FILE_NAME,
    REFACTOR_BATCH,
    REFACTOR_FILE_NAME,
    LatencyRun,
    convert_source,
    function_length,
    refactor_source,
    rewrite_cursor,
    run_latency_bench,
)
from bench_reference import ReferenceRun, record, run_reference
from bench_report import (
    Row,
    busy_cpu_seconds,
    calibration_seconds,
    fmt,
    issue_targets,
    latency_table,
    machine,
    machine_line,
    own_cpu_seconds,
    ratios_table,
    results_table,
    target_flags,
    targets_table,
    update_benchmarks_file,
)
from bench_server import COLD_BATCH, Explained, ServerRun, run_server_bench
from bench_sync import SyncResult, run_sync_bench

from qwen_lsp.engine.model import resolve_model
from qwen_lsp.settings import Settings

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
FALLBACK_PREAMBLE = "# Benchmarks\n\nProduced by `bench/run_bench.py`.\n"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="a minute or two: N = 1, fewer requests and keystrokes, no 1b′ "
                             "(each can still be set by its own option)")
    parser.add_argument("--repeat", "-n", type=int, default=None,
                        help="repetitions of each server measurement (default 3, quick 1)")
    parser.add_argument("--keystrokes", type=int, default=None,
                        help="keystrokes timed in the document-sync benchmarks, in-process "
                             "and over stdio (default 200, quick 40)")
    parser.add_argument("--requests", type=int, default=None,
                        help="codeAction requests per file size (default 300, quick 60)")
    parser.add_argument("--samples", type=int, default=None,
                        help="requests timed idle, and as many during generations "
                             "(default 200, quick 60)")
    parser.add_argument("--menu-wait", type=float, default=1.5,
                        help="seconds between codeAction and the command in the prefilled "
                             "case (default 1.5: a person reading the menu)")
    parser.add_argument("--long-menu-wait", type=float, default=None,
                        help="also measure a prefilled explain with the menu open this long, "
                             "long enough for the prefill to finish (default 3, quick 0; "
                             "0 skips it)")
    parser.add_argument("--threads", type=int, default=2,
                        help="the server's `threads` setting (default 2)")
    parser.add_argument("--skip-engine", action="store_true",
                        help="skip the in-process LlamaEngine load and token counts")
    parser.add_argument("--skip-latency", action="store_true",
                        help="skip the latency server (code actions, keystrokes, requests "
                             "during a generation, cancel, rewrites, a second server)")
    parser.add_argument("--skip-reference", action="store_true",
                        help="skip the raw llama-cpp-python reference process")
    parser.add_argument("--output", type=Path, default=HERE / "BENCHMARKS.md",
                        help="the Markdown file to update (default bench/BENCHMARKS.md)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary directory (server logs, result cache)")
    args = parser.parse_args(argv)
    defaults = QUICK if args.quick else FULL
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if min(args.repeat, args.keystrokes, args.requests, args.samples) < 1:
        parser.error("--repeat, --keystrokes, --requests and --samples must be at least 1")
    return args


FULL = {"repeat": 3, "keystrokes": 200, "requests": 300, "samples": 200, "long_menu_wait": 3.0}
QUICK = {"repeat": 1, "keystrokes": 40, "requests": 60, "samples": 60, "long_menu_wait": 0.0}


def server_env(workdir: Path, model: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["XDG_CACHE_HOME"] = str(workdir / "xdg-cache")
    env["QWEN_LSP_MODEL"] = str(model)
    env.pop("QWEN_LSP_CACHE_DIR", None)
    return env


def _values(items: list[Explained], attribute: str) -> list[float]:
    values = (getattr(e, attribute) for e in items)
    return [v for v in values if v is not None]


def _paired(a: list[float | None], b: list[float | None]) -> list[float]:
    return [x / y for x, y in zip(a, b, strict=False) if x is not None and y]


def build_report(args: argparse.Namespace, run: ServerRun, sync: SyncResult,
                 engine: EngineContext | None, lat: LatencyRun | None = None,
                 ref: ReferenceRun | None = None) -> tuple[str, list[str]]:
    cold, hit, pre = run.of("cold"), run.of("hit"), run.of("prefilled")
    warm, early, restart = run.of("warmup"), run.of("restart-early"), run.of("restart")
    long = run.of("prefilled-long")
    auto = run.of("automatic")
    long_wait = f"{args.long_menu_wait:g} s"
    generated = cold + pre
    wait = f"{args.menu_wait:g} s"
    rows = [
        Row("Server start → `initialize` answered", [run.start_to_initialized], "s"),
        Row("Server start → model ready (`qwenLsp.status`)", [run.start_to_ready], "s"),
        Row("Model load, as logged by the server", [run.logged_load_seconds]
            if run.logged_load_seconds is not None else [], "s"),
        Row("First explain after the model loaded: first token", _values(warm, "first_token"),
            "s"),
        Row("First explain after the model loaded: total", _values(warm, "total"), "s"),
        Row("**1a** cold explain: first token", _values(cold, "first_token"), "s"),
        Row("**1a** cold explain: total", _values(cold, "total"), "s"),
        Row("**1b** `textDocument/codeAction` answered", run.code_action, "ms"),
        Row(f"**1b** prefilled explain (codeAction, {wait}, command): first token",
            _values(pre, "first_token"), "s"),
        Row("**1b** prefilled explain: total", _values(pre, "total"), "s"),
    ]
    if long:
        rows += [
            Row(f"1b′ prefilled explain, menu open {long_wait}: first token",
                _values(long, "first_token"), "s"),
            Row(f"1b′ prefilled explain, menu open {long_wait}: total", _values(long, "total"),
                "s"),
        ]
    rows += [
        Row(f"**1e** explain in the user's flow (automatic codeAction, {wait}, command): "
            "first token", _values(auto, "first_token"), "s"),
        Row("**1e** explain in the user's flow: total", _values(auto, "total"), "s"),
        Row("**1c** cache hit, same process: total", _values(hit, "total"), "ms"),
        Row("**1d** cache hit after a restart (model loaded): total", _values(restart, "total"),
            "ms"),
        Row("**1d** cache hit after a restart, sent right after `initialize`: total",
            _values(early, "total"), "ms"),
        Row("Restarted server: start → `initialize` answered", run.restart_start_to_initialized,
            "s"),
        Row("`$/progress` reports with model text, per generated explain",
            [float(e.text_reports) for e in generated], "n"),
        Row("**2** server RSS after the model loaded", [run.rss_after_load], "MiB"),
        Row("**2** server RSS after the explains", [run.rss_after_work], "MiB"),
        Row("**2** server peak RSS (VmHWM)", [run.peak_rss] if run.peak_rss else [], "MiB"),
        Row("**2** server CPU over 2 s idle after the work", [run.idle_cpu_percent], "%"),
        Row(f"**3** keystroke, incremental: `OpenDocument.change` ({sync.lines:,} lines)",
            sync.incremental, "ms"),
        Row("**3** keystroke, full parse: new `SyntaxDocument`", sync.full, "ms"),
    ]
    if engine is not None:
        rows += [
            Row("**4** `LlamaEngine` load in-process (page cache warm)",
                [engine.load_seconds], "s"),
            Row("**4** the cold explain prompt straight on `LlamaEngine`: first token",
                engine.first_token, "s"),
        ]

    rows += latency_results(lat, ref)

    restart_by_rep = [e.total for e in restart]
    ratios = [
        ("cold / prefilled, first token", _paired(_values(cold, "first_token"),
                                                  _values(pre, "first_token"))),
        ("cold / prefilled, total", _paired(_values(cold, "total"), _values(pre, "total"))),
    ]
    if long:
        ratios.append((f"cold / prefilled with the menu open {long_wait}, first token",
                       _paired(_values(cold, "first_token"), _values(long, "first_token"))))
    ratios += [
        ("cold total / cache hit total", _paired(_values(cold, "total"), _values(hit, "total"))),
        ("cold total / cache hit after restart total",
         _paired(_values(cold, "total"), restart_by_rep)),
        ("full parse / incremental, per keystroke", _paired(sync.full, sync.incremental)),
    ]

    context = [
        f"- Explain fixture: a {function_lines(ledger_source(COLD_BATCH))}-line Python "
        f"function (`{EXPLAIN_FILE_NAME}`, bench/bench_fixtures.py); each cold/prefilled request "
        "changes a number in a comment on the function's first body line, so it is a new "
        "cache key and shares only the prompt's prefix up to there with the request before.",
        f"- Document sync: {sync.lines:,} lines, {sync.size_bytes:,} bytes, {sync.keystrokes} "
        "single-character insertions spread over the file (UTF-16 ranges, half of them "
        "after non-ASCII text); incremental tree equal to a fresh parse at the end: "
        f"{'yes' if sync.trees_match and sync.text_matches else 'NO'}.",
    ]
    if engine is not None:
        answer = statistics.median(engine.answer_tokens) if engine.answer_tokens else 0
        decode = [t / (e.total - e.first_token) for t, e in zip(engine.answer_tokens, generated,
                                                                 strict=False)
                  if e.first_token is not None and e.total > e.first_token]
        cold_first = _values(cold, "first_token")
        context.append(
            f"- Explain prompt: {engine.prompt_tokens} tokens, {engine.new_prompt_tokens} of "
            "them after the prefix shared with the previous variant (what a cold request must "
            f"evaluate); answers: median {answer:.0f} tokens.")
        if decode and cold_first:
            prefill = engine.new_prompt_tokens / statistics.median(cold_first)
            context.append(
                f"- Seen from the client: ≈{statistics.median(decode):.0f} tokens/s while "
                f"streaming (answer tokens / (total − first token)); cold first token ≈ "
                f"{prefill:.0f} new prompt tokens/s including the LSP round trip.")
        if engine.first_token:
            direct = engine.new_prompt_tokens / statistics.median(engine.first_token)
            context.append(
                f"- Straight on the engine, in-process (after the servers stopped, so not "
                f"side by side with them): ≈{direct:.0f} new prompt tokens/s.")
    aborted = sum("failed to decode, ret = 2" in m for m in run.log_errors)
    context.append(
        f"- Error-level `window/logMessage`s from the servers: {len(run.log_errors)}"
        + (f", of them {aborted} `llama_decode: failed to decode, ret = 2` (an aborted "
           "decode: a prefill or generation stopped by the abort callback)" if aborted else "")
        + ".")
    if lat is not None:
        ratios += [
            ("keystroke + codeAction: full sync / incremental",
             _paired(lat.keystroke_full, lat.keystroke)),
        ]
    context += latency_context(lat, ref)
    targets = issue_targets(run, lat, ref, function_length(refactor_source(REFACTOR_BATCH)),
                            function_length(convert_source(CONVERT_BATCH)))
    flags = checks(run, sync, ratios) + target_flags(targets) + latency_checks(lat, ref)
    parts = ["### Targets (issue 9)", targets_table(targets), "### Results", results_table(rows)]
    if lat is not None:
        parts += ["### Latency over stdio", latency_table(latency_rows(lat))]
    parts += [
        "### Ratios", ratios_table(ratios),
        "### Context", "\n".join(context),
        "### Checks", "\n".join(f"- {f}" for f in flags) or "- nothing odd",
    ]
    return "\n\n".join(parts), flags


def latency_rows(lat: LatencyRun) -> list[Row]:
    """Distributions over stdio (median, p99, max)."""
    rows = [Row(f"**5** `textDocument/codeAction`, {n:,} lines", v, "ms")
            for n, v in sorted(lat.code_action.items())]
    errors = [t for t, e in zip(lat.keystroke, lat.keystroke_error, strict=False) if e]
    clean = [t for t, e in zip(lat.keystroke, lat.keystroke_error, strict=False) if not e]
    rows += [
        Row("**6** keystroke (incremental `didChange`) → `codeAction` answered, 5,000 lines",
            lat.keystroke, "ms"),
        Row("**6** … of them keystrokes leaving a syntax error (`(`)", errors, "ms"),
        Row("**6** … of them keystrokes closing it again (`)`)", clean, "ms"),
        Row("**6** the same keystrokes as full sync (whole text, full parse) → `codeAction`",
            lat.keystroke_full, "ms"),
        Row("**7** `codeAction`, server idle", lat.idle_code_action, "ms"),
        Row("**7** `codeAction` during a generation", lat.busy_code_action, "ms"),
        Row("**7** keystroke → `codeAction`, server idle", lat.idle_keystroke, "ms"),
        Row("**7** keystroke → `codeAction` during a generation", lat.busy_keystroke, "ms"),
    ]
    for phase, label in (("prompt", "while the prompt is evaluated"), ("streaming",
                                                                      "while streaming")):
        cancels = [c for c in lat.cancels if c.phase == phase]
        rows += [
            Row(f"**8** `$/cancelRequest` {label} → `RequestCancelled` response",
                [c.response for c in cancels if c.response is not None], "ms"),
            Row(f"**8** `$/cancelRequest` {label} → server CPU quiet",
                [c.quiet for c in cancels if c.quiet is not None], "ms"),
        ]
    return rows


def latency_results(lat: LatencyRun | None, ref: ReferenceRun | None) -> list[Row]:
    rows: list[Row] = []
    if lat is not None:
        for action in ("refactor", "convert to async"):
            done = [r for r in lat.rewrites if r.action == action]
            rows += [
                Row(f"**9** {action} (through the model): total", [r.total for r in done], "s"),
                Row(f"**9** {action}: first streamed text",
                    [r.first_token for r in done if r.first_token is not None], "s"),
            ]
        rows += [
            Row("**10** explain of the same code in another file (cache hit): total",
                [e.total for e in lat.other_file], "ms"),
            Row("**11** first server: PSS alone (after its work)", [lat.pss_first_alone]
                if lat.pss_first_alone else [], "MiB"),
            Row("**11** second server beside it: start → model ready", [lat.second_ready]
                if lat.second_ready else [], "s"),
            Row("**11** second server: PSS (after one explain)", [lat.pss_second]
                if lat.pss_second else [], "MiB"),
            Row("**11** second server: USS (its private memory: what it adds)", [lat.uss_second]
                if lat.uss_second else [], "MiB"),
            Row("**11** second server: RSS", [lat.rss_second] if lat.rss_second else [], "MiB"),
            Row("**11** … of it anonymous (`RssAnon`: heap, KV cache, weights copied out of "
                "the mapping)", [lat.rss_anon_second] if lat.rss_second else [], "MiB"),
            Row("**11** … of it file-backed (`RssFile`: the mapped model, shared)",
                [lat.rss_file_second] if lat.rss_second else [], "MiB"),
            Row("**11** first server: PSS with the second beside it", [lat.pss_first_beside]
                if lat.pss_first_beside else [], "MiB"),
        ]
    if ref is not None and ref.error is None:
        rows += [
            Row("**12** raw llama-cpp-python: model load", [ref.load_seconds], "s"),
            Row(f"**12** raw: the function's {ref.function_tokens} tokens alone → first token",
                ref.function_first_token, "s"),
            Row(f"**12** raw: the explain prompt ({ref.explain_prompt_tokens} tokens, another "
                "variant in the KV cache) + the server's answer length: total",
                ref.explain_total, "s"),
        ]
        for action, data in ref.rewrites.items():
            rows.append(Row(f"**12** raw: the {action} prompt ({data['prompt_tokens']} tokens), "
                            "plain decoding to the end: total", data["total"], "s"))
    return rows


def latency_context(lat: LatencyRun | None, ref: ReferenceRun | None) -> list[str]:
    lines: list[str] = []
    if lat is not None:
        lines.append(
            "- Latency server (**5**–**11**): its own process and result cache; code actions "
            "with the automatic trigger kind (as VS Code sends on cursor moves) at positions "
            "inside functions, one after the other; keystrokes alternate `(` and `)` at a new "
            "spot per pair (so half leave an unclosed parenthesis); the full-sync reference "
            "sends the same keystrokes to a copy as the whole text, interleaved; the typing "
            "fixture " + ("does leave a syntax error on `(` and clears it on `)` "
                          "(checked with tree-sitter)." if lat.keystroke_fixture_ok
                          else "**did not** behave as described (checked with tree-sitter)."))
        busy = lat.busy_generations
        lines.append(
            f"- During generations: {len(lat.busy_code_action) + len(lat.busy_keystroke)} "
            f"requests over {len(busy)} explains (cold variants); a request answered after "
            "its explain had finished is not counted.")
        for r in lat.rewrites:
            lines.append(
                f"- {r.action} (batch {r.batch}): {r.total:.2f} s, "
                + ("applied" if r.applied else "not applied")
                + (", the first answer failed the checks and the model was asked once more"
                   if r.repaired else "")
                + (f"; error: {r.error}" if r.error else "")
                + (f"; notes: {'; '.join(r.notes)[:300]}" if r.notes else "") + ".")
    if ref is not None:
        if ref.error is not None:
            lines.append(f"- Raw llama-cpp-python reference: {ref.error}")
        else:
            lines.append(
                "- Raw llama-cpp-python reference (**12**): a separate process after the "
                "servers stopped, one `llama_cpp.Llama` with the same threads, context and "
                "batch size, greedy; the prompts are the server's own (recorded through "
                "`requests.prepare`/`execute` with a recording fake engine). Tokens produced: "
                f"explain {ref.explain_answer_tokens}, " + ", ".join(
                    f"{a} {d['tokens']} (the server streamed ≈{d['server_streamed_tokens']})"
                    for a, d in ref.rewrites.items()) + ".")
    return lines


def latency_checks(lat: LatencyRun | None, ref: ReferenceRun | None) -> list[str]:
    flags: list[str] = []
    if ref is not None and ref.error is not None:
        flags.append(f"the raw llama-cpp-python reference failed: {ref.error[:200]}")
    if lat is None:
        return flags
    if not lat.keystroke_fixture_ok:
        flags.append("the keystroke fixture does not leave a syntax error every other step")
    for c in lat.cancels:
        if c.code != -32800:
            flags.append(f"cancel while {c.phase}: response code {c.code} (expected "
                         f"RequestCancelled, -32800){': ' + c.note if c.note else ''}")
        elif c.quiet is None:
            flags.append(f"cancel while {c.phase}: the server's CPU did not go quiet within 2 s")
        elif c.note:
            flags.append(f"cancel while {c.phase}: {c.note}")
    for e in lat.other_file:
        if not e.cached:
            flags.append(f"the same code in another file was not a cache hit (batch {e.batch})")
    for r in lat.rewrites:
        if r.error or not r.applied:
            flags.append(f"{r.action} (batch {r.batch}) applied nothing"
                         + (f": {r.error[:160]}" if r.error else ""))
        if r.repaired:
            flags.append(f"{r.action} (batch {r.batch}): two generations (a repair), so its "
                         "total is not comparable with one plain decoding")
    flags += [f"error-level log from the latency servers: {m!r}" for m in lat.log_errors[:3]]
    return flags


def checks(run: ServerRun, sync: SyncResult, ratios: list[tuple[str, list[float]]]) -> list[str]:
    """What looks wrong, in words; an empty list when everything is as expected."""
    flags: list[str] = []
    generated = (run.of("cold") + run.of("prefilled") + run.of("prefilled-long")
                 + run.of("automatic") + run.of("warmup"))
    for e in generated:
        if e.cached:
            flags.append(f"{e.scenario} explain (batch {e.batch}) answered from the cache")
        if e.first_token is None or e.text_reports < 2:
            flags.append(f"{e.scenario} explain (batch {e.batch}): only {e.text_reports} "
                         "`$/progress` reports carried model text")
    for e in run.of("hit") + run.of("restart") + run.of("restart-early"):
        if not e.cached:
            flags.append(f"{e.scenario} explain (batch {e.batch}) was not a cache hit")
    prefill_gain = dict(ratios).get("cold / prefilled, first token") or []
    if prefill_gain and statistics.median(prefill_gain) < 1.25:
        flags.append(f"prefill gives little or no gain: cold/prefilled first-token ratio "
                     f"{statistics.median(prefill_gain):.2f}")
    for label, values in ratios:
        if label.startswith("cold / prefilled with the menu open") and values and \
                statistics.median(values) < 1.25:
            flags.append(f"{label}: {statistics.median(values):.2f}×, so the prefill does not "
                         "help even when it has time to finish")
    if run.log_errors:
        flags.append(f"{len(run.log_errors)} error-level `window/logMessage`s reached the client "
                     f"during normal use, e.g. {run.log_errors[0]!r}")
    for scenario in ("cold", "prefilled"):
        firsts = _values(run.of(scenario), "first_token")
        if firsts and statistics.median(firsts) > 2.0:
            flags.append(f"{scenario} first token {statistics.median(firsts):.2f} s (> 2 s)")
    if max(run.rss_after_work, run.peak_rss or 0) > 1.5 * 2**30:
        flags.append(f"server RSS {fmt(max(run.rss_after_work, run.peak_rss or 0), 'MiB')} "
                     "(> 1.5 GiB)")
    if run.other_cpu_percent > 5:
        flags.append(f"other processes used {run.other_cpu_percent:.1f} % of the machine during "
                     "the server part: absolute times are disturbed, rerun on a quiet machine")
    if run.idle_cpu_percent > 5:
        flags.append(f"server not idle after the work: {run.idle_cpu_percent:.1f} % CPU")
    early = _values(run.of("restart-early"), "total")
    if early and statistics.median(early) > 1.0:
        flags.append(f"a cached explain right after a restart took "
                     f"{statistics.median(early):.2f} s")
    if not (sync.trees_match and sync.text_matches):
        flags.append("the incrementally kept document differs from a fresh parse")
    gain = dict(ratios).get("full parse / incremental, per keystroke") or []
    if gain and statistics.median(gain) < 2:
        flags.append(f"incremental sync only {statistics.median(gain):.2f}× faster than a "
                     "full parse")
    return flags


def _streamed(items: list, i: int) -> str:
    if i < len(items):
        return items[i].streamed or getattr(items[i], "markdown", "")
    return ""


def reference(model: Path, workdir: Path, args: argparse.Namespace, run: ServerRun,
              lat: LatencyRun | None) -> ReferenceRun:
    """The raw llama-cpp-python reference on the server's own prompts, in its own process."""
    ledger = workdir / EXPLAIN_FILE_NAME
    cold = run.of("cold")
    line, character = explain_cursor(ledger_source(COLD_BATCH))
    codes, explains = [], []
    try:
        for i in range(args.repeat):
            now = record(model, "explain", ledger, ledger_source(COLD_BATCH + i), "python",
                         line, character)
            # another variant first, as in the server: the prompts share their prefix
            before = record(model, "explain", ledger, ledger_source(COLD_BATCH + 500 + i),
                            "python", line, character)
            if not codes:  # the warm-up reads the same code once
                codes.append(before.span_code)
            codes.append(now.span_code)
            start = now.messages[-1]["content"] if now.messages[-1]["role"] == "assistant" \
                else ""
            explains.append({"messages": now.messages, "previous_messages": before.messages,
                             "streamed": _streamed(cold, i), "answer_start": start})
        rewrites: dict[str, list[dict]] = {}
        if lat is not None:
            for action, action_id, name, batch, source, language in (
                    ("refactor", "refactor", REFACTOR_FILE_NAME, REFACTOR_BATCH,
                     refactor_source, "python"),
                    ("convert to async", "async", CONVERT_FILE_NAME, CONVERT_BATCH,
                     convert_source, "javascript")):
                done = [r for r in lat.rewrites if r.action == action]
                items = []
                for i in range(args.repeat):
                    text = source(batch + i)
                    got = record(model, action_id, workdir / name, text, language,
                                 *rewrite_cursor(text))
                    items.append({"messages": got.messages, "max_tokens": got.max_tokens,
                                  "streamed": _streamed(done, i)})
                rewrites[action] = items
    except Exception as exc:  # no reference is a finding, not a crash of the whole run
        return ReferenceRun(error=f"recording the server's prompts failed: {exc!r}")
    jobs = {"function_codes": codes, "explains": explains, "rewrites": rewrites}
    return run_reference(model, args.threads, Settings().context_size, jobs, workdir)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # the servers' window/logMessage lines are in their log files; keep the output readable
    logging.getLogger("pytest_lsp").setLevel(logging.CRITICAL)
    info = machine(args.threads, PROJECT)
    print(f"qwen-lsp benchmarks, {info['date']}, repeat={args.repeat}", flush=True)
    model = resolve_model(None)
    busy = psutil.cpu_percent(interval=2.0)
    if busy > 20:
        print(f"warning: the machine is already {busy:.0f} % busy: the results will be noisy "
              "(see 'other processes' in the report)", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="qwen-lsp-bench-"))
    ok = False
    try:
        print(f"document sync: {args.keystrokes} keystrokes on a 5,000-line file…", flush=True)
        sync = run_sync_bench(args.keystrokes)

        print("explain through the server…", flush=True)
        started = time.perf_counter()
        calibration_before = calibration_seconds()
        busy_before, own_before = busy_cpu_seconds(), own_cpu_seconds()
        env = server_env(workdir, model)
        run = asyncio.run(run_server_bench(workdir, env, args.repeat,
                                           args.threads, args.menu_wait, args.long_menu_wait,
                                           progress=lambda m: print("  " + m, flush=True)))
        lat = None
        if not args.skip_latency:
            print("latency, cancel, rewrites and a second server, over stdio…", flush=True)
            lat = asyncio.run(run_latency_bench(
                workdir, env, args.repeat, args.threads, args.requests, args.keystrokes,
                args.samples, progress=lambda m: print("  " + m, flush=True)))
        wall = time.perf_counter() - started
        other = (busy_cpu_seconds() - busy_before) - (own_cpu_seconds() - own_before) \
            - run.server_cpu_seconds - (lat.server_cpu_seconds if lat else 0.0)
        run.other_cpu_percent = 100.0 * max(other, 0.0) / (wall * (os.cpu_count() or 1))
        calibration_after = calibration_seconds()
        print(f"  server part took {wall:.0f} s; other processes used "
              f"{run.other_cpu_percent:.1f} % of the machine meanwhile", flush=True)

        engine = None
        if not args.skip_engine:
            print("engine load and token counts, in-process…", flush=True)
            answers = [e.markdown for e in run.of("cold") + run.of("prefilled")]
            engine = engine_context(str(model), args.threads,
                                    str(workdir / EXPLAIN_FILE_NAME),
                                    (COLD_BATCH, COLD_BATCH + 1), answers, args.repeat)
        ref = None
        if not args.skip_reference:
            print("raw llama-cpp-python reference, in its own process…", flush=True)
            ref = reference(model, workdir, args, run, lat)
        body, _flags = build_report(args, run, sync, engine, lat, ref)
        load_after = " / ".join(f"{x:.2f}" for x in os.getloadavg())
        heading = (f"## {info['date']} · {info['nproc']} cores · N = {args.repeat}")
        noise = machine_line(info, load_after)
        noise += (f" Other processes used {run.other_cpu_percent:.1f} % of the machine's CPU "
                  "during the server part.")
        noise += (f" Calibration loop (fixed pure-Python work, lower is faster) before / "
                  f"after the server part: {calibration_before * 1000:.0f} / "
                  f"{calibration_after * 1000:.0f} ms.")
        section = f"{heading}\n\n{noise}\n\n{body}\n"
        print()
        print(section)
        if not args.no_write:
            update_benchmarks_file(args.output, info["key"], section, FALLBACK_PREAMBLE)
            print(f"written to {args.output}")
        ok = True
        return 0
    finally:
        if args.keep or not ok:
            print(f"kept {workdir} (server logs: server-*.log)", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
