"""The robustness fuzzers at benchmark scale: counts, seed, outcomes, time.

    /path/to/venv/bin/python bench/bench_robustness.py [--scale 4] [--seed 20261201]

Runs the Hypothesis fuzzers of tests/robustness with their counts multiplied by
``--scale`` (CI runs them at scale 1): at scale 4 that is more than 10,000 generated
protocol messages over stdio (two servers: the real server with the FakeEngine, and
the real `qwen-lsp` with a model file that fails fast), ~600 edit sequences over
stdio and ~1,200 in process; then the leak test at its own size (RSS after 1,000
commands against after 100). Prints what each run reports and its wall time. The
seed makes a run repeatable (same seed, same messages).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

RUNS = [
    # (label, test selection, scaled?)
    ("protocol fuzzing over stdio",
     "tests/robustness/test_protocol_fuzz.py::"
     "test_generated_messages_are_all_answered_and_the_server_survives", True),
    ("edit sequences, in process",
     "tests/robustness/test_edit_sequences.py", True),
    ("edit sequences over stdio",
     "tests/robustness/test_edit_sequences_stdio.py", True),
    ("memory after 1,000 commands",
     "tests/robustness/test_load.py::"
     "test_memory_after_1000_commands_stays_within_5_percent_of_after_100", False),
]
_REPORTED = re.compile(r"^(fake:|broken:|stdio edit sequences:|RSS after)")
_OUTCOME = re.compile(r"(\d+) (passed|failed|error|xfailed)")


def run(label: str, selection: str, scale: float, seed: int) -> tuple[str, float, list[str]]:
    env = {**os.environ, "QWEN_ROBUST_SCALE": str(scale), "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider",
         f"--hypothesis-seed={seed}", selection],
        cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.monotonic() - started
    lines = [line.strip() for line in proc.stdout.splitlines() if _REPORTED.match(line.strip())]
    outcome = ", ".join(f"{n} {what}" for n, what in _OUTCOME.findall(proc.stdout.splitlines()[-1]
                                                                        if proc.stdout else ""))
    if proc.returncode != 0:
        lines.append("FAILED:\n" + proc.stdout[-4000:])
    return outcome or f"exit {proc.returncode}", seconds, lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=4.0)
    parser.add_argument("--seed", type=int, default=20261201)
    args = parser.parse_args()
    print(f"robustness benchmark: scale {args.scale}, hypothesis seed {args.seed}, "
          f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    failed = False
    for label, selection, scaled in RUNS:
        outcome, seconds, lines = run(label, selection, args.scale if scaled else 1.0,
                                      args.seed)
        failed |= "failed" in outcome or "exit" in outcome
        print(f"\n## {label}: {outcome} in {seconds:.0f} s")
        for line in lines:
            print(f"  {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
