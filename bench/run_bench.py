"""Benchmarks of qwen-lsp, side by side in one run; results go to bench/BENCHMARKS.md.

    /path/to/venv/bin/python bench/run_bench.py [--repeat N]

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
from bench_fixtures import EXPLAIN_FILE_NAME, function_lines, ledger_source
from bench_report import (
    Row,
    busy_cpu_seconds,
    calibration_seconds,
    fmt,
    machine,
    machine_line,
    own_cpu_seconds,
    ratios_table,
    results_table,
    update_benchmarks_file,
)
from bench_server import COLD_BATCH, Explained, ServerRun, run_server_bench
from bench_sync import SyncResult, run_sync_bench

from qwen_lsp.engine.model import resolve_model

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
FALLBACK_PREAMBLE = "# Benchmarks\n\nProduced by `bench/run_bench.py`.\n"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", "-n", type=int, default=3,
                        help="repetitions of each server measurement (default 3)")
    parser.add_argument("--keystrokes", type=int, default=200,
                        help="keystrokes timed in the document-sync benchmark (default 200)")
    parser.add_argument("--menu-wait", type=float, default=1.5,
                        help="seconds between codeAction and the command in the prefilled "
                             "case (default 1.5: a person reading the menu)")
    parser.add_argument("--long-menu-wait", type=float, default=3.0,
                        help="also measure a prefilled explain with the menu open this long, "
                             "long enough for the prefill to finish (default 3; 0 skips it)")
    parser.add_argument("--threads", type=int, default=2,
                        help="the server's `threads` setting (default 2)")
    parser.add_argument("--skip-engine", action="store_true",
                        help="skip the in-process LlamaEngine load and token counts")
    parser.add_argument("--output", type=Path, default=HERE / "BENCHMARKS.md",
                        help="the Markdown file to update (default bench/BENCHMARKS.md)")
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary directory (server logs, result cache)")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.keystrokes < 1:
        parser.error("--repeat and --keystrokes must be at least 1")
    return args


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
                 engine: EngineContext | None) -> tuple[str, list[str]]:
    cold, hit, pre = run.of("cold"), run.of("hit"), run.of("prefilled")
    warm, early, restart = run.of("warmup"), run.of("restart-early"), run.of("restart")
    long = run.of("prefilled-long")
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
    flags = checks(run, sync, ratios)
    text = "\n\n".join([
        "### Results", results_table(rows),
        "### Ratios", ratios_table(ratios),
        "### Context", "\n".join(context),
        "### Checks", "\n".join(f"- {f}" for f in flags) or "- nothing odd",
    ])
    return text, flags


def checks(run: ServerRun, sync: SyncResult, ratios: list[tuple[str, list[float]]]) -> list[str]:
    """What looks wrong, in words; an empty list when everything is as expected."""
    flags: list[str] = []
    generated = (run.of("cold") + run.of("prefilled") + run.of("prefilled-long")
                 + run.of("warmup"))
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
        run = asyncio.run(run_server_bench(workdir, server_env(workdir, model), args.repeat,
                                           args.threads, args.menu_wait, args.long_menu_wait,
                                           progress=lambda m: print("  " + m, flush=True)))
        wall = time.perf_counter() - started
        other = (busy_cpu_seconds() - busy_before) - (own_cpu_seconds() - own_before) \
            - run.server_cpu_seconds
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
        body, _flags = build_report(args, run, sync, engine)
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
