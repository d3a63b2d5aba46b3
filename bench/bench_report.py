"""Statistics, the machine description, the Markdown tables, and BENCHMARKS.md."""

from __future__ import annotations

import os
import platform
import re
import statistics
import subprocess
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

RUNS_MARKER = "<!-- bench-runs: newest first; run_bench.py inserts or replaces sections below -->"
_SECTION = re.compile(r"<!-- bench-run (?P<key>\S+) -->.*?<!-- /bench-run -->\n*", re.DOTALL)


@dataclass
class Row:
    label: str
    values: list[float]
    unit: str  # "s", "ms", "MiB", "%", "n"

    def cells(self) -> tuple[str, str, str]:
        if not self.values:
            return "missing", "", "0"
        median = fmt(statistics.median(self.values), self.unit)
        spread = ""
        if len(self.values) > 1:
            spread = f"{fmt(min(self.values), self.unit)} – {fmt(max(self.values), self.unit)}"
        return median, spread, str(len(self.values))


def fmt(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value:.2f} s"
    if unit == "ms":
        return f"{value * 1000:.1f} ms" if value < 0.1 else f"{value * 1000:.0f} ms"
    if unit == "MiB":
        return f"{value / 2**20:.0f} MiB"
    if unit == "%":
        return f"{value:.1f} %"
    if unit == "x":
        return f"{value:.2f}×"
    return f"{value:g}"


def results_table(rows: list[Row]) -> str:
    lines = ["| measurement | median | min – max | n |", "| --- | ---: | ---: | ---: |"]
    for row in rows:
        median, spread, n = row.cells()
        lines.append(f"| {row.label} | {median} | {spread} | {n} |")
    return "\n".join(lines)


def ratios_table(ratios: list[tuple[str, list[float]]]) -> str:
    lines = ["| ratio (paired within a repetition) | median | per repetition |",
             "| --- | ---: | --- |"]
    for label, values in ratios:
        if not values:
            lines.append(f"| {label} | missing | |")
            continue
        each = ", ".join(f"{v:.2f}" for v in values) if len(values) <= 12 else \
            f"{min(values):.2f} – {max(values):.2f} over {len(values)}"
        lines.append(f"| {label} | **{statistics.median(values):.2f}×** | {each} |")
    return "\n".join(lines)


# -- the machine -------------------------------------------------------------------------


def _run(*command: str) -> str:
    try:
        return subprocess.run(command, capture_output=True, text=True, check=False,
                              timeout=10).stdout.strip()
    except OSError:
        return ""


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def machine(threads: int, project: Path) -> dict[str, str]:
    commit = _run("git", "-C", str(project), "rev-parse", "--short", "HEAD")
    dirty = _run("git", "-C", str(project), "status", "--porcelain", "--", "qwen_lsp")
    return {
        "date": _run("date", "-u", "+%Y-%m-%d %H:%M UTC"),
        "key": _run("date", "-u", "+%Y-%m-%dT%H:%MZ"),
        "nproc": _run("nproc") or str(os.cpu_count()),
        "cpu": _cpu_model(),
        "ram": _ram(),
        "python": platform.python_version(),
        "llama_cpp_python": _version("llama_cpp_python"),
        "pygls": _version("pygls"),
        "tree_sitter": _version("tree-sitter"),
        "threads": str(threads),
        "commit": (commit or "unknown") + (" + uncommitted changes in qwen_lsp/" if dirty
                                           else ""),
        "load": " / ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def calibration_seconds(rounds: int = 5) -> float:
    """A fixed single-threaded pure-Python loop, median of ``rounds``.

    The hypervisor here reports no steal time, so this is how a run shows how fast
    the shared machine was at that moment (lower is faster).
    """
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        total = 0
        for i in range(1_000_000):
            total += i * i % 7
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def busy_cpu_seconds() -> float:
    """CPU seconds all processes on the machine have used so far (not idle, not iowait)."""
    t = psutil.cpu_times()
    return t.user + t.nice + t.system + getattr(t, "irq", 0.0) + getattr(t, "softirq", 0.0)


def own_cpu_seconds() -> float:
    t = psutil.Process().cpu_times()
    return t.user + t.system


def machine_line(m: dict[str, str], load_after: str) -> str:
    return (f"Machine: {m['nproc']} cores ({m['cpu']}), {m['ram']} RAM; Python {m['python']}, "
            f"llama-cpp-python {m['llama_cpp_python']}, pygls {m['pygls']}, tree-sitter "
            f"{m['tree_sitter']}; `threads` = {m['threads']}; qwen-lsp at {m['commit']}. "
            f"Load average (1/5/15 min) before: {m['load']}, after: {load_after}.")


# -- BENCHMARKS.md -----------------------------------------------------------------------


def update_benchmarks_file(path: Path, key: str, section: str, preamble: str) -> None:
    """Insert this run's section at the top of the runs (replacing one with the same key)."""
    block = f"<!-- bench-run {key} -->\n{section.strip()}\n<!-- /bench-run -->\n\n"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if RUNS_MARKER not in text:
        text = (text.rstrip() or preamble.rstrip()) + "\n\n" + RUNS_MARKER + "\n"
    kept = [m.group(0) for m in _SECTION.finditer(text) if m.group("key") != key]
    head = text.split(RUNS_MARKER, 1)[0]
    path.write_text(head + RUNS_MARKER + "\n\n" + block + "".join(kept).rstrip() + "\n",
                    encoding="utf-8")


# -- latency, references and the issue's targets ----------------------------------------


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100), interpolated between the two nearest values."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * q / 100.0
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def latency_table(rows: list[Row]) -> str:
    """Distributions: median, p99 and the worst of each (p99 of fewer than 100 values
    lies between the two largest)."""
    lines = ["| measurement | median | p99 | max | n |", "| --- | ---: | ---: | ---: | ---: |"]
    for row in rows:
        if not row.values:
            lines.append(f"| {row.label} | missing | | | 0 |")
            continue
        v = row.values
        lines.append(f"| {row.label} | {fmt(statistics.median(v), row.unit)} | "
                     f"{fmt(percentile(v, 99), row.unit)} | {fmt(max(v), row.unit)} | {len(v)} |")
    return "\n".join(lines)


@dataclass
class Target:
    """One line of the issue's table: the figure, its reference in the same run, the goal."""

    figure: str
    measured: str
    reference: str
    ratio: str
    target: str
    met: bool | None  # None: not measured in this run

    @property
    def verdict(self) -> str:
        return {True: "yes", False: "**no**", None: "not measured"}[self.met]


def targets_table(targets: list[Target]) -> str:
    lines = ["| figure | measured | reference in the same run | ratio | target (2 cores) | met |",
             "| --- | ---: | --- | ---: | --- | --- |"]
    lines += [f"| {t.figure} | {t.measured} | {t.reference} | {t.ratio} | {t.target} | "
              f"{t.verdict} |" for t in targets]
    return "\n".join(lines)


def _median_or_none(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _show(value: float | None, unit: str) -> str:
    return "missing" if value is None else fmt(value, unit)


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _x(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}×"


def _p99(values: list[float]) -> float | None:
    return percentile(values, 99) if values else None


def issue_targets(run: Any, lat: Any, ref: Any, refactor_lines: int,
                  convert_lines: int) -> list[Target]:
    """The issue's targets (issue 9, "The benchmark suite"), each measured beside its
    reference. ``run``: bench_server.ServerRun; ``lat``: bench_latency.LatencyRun or
    None; ``ref``: bench_reference.ReferenceRun or None."""
    cold = [e for e in run.of("cold") if not e.cached]
    cold_first = _median_or_none([e.first_token for e in cold if e.first_token is not None])
    cold_total = _median_or_none([e.total for e in cold])
    targets: list[Target] = []

    ref_ok = ref is not None and ref.error is None
    raw_first = _median_or_none(ref.function_first_token) if ref_ok else None
    ratio = _ratio(cold_first, raw_first)
    targets.append(Target(
        "explain, 30-line function, cold: first model token", _show(cold_first, "s"),
        f"raw llama-cpp-python, the function's {ref.function_tokens} tokens alone, one "
        f"token sampled: {_show(raw_first, 's')}" if ref_ok else "not run",
        _x(ratio), "≤ 1.3× the reference", None if ratio is None else ratio <= 1.3))
    auto = _median_or_none([e.first_token for e in run.of("automatic")
                            if e.first_token is not None and not e.cached])
    targets.append(Target(
        "explain in the user's flow (automatic code action on the function, 1.5 s, "
        "command): first model token", _show(auto, "s"), "—", "—", "≤ 0.5 s",
        None if auto is None else auto <= 0.5))
    raw_total = _median_or_none(ref.explain_total) if ref_ok else None
    ratio = _ratio(cold_total, raw_total)
    answer = _median_or_none([float(n) for n in ref.explain_answer_tokens]) if ref_ok else None
    targets.append(Target(
        "explain total", _show(cold_total, "s"),
        f"raw, the same {ref.explain_prompt_tokens}-token prompt and {answer or 0:.0f} answer "
        f"tokens: {_show(raw_total, 's')}" if ref_ok else "not run",
        _x(ratio), "≤ 1.05×", None if ratio is None else ratio <= 1.05))

    if lat is not None:
        for action, lines in (("refactor", refactor_lines), ("convert to async", convert_lines)):
            done = [r for r in lat.rewrites if r.action == action and not r.cached]
            total = _median_or_none([r.total for r in done])
            raw = ref.rewrites.get(action) if ref_ok else None
            raw_total = _median_or_none(raw["total"]) if raw else None
            speedup = _ratio(raw_total, total)
            language = "Python" if action == "refactor" else "JavaScript `.then()` chains"
            met = None if total is None or speedup is None else total <= 3.0 and speedup >= 1.5
            targets.append(Target(
                f"{action}, {lines}-line function ({language}, through the model): total",
                _show(total, "s"),
                f"raw, the same {raw['prompt_tokens']}-token prompt, plain decoding "
                f"({_median_or_none([float(n) for n in raw['tokens']]) or 0:.0f} tokens): "
                f"{_show(raw_total, 's')}" if raw else "not run",
                f"{_x(speedup)} faster" if speedup else "—",
                "≤ 3 s; ≥ 1.5× faster than plain decoding", met))
            flow = _median_or_none([r.total for r in lat.rewrites
                                    if r.action == f"{action} (flow)" and not r.cached])
            targets.append(Target(
                f"{action} in the user's flow (automatic code action on the function, 1.5 s, "
                "command): total", _show(flow, "s"),
                f"cold, above: {_show(total, 's')}", f"{_x(_ratio(total, flow))} faster"
                if flow and total else "—", "≤ 3 s", None if flow is None else flow <= 3.0))

    starts = [run.start_to_initialized, *run.restart_start_to_initialized]
    start = _median_or_none(starts)
    targets.append(Target("process start → `initialize` answered", _show(start, "s"), "—", "—",
                          "< 300 ms", None if start is None else start < 0.3))

    if lat is not None:
        p99 = {n: _p99(v) for n, v in lat.code_action.items()}
        shown = " / ".join(_show(p99.get(n), "ms") for n in sorted(p99))
        at_5k = p99.get(5000)
        targets.append(Target(
            "`textDocument/codeAction` p99 on " + " / ".join(f"{n // 1000}k" for n in sorted(p99))
            + " lines", shown, "—",
            _x(_ratio(p99.get(max(p99)), p99.get(min(p99)))) + " from smallest to largest"
            if p99 else "—", "< 10 ms at 5k; growth shown",
            None if at_5k is None else at_5k < 0.010))
        inc, full = _p99(lat.keystroke), _p99(lat.keystroke_full)
        targets.append(Target(
            "one keystroke (`didChange`) then `codeAction`, p99, 5k lines, every other "
            "keystroke leaving a syntax error", _show(inc, "ms"),
            f"full sync (the whole text, a full parse): {_show(full, 'ms')}",
            _x(_ratio(full, inc)) + " faster" if inc and full else "—", "< 15 ms",
            None if inc is None else inc < 0.015))
        busy = lat.busy_code_action + lat.busy_keystroke
        idle = lat.idle_code_action + lat.idle_keystroke
        b99, i99 = _p99(busy), _p99(idle)
        targets.append(Target(
            "other requests (codeAction; keystroke + codeAction) during a generation, p99",
            _show(b99, "ms"), f"idle: {_show(i99, 'ms')}", _x(_ratio(b99, i99)) + " idle"
            if b99 and i99 else "—", "< 50 ms", None if b99 is None else b99 < 0.050))
        responses = [c.response for c in lat.cancels if c.response is not None]
        quiet = [c.quiet for c in lat.cancels if c.quiet is not None]
        worst = max(responses) if responses else None
        worst_quiet = max(quiet) if quiet else None
        good = bool(lat.cancels) and all(c.code == -32800 for c in lat.cancels) and \
            len(quiet) == len(lat.cancels)
        targets.append(Target(
            "`$/cancelRequest` → generation stopped (worst of the cancels)",
            f"response {_show(worst, 'ms')}; CPU quiet {_show(worst_quiet, 'ms')}", "—", "—",
            "< 100 ms", None if worst is None else good and worst < 0.1
            and worst_quiet is not None and worst_quiet < 0.1))

    hit = _median_or_none([e.total for e in run.of("hit")])
    restart = _median_or_none([e.total for e in run.of("restart")])
    other = lat.other_file if lat is not None else []
    other_total = _median_or_none([e.total for e in other])
    all_hit = bool(other) and all(e.cached for e in other)
    met = None if hit is None or restart is None else hit < 0.005 and restart < 0.020 and all_hit
    targets.append(Target(
        "cache hit in memory / after a restart / same code in another file",
        f"{_show(hit, 'ms')} / {_show(restart, 'ms')} / "
        + (f"{'hit' if all_hit else '**miss**'} ({_show(other_total, 'ms')})" if other
           else "not measured"),
        "—", "—", "< 5 ms / < 20 ms / hit", met))

    rss = max(run.rss_after_work, run.peak_rss or 0)
    added = lat.memory_added if lat is not None and lat.pss_second else None
    second = f" (its PSS {fmt(lat.pss_second, 'MiB')})" if added is not None else ""
    targets.append(Target(
        "RSS with the model loaded; memory a second server adds beside it (its USS: "
        "the weights are shared through mmap)",
        f"{fmt(rss, 'MiB')}; + {_show(added, 'MiB')}{second}", "—", "—",
        "< 800 MiB; + < 150 MiB",
        rss < 800 * 2**20 and (added is None or added < 150 * 2**20)))
    return targets


def target_flags(targets: list[Target]) -> list[str]:
    return [f"target missed: {t.figure}: {t.measured} (target {t.target})"
            for t in targets if t.met is False]
