import subprocess

import processes
import pytest
from _bench import run


def test_run_python_output():
    assert run(processes.run_python("print('hi')")) == "hi"
    assert run(processes.run_python("print(6 * 7)")) == "42"


def test_run_python_failure_raises():
    with pytest.raises(subprocess.CalledProcessError):
        run(processes.run_python("raise SystemExit(3)"))


def test_run_python_via_async_caller():
    assert run(processes.python_sum(2, 3)) == 5
    assert processes.run_python is not None


def test_exit_status_values():
    assert run(processes.exit_status("pass")) == 0
    assert run(processes.exit_status("raise SystemExit(4)")) == 4
    assert run(processes.exit_status("import sys; sys.exit(1)")) == 1


def test_word_count_values():
    assert run(processes.word_count("a b  c\nd")) == 4
    assert run(processes.word_count("")) == 0


def test_word_count_via_async_caller():
    assert run(processes.total_words(["one two", "three"])) == 3
    assert processes.word_count is not None


def test_env_value_passed():
    assert run(processes.env_value("BENCH_X", "42 apples")) == "42 apples"
    assert run(processes.env_value("BENCH_Y", "")) == ""


def test_succeeded_values():
    assert run(processes.succeeded("pass")) is True
    assert run(processes.succeeded("raise SystemExit(2)")) is False
