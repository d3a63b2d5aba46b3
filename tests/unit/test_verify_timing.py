"""How long a whole check_python takes (process start included) on real functions.

Run alone to print the table: `.venv/bin/python -m tests.unit.test_verify_timing`.
The test asserts a bound loose enough for a shared 2-core machine; the printed p50/p95
are the numbers to report.
"""

from __future__ import annotations

import os
import resource
import statistics
import time

from qwen_lsp.verify import check_python

TOTAL = '''def total(items):
    result = 0
    for item in items:
        if item is not None:
            result += item
    return result
'''
# (guarded with len(): `if not values` would make None an input, where max() raises)
LARGEST = '''def largest(values):
    if len(values) == 0:
        return None
    best = values[0]
    for value in values[1:]:
        if value > best:
            best = value
    return best
'''
SLUG = '''import re

def slug(title, sep="-"):
    words = re.findall(r"[a-z0-9]+", title.lower())
    return sep.join(words)
'''
PAIRS = '''def pairs(d):
    out = []
    for k in sorted(d):
        out.append((k, d[k]))
    return out
'''
MEAN = '''def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0
'''
CASES = [
    (TOTAL, TOTAL, "def total(items):\n    return sum(i for i in items if i is not None)\n",
     "total", "same"),
    (TOTAL, TOTAL, "def total(items):\n    return sum(items)\n", "total", "different"),
    (LARGEST, LARGEST, "def largest(values):\n    return max(values, default=None)\n",
     "largest", "same"),
    (LARGEST, LARGEST, "def largest(values):\n    return max(values, default=0)\n",
     "largest", "different"),
    (SLUG, SLUG.split("\n\n", 1)[1],
     'def slug(title, sep="-"):\n    return sep.join(re.findall(r"[a-z0-9]+", title.lower()))\n',
     "slug", "same"),
    (SLUG, SLUG.split("\n\n", 1)[1],
     'def slug(title, sep="-"):\n    return sep.join(title.lower().split())\n', "slug",
     "different"),
    (PAIRS, PAIRS, "def pairs(d):\n    return sorted(d.items())\n", "pairs", "same"),
    (MEAN, MEAN, "def mean(values: list[float]) -> float:\n"
                 "    return sum(values) / max(len(values), 1)\n", "mean", "same"),
]


def _cpu() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(rounds: int = 3) -> tuple[list[float], list, list[float]]:
    """Wall-clock seconds, reports, and CPU seconds (this process and the child) per call:
    on a shared machine the CPU time says what the check costs, the wall time what it
    costs today."""
    seconds, reports, cpu = [], [], []
    for _ in range(rounds):
        for module, original, rewritten, name, _expected in CASES:
            start, start_cpu = time.perf_counter(), _cpu()
            reports.append(check_python(module, original, rewritten, name))
            seconds.append(time.perf_counter() - start)
            cpu.append(_cpu() - start_cpu)
    return seconds, reports, cpu


def percentiles(seconds: list[float]) -> tuple[float, float]:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def test_check_python_usually_fits_its_budget():
    seconds, reports, _ = measure(rounds=1)
    expected = [case[4] for case in CASES]
    assert [r.status for r in reports] == expected, [r.note() for r in reports]
    p50, _ = percentiles(seconds)
    assert p50 < 1.0, f"p50 {p50:.3f} s"  # ~0.3 s on a quiet machine


if __name__ == "__main__":
    check_python(TOTAL, TOTAL, TOTAL, "total")  # imports and first-use costs, once
    seconds, reports, cpu = measure()
    p50, p95 = percentiles(seconds)
    cpu50, cpu95 = percentiles(cpu)
    for (_m, _o, _r, name, expected), report, took in zip(CASES * 3, reports, seconds,
                                                         strict=True):
        print(f"{took:6.3f} s  {name:8} {expected:9} {report.note()[:90]}")
    print(f"check_python over {len(seconds)} runs: wall p50 {p50:.3f} s, p95 {p95:.3f} s, "
          f"max {max(seconds):.3f} s; CPU p50 {cpu50:.3f} s, p95 {cpu95:.3f} s; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
