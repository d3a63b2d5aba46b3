"""Running a case's tests: pytest for Python, `node --test` for JavaScript.

Every run happens in a copy of the case's tree in a temporary directory, with a
timeout, so a rewrite that loops, crashes or writes files cannot touch the corpus.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

PYTHON = sys.executable
NODE = shutil.which("node") or "node"
TIMEOUT = 90.0


@dataclass
class TestOutcome:
    passed: bool
    summary: str          # the runner's last lines (failures, counts)
    timed_out: bool = False


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def pytest_ini(pythonpath: list[str]) -> str:
    return ("[pytest]\n"
            f"pythonpath = {' '.join(pythonpath)}\n"
            "addopts = -p no:cacheprovider\n"
            "filterwarnings =\n    ignore::DeprecationWarning\n"
            "    ignore::PendingDeprecationWarning\n")


def copy_tree(tree: Path, dest: Path) -> None:
    shutil.copytree(tree, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc",
                                                                "node_modules"))


def run_pytest(root: Path, nodeids: list[str], pythonpath: list[str],
               extra: list[str] | None = None, timeout: float = TIMEOUT,
               exitfirst: bool = False) -> TestOutcome:
    """pytest on `nodeids` inside `root` (already a scratch copy)."""
    ini = root / "bench_pytest.ini"
    ini.write_text(pytest_ini(pythonpath))
    cmd = [PYTHON, "-m", "pytest", "-q", "--no-header", "-rfE", "-c", str(ini),
           "--rootdir", str(root), *(extra or []), *(["-x"] if exitfirst else []), *nodeids]
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["TMPDIR"] = str(root)
    try:
        proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True,
                              timeout=timeout, start_new_session=True)
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"").decode(errors="replace") if isinstance(exc.stdout, bytes) \
            else (exc.stdout or "")
        return TestOutcome(False, f"timed out after {timeout:.0f} s\n{_tail(out)}", True)
    return TestOutcome(proc.returncode == 0, _tail(proc.stdout + proc.stderr))


def failing_pytest_ids(root: Path, test_files: list[str], pythonpath: list[str],
                       extra: list[str] | None = None,
                       timeout: float = 600) -> tuple[set[str], str]:
    """Run whole test files once; the node ids (params stripped) that fail or error."""
    ini = root / "bench_pytest.ini"
    ini.write_text(pytest_ini(pythonpath))
    cmd = [PYTHON, "-m", "pytest", "-q", "--no-header", "-rfE", "-c", str(ini),
           "--rootdir", str(root), *(extra or []), *test_files]
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True,
                          timeout=timeout, start_new_session=True)
    bad = set()
    for line in proc.stdout.splitlines():
        m = re.match(r"(FAILED|ERROR) (\S+)", line)
        if m:
            bad.add(m.group(2).split("[")[0])
    return bad, _tail(proc.stdout, 5)


def run_node(root: Path, test_file: str, pattern: str, timeout: float = TIMEOUT) -> TestOutcome:
    """`node --test` on one test file, only the tests whose names match `pattern`."""
    cmd = [NODE, "--test", "--test-reporter=tap", f"--test-name-pattern={pattern}", test_file]
    env = dict(os.environ)
    env["TMPDIR"] = str(root)
    try:
        proc = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True,
                              timeout=timeout, start_new_session=True)
    except subprocess.TimeoutExpired:
        return TestOutcome(False, f"timed out after {timeout:.0f} s", True)
    out = proc.stdout + proc.stderr
    passed = re.search(r"^# pass (\d+)", out, re.M)
    failed = re.search(r"^# fail (\d+)", out, re.M)
    n_pass = int(passed.group(1)) if passed else 0
    n_fail = int(failed.group(1)) if failed else 1
    ok = proc.returncode == 0 and n_pass > 0 and n_fail == 0
    summary = _tail(out, 40) if not ok else f"# pass {n_pass}"
    return TestOutcome(ok, summary)


def scratch(prefix: str, base: Path) -> Path:
    base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=base))
