"""Functions that run child processes with subprocess.run."""

import subprocess
import sys


def run_python(code):
    """Run a snippet in a fresh interpreter; its stdout, stripped."""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    return result.stdout.strip()


def exit_status(code):
    """The exit status of a snippet run in a fresh interpreter."""
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True)
    return completed.returncode


def word_count(text):
    """Count the words of text in a child process reading stdin."""
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; print(len(sys.stdin.read().split()))"],
        input=text, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr)
    return int(proc.stdout)


def env_value(name, value):
    """What a child process sees as environment variable `name` when we set it."""
    import os

    env = dict(os.environ)
    env[name] = value
    out = subprocess.run([sys.executable, "-c", f"import os; print(os.environ[{name!r}])"],
                         env=env, capture_output=True, text=True, check=True)
    return out.stdout.rstrip("\n")


async def total_words(texts):
    total = 0
    for text in texts:
        total += word_count(text)
    return total


async def python_sum(a, b):
    return int(run_python(f"print({a} + {b})"))


def succeeded(code):
    return exit_status(code) == 0
