import pure
import pytest
from _bench import run


def test_normalize_scores_values():
    assert run(pure.normalize_scores([1, 3, 5])) == [0.0, 0.5, 1.0]
    assert run(pure.normalize_scores([2, 2])) == [0.0, 0.0]
    assert run(pure.normalize_scores([])) == []


def test_merge_counts_adds():
    assert run(pure.merge_counts({"a": 1}, {"a": 2, "b": 1})) == {"a": 3, "b": 1}
    first = {"x": 1}
    run(pure.merge_counts(first, {"x": 5}))
    assert first == {"x": 1}


def test_parse_duration_values():
    assert run(pure.parse_duration("1h30m15s")) == 5415
    assert run(pure.parse_duration("45")) == 45
    assert run(pure.parse_duration("2m")) == 120
    with pytest.raises(ValueError):
        run(pure.parse_duration("1x"))


def test_parse_duration_via_async_caller():
    assert run(pure.durations(["1m", "10s"])) == [60, 10]
    assert pure.parse_duration is not None


def test_chunk_slices():
    assert run(pure.chunk([1, 2, 3, 4, 5], 2)) == [[1, 2], [3, 4], [5]]
    assert run(pure.chunk([], 3)) == []
    with pytest.raises(ValueError):
        run(pure.chunk([1], 0))


def test_chunkcount():
    assert run(pure.chunk_count([1, 2, 3], 2)) == 2
