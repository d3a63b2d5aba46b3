"""The child process holds code that misbehaves: memory, files, processes, CPU.

These jobs go straight to the sandbox, past the name checks that would refuse them, to
prove the second line of defence on its own.
"""

from __future__ import annotations

import re
import time

from qwen_lsp.verify.python import interpret
from qwen_lsp.verify.sandbox import run_python_job


def run(rewritten: str, *, original: str = "def f():\n    return 1\n", seconds: float = 0.3,
        wall: float = 2.0):
    job = {"prelude": "", "original": original, "rewritten": rewritten, "name": "f",
           "dummy_self": False, "params": [], "cases": [((), {}, "call")],
           "seconds": seconds, "case_timeout": 0.1, "max_items": 10}
    start = time.perf_counter()
    result = run_python_job(job, wall)
    return interpret(result, 0.0), result, time.perf_counter() - start


def test_allocating_ten_gigabytes_is_a_memory_error_not_a_dead_machine():
    report, _, _ = run("def f():\n    return len(bytearray(10 * 1024 ** 3))\n")
    assert report.status == "different"
    assert report.counterexample == "for f() the original returns 1; the rewrite raises MemoryError"


def test_writing_a_file_fails_inside_the_child(tmp_path):
    target = tmp_path / "written-by-the-rewrite"
    report, _, _ = run(f"def f():\n    with open({str(target)!r}, 'w') as out:\n"
                       "        out.write('x')\n    return 1\n")
    assert report.status == "different"
    assert "the rewrite raises OSError: [Errno 24] Too many open files" in report.counterexample
    assert not target.exists()


def test_a_relative_write_goes_nowhere_near_the_callers_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    report, _, _ = run("import os\ndef f():\n    return os.getcwd()\n",
                       original="import os\ndef f():\n    return os.getcwd()\n")
    assert report.status == "same"
    assert list(tmp_path.iterdir()) == []


def test_a_forked_process_dies_with_the_check():
    rewritten = """
import os, time
def f():
    pid = os.fork()
    if pid == 0:
        os.closerange(0, 64)
        time.sleep(30)
        os._exit(0)
    return pid
"""
    report, _, elapsed = run(rewritten)
    assert report.status == "different"
    pid = int(re.search(r"the rewrite returns (\d+)", report.counterexample).group(1))
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.05)
    assert not _alive(pid)
    assert elapsed < 3.0  # the forked child sleeps 30 s


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_a_loop_that_signals_cannot_stop_is_killed_by_the_wall_clock():
    # pbkdf2 loops in C: the per-call alarm waits for it, the wall clock does not.
    report, result, elapsed = run("import hashlib\ndef f():\n    return len(hashlib.pbkdf2_hmac("
                                  "'sha256', b'x', b'y', 50_000_000))\n", wall=1.0)
    assert result.killed
    assert report.status == "different"
    assert report.counterexample == ("for f() the original returns 1; the rewrite does not "
                                     "finish (it was stopped)")
    assert elapsed < 2.5


def test_a_bare_except_that_swallows_the_alarm_is_still_stopped():
    rewritten = """
def f():
    while True:
        try:
            while True:
                pass
        except:
            pass
"""
    report, _, elapsed = run(rewritten, wall=1.0)
    assert report.status == "different"
    assert report.counterexample == ("for f() the original returns 1; the rewrite does not "
                                     "finish (it was stopped)")
    assert elapsed < 2.5  # the wall-clock limit is 1 s


def test_the_child_sees_an_empty_environment():
    # LC_CTYPE is Python's own locale coercion (PEP 538) in a C locale, set by the child.
    report, _, _ = run("import os\ndef f():\n    return sorted(set(os.environ) - {'LC_CTYPE'})\n",
                       original="def f():\n    return ['PYTHONHASHSEED']\n")
    assert report.status == "same"
