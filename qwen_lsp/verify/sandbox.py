"""Running checked code in a separate, limited process.

The child gets an empty environment (Python: only PYTHONHASHSEED=0, so results repeat), a
fresh temporary working directory that is removed afterwards, no inherited descriptors,
its own session (the whole process group is killed at the end, forked children included)
and a wall-clock timeout. The Python child lowers its own limits (address space, CPU,
file size 0, no new descriptors, no new processes where that is enforced) once the code
is defined: setting them in the parent would need `preexec_fn`, which is unsafe in a
threaded server. Node cannot lower its own limits, so it runs under `prlimit` when that
is installed, and always inside a `vm` context without `require` or `process`.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

CHILD_PY = Path(__file__).with_name("_child.py")
CHILD_JS = Path(__file__).with_name("_child.js")
MEMORY_BYTES = 512 * 1024 * 1024


@dataclass
class ChildResult:
    """What a child wrote, line by line, and how it ended."""

    lines: list[dict] = field(default_factory=list)
    killed: bool = False  # the wall-clock timeout ended it
    returncode: int | None = None
    stderr: str = ""

    def running(self) -> dict | None:
        """The last call that started, if the child was killed in it."""
        starts = [line for line in self.lines if "start" in line]
        ended = any("done" in line or "diff" in line or "error" in line for line in self.lines)
        return starts[-1] if starts and not ended else None


def _python_command() -> list[str]:
    flags = ["-S", "-s"] + (["-P"] if sys.version_info >= (3, 11) else [])
    return [sys.executable, *flags, str(CHILD_PY)]


class Child:
    """A checking process, started before its job is ready so that its start-up overlaps
    the drawing of inputs. `run` sends the job and collects the output; leaving the `with`
    block (or `run`) kills the process group and removes the working directory."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.workdir = tempfile.mkdtemp(prefix="qwen-lsp-verify-")
        try:
            self.process = subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, cwd=self.workdir, env=env, close_fds=True,
                start_new_session=True)
        except BaseException:
            shutil.rmtree(self.workdir, ignore_errors=True)
            raise

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run(self, stdin: bytes, wall_seconds: float) -> ChildResult:
        result = ChildResult()
        process = self.process
        try:
            out, err = process.communicate(stdin, timeout=wall_seconds)
        except subprocess.TimeoutExpired:
            result.killed = True
            _kill_group(process.pid)
            out, err = process.communicate()
        except BrokenPipeError:  # it died before reading the job
            out, err = process.communicate()
        finally:
            self.close()
        result.returncode = process.returncode
        result.stderr = err.decode("utf-8", "replace")[-2000:]
        for raw in out.decode("utf-8", "replace").splitlines():
            try:
                result.lines.append(json.loads(raw))
            except ValueError:
                continue
        return result

    def close(self) -> None:
        _kill_group(self.process.pid)  # what the child forked dies with it
        if self.process.returncode is None:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)


def start_python() -> Child:
    """Start `_child.py`; it waits for its job on stdin."""
    return Child(_python_command(), {"PYTHONHASHSEED": "0"})


def python_job(job: dict, wall_seconds: float) -> bytes:
    """A job for `_child.py`, with the limits it applies to itself."""
    return pickle.dumps({"memory_bytes": MEMORY_BYTES,
                         "cpu_seconds": max(1, int(wall_seconds) + 1), **job})


def run_python_job(job: dict, wall_seconds: float) -> ChildResult:
    """Run `_child.py` on a job, start to end."""
    with start_python() as child:
        return child.run(python_job(job, wall_seconds), wall_seconds)


def node_path() -> str | None:
    return shutil.which("node")


def start_node(cpu_seconds: float) -> Child:
    """Start `_child.js` under node, limited by prlimit when it exists; it waits for a
    JSON job on stdin."""
    node = node_path()
    if node is None:
        raise FileNotFoundError("node")
    command = [node, "--max-old-space-size=256", "--stack-size=2000", str(CHILD_JS)]
    prlimit = shutil.which("prlimit")
    if prlimit is not None:
        # V8 reserves a large address space up front, so the heap is limited by
        # --max-old-space-size rather than RLIMIT_AS.
        command = [prlimit, f"--cpu={max(1, int(cpu_seconds) + 1)}", "--fsize=0",
                   "--core=0", "--"] + command
    return Child(command, {})


def run_node_job(job: dict, wall_seconds: float) -> ChildResult:
    """Run `_child.js` on a job, start to end."""
    with start_node(wall_seconds) as child:
        return child.run(json.dumps(job).encode("utf-8"), wall_seconds)


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
