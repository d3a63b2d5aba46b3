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
