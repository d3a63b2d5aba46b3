import pytest
import sleeping
from _bench import run


def test_retry_call_returns_first_success():
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 3:
            raise ValueError("not yet")
        return "ok"

    assert run(sleeping.retry_call(flaky, attempts=3, delay=0)) == "ok"
    assert len(calls) == 3


def test_retry_call_reraises_last_error():
    def broken():
        raise KeyError("nope")

    with pytest.raises(KeyError):
        run(sleeping.retry_call(broken, attempts=2, delay=0))


def test_retry_call_single_attempt():
    assert run(sleeping.retry_call(lambda: 5, attempts=1)) == 5


def test_countdown_values():
    assert run(sleeping.countdown(3)) == [3, 2, 1]
    assert run(sleeping.countdown(0)) == []
    assert run(sleeping.countdown(1, delay=0)) == [1]


def test_countdown_via_async_caller():
    assert run(sleeping.countdowns([2, 0, 1])) == [[2, 1], [], [1]]
    assert sleeping.countdown is not None


def test_wait_until_true_later():
    state = {"n": 0}

    def ready():
        state["n"] += 1
        return state["n"] >= 3

    assert run(sleeping.wait_until(ready, timeout=1, interval=0.001)) is True
    assert state["n"] == 3


def test_wait_until_times_out():
    assert run(sleeping.wait_until(lambda: False, timeout=0.02, interval=0.005)) is False


def test_throttled_map_results():
    assert run(sleeping.throttled_map(str.upper, ["a", "b"])) == ["A", "B"]
    assert run(sleeping.throttled_map(len, [])) == []


def test_throttled_map_via_async_caller():
    assert run(sleeping.squares_slowly([1, 2, 3])) == [1, 4, 9]
    assert sleeping.throttled_map is not None


def test_countdowntext():
    assert run(sleeping.countdown_text(3)) == "3, 2, 1"
    assert run(sleeping.countdown_text(0)) == ""
