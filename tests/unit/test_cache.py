"""Result cache: stable keys, memory LRU + SQLite, size bound, privacy, corruption, degradation."""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from qwen_lsp.cache import DB_NAME, ResultCache, cache_key

BIG = "x" * 1000  # ~1 KB of JSON per value in the size tests


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _corrupt_copies(directory: Path) -> list[Path]:
    return sorted(directory.glob(f"{DB_NAME}.corrupt-*"))


# -- cache_key --------------------------------------------------------------------------


def test_key_is_a_sha256_hex_digest_independent_of_argument_order() -> None:
    key = cache_key(action="explain", code="def f(): pass", model="qwen", temperature=0.0)
    assert len(key) == 64 and int(key, 16) >= 0
    assert key == cache_key(temperature=0.0, model="qwen", code="def f(): pass", action="explain")


def test_key_changes_when_any_part_changes() -> None:
    base = {"action": "refactor", "code": "x = 1\n", "max_tokens": 768, "temperature": 0.0}
    keys = {cache_key(**base)}
    for name, other in [
        ("action", "explain"),
        ("code", "x = 2\n"),
        ("code", "x = 1"),
        ("max_tokens", 769),
        ("max_tokens", "768"),  # same text, other type
        ("temperature", 0.1),
    ]:
        keys.add(cache_key(**{**base, name: other}))
    keys.add(cache_key(**base, extra=""))
    keys.add(cache_key(**{k: v for k, v in base.items() if k != "temperature"}))
    keys.add(cache_key(actio="nrefactor", code="x = 1\n", max_tokens=768, temperature=0.0))
    assert len(keys) == 10


def test_key_is_stable_across_processes() -> None:
    parts = {"code": "print('é中😀')", "n": 3, "t": 0.25}
    script = f"from qwen_lsp.cache import cache_key; print(cache_key(**{parts!r}))"
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        "PYTHONHASHSEED": "12345",
    }
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, check=True, capture_output=True, text=True
    )
    assert out.stdout.strip() == cache_key(**parts)
    # pinned: a change of the canonical form would silently orphan every cached result
    canonical = '{"a":"x","b":1,"c":"é"}'.encode()
    assert cache_key(c="é", b=1, a="x") == hashlib.sha256(canonical).hexdigest()


def test_key_rejects_non_scalar_parts() -> None:
    with pytest.raises(TypeError, match="code"):
        cache_key(code=["not", "a", "scalar"])  # type: ignore[arg-type]


# -- ResultCache: basics ---------------------------------------------------------------------


def test_put_then_get_round_trips_json(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path / "c", max_bytes=1_000_000)
    value = {"text": "def f():\n    return '中文😀'\n", "tokens": 12, "ok": True, "parts": [1, 2]}
    cache.put("k1", value)
    assert cache.get("k1") == value
    assert cache.get("missing") is None


def test_returned_values_are_copies(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path / "c", max_bytes=1_000_000)
    cache.put("k", {"a": [1]})
    cache.get("k")["a"].append(2)  # type: ignore[index]
    assert cache.get("k") == {"a": [1]}


def test_values_survive_a_new_instance(tmp_path: Path) -> None:
    first = ResultCache(tmp_path / "c", max_bytes=1_000_000)
    first.put("k", {"answer": "é"})
    first.put("k", {"answer": "replaced"})
    second = ResultCache(tmp_path / "c", max_bytes=1_000_000)
    assert second.get("k") == {"answer": "replaced"}
    assert second.info()["entries"] == 1


def test_memory_lru_is_bounded_but_the_database_still_answers(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path / "c", max_bytes=1_000_000, memory_entries=2)
    for i in range(5):
        cache.put(f"k{i}", {"i": i})
    assert len(cache._memory or {}) == 2
    assert [cache.get(f"k{i}") for i in range(5)] == [{"i": i} for i in range(5)]


def test_memory_entries_zero_means_no_memory_layer(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path / "c", max_bytes=1_000_000, memory_entries=0)
    cache.put("k", {"a": 1})
    assert cache.get("k") == {"a": 1}


def test_info_reports_entries_bytes_and_path(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path / "c", max_bytes=1_000_000)
    assert cache.info()["entries"] == 0 and cache.info()["bytes"] == 0
    cache.put("a", {"v": "12345"})
    cache.put("b", {"v": "é"})
    info = cache.info()
    assert info["entries"] == 2
    assert info["bytes"] == len('{"v":"12345"}') + len('{"v":"é"}'.encode())
    assert info["path"] == str(tmp_path / "c" / DB_NAME)


def test_clear_empties_memory_and_database(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path / "c", max_bytes=10_000_000)
    for i in range(200):
        cache.put(f"k{i}", {"v": BIG})
    size_before = (tmp_path / "c" / DB_NAME).stat().st_size
    cache.clear()
    assert cache.get("k1") is None
    assert cache.info()["entries"] == 0 and cache.info()["bytes"] == 0
    assert (tmp_path / "c" / DB_NAME).stat().st_size < size_before  # vacuumed
    assert ResultCache(tmp_path / "c", max_bytes=10_000_000).get("k1") is None
    cache.put("again", {"v": 1})
    assert cache.get("again") == {"v": 1}


# -- size bound ------------------------------------------------------------------------------


def test_database_stays_under_max_bytes_evicting_least_recently_used(tmp_path: Path) -> None:
    max_bytes = 10_000
    cache = ResultCache(tmp_path / "c", max_bytes=max_bytes, memory_entries=1)
    for i in range(8):
        cache.put(f"k{i}", {"v": BIG})
    assert cache.get("k0") is not None  # k0 is now recently used
    for i in range(8, 12):
        cache.put(f"k{i}", {"v": BIG})
    info = cache.info()
    assert info["bytes"] <= max_bytes
    reopened = ResultCache(tmp_path / "c", max_bytes=max_bytes, memory_entries=1)
    present = {f"k{i}" for i in range(12) if reopened.get(f"k{i}") is not None}
    assert "k0" in present and "k11" in present
    assert "k1" not in present and "k2" not in present  # the least recently used went first
    assert len(present) == info["entries"]


def test_eviction_goes_down_to_ninety_percent(tmp_path: Path) -> None:
    max_bytes = 10_000
    cache = ResultCache(tmp_path / "c", max_bytes=max_bytes)
    for i in range(9):
        cache.put(f"k{i}", {"v": BIG})  # 9 x 1008 bytes: under the bound
    assert cache.info()["entries"] == 9
    cache.put("k9", {"v": BIG})  # crosses 10,000 -> down to <= 9,000
    assert cache.info()["bytes"] <= 0.9 * max_bytes
    assert cache.info()["entries"] == 8


def test_a_value_larger_than_the_bound_is_kept_in_memory_only(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path / "c", max_bytes=500)
    cache.put("small", {"v": "x"})
    cache.put("huge", {"v": BIG})
    assert cache.get("huge") == {"v": BIG}
    assert cache.info()["entries"] == 1


# -- privacy ---------------------------------------------------------------------------------


def test_directory_is_0700_and_database_0600(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        cache = ResultCache(tmp_path / "new" / "cache", max_bytes=1_000_000)
        cache.put("k", {"v": 1})
    finally:
        os.umask(old_umask)
    assert _mode(tmp_path / "new" / "cache") == 0o700
    assert _mode(tmp_path / "new" / "cache" / DB_NAME) == 0o600


def test_an_existing_database_with_loose_permissions_is_tightened(tmp_path: Path) -> None:
    ResultCache(tmp_path / "c", max_bytes=1_000_000).put("k", {"v": 1})
    db = tmp_path / "c" / DB_NAME
    os.chmod(db, 0o644)
    cache = ResultCache(tmp_path / "c", max_bytes=1_000_000)
    assert _mode(db) == 0o600
    assert cache.get("k") == {"v": 1}


# -- corruption and failures -----------------------------------------------------------------


def test_garbage_at_the_database_path_is_set_aside_and_rebuilt(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = tmp_path / "c"
    directory.mkdir()
    garbage = b"this is not an SQLite database\n" * 200
    (directory / DB_NAME).write_bytes(garbage)
    with caplog.at_level(logging.WARNING, logger="qwen_lsp.cache"):
        cache = ResultCache(directory, max_bytes=1_000_000)
    (aside,) = _corrupt_copies(directory)
    assert aside.read_bytes() == garbage
    warning = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert str(directory / DB_NAME) in warning and str(aside) in warning
    cache.put("k", {"v": 1})
    assert ResultCache(directory, max_bytes=1_000_000).get("k") == {"v": 1}
    assert _mode(directory / DB_NAME) == 0o600


def _filled_database(directory: Path, entries: int = 300) -> Path:
    cache = ResultCache(directory, max_bytes=10_000_000)
    for i in range(entries):
        cache.put(f"k{i}", {"v": BIG, "i": i})
    cache.close()
    return directory / DB_NAME


def test_a_truncated_database_is_set_aside_and_rebuilt(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = _filled_database(tmp_path / "c")
    with open(db, "r+b") as handle:
        handle.truncate(db.stat().st_size // 2)
    with caplog.at_level(logging.WARNING, logger="qwen_lsp.cache"):
        cache = ResultCache(tmp_path / "c", max_bytes=10_000_000)
    assert len(_corrupt_copies(tmp_path / "c")) == 1
    assert any("corrupt" in r.getMessage() for r in caplog.records)
    assert cache.info()["entries"] == 0
    cache.put("k", {"v": "fresh"})
    assert cache.get("k") == {"v": "fresh"}


def test_overwritten_pages_are_detected_at_open(tmp_path: Path) -> None:
    db = _filled_database(tmp_path / "c")
    data = bytearray(db.read_bytes())
    data[4096:12288] = bytes(range(256)) * 32  # pages 2-3: the table and index roots
    db.write_bytes(bytes(data))
    cache = ResultCache(tmp_path / "c", max_bytes=10_000_000)
    assert len(_corrupt_copies(tmp_path / "c")) == 1
    cache.put("k", {"v": 1})
    assert cache.get("k") == {"v": 1}


def test_corruption_found_while_running_is_recovered_without_an_exception(
    tmp_path: Path,
) -> None:
    db = _filled_database(tmp_path / "c")
    cache = ResultCache(tmp_path / "c", max_bytes=10_000_000, memory_entries=1)
    data = bytearray(db.read_bytes())
    data[4096 * 4 : len(data)] = b"\xa5" * (len(data) - 4096 * 4)  # leaf pages
    db.write_bytes(bytes(data))
    for i in range(300):  # every read must answer something, never raise
        assert cache.get(f"k{i}") in (None, {"v": BIG, "i": i})
    assert len(_corrupt_copies(tmp_path / "c")) == 1
    cache.put("after", {"v": 2})
    assert cache.get("after") == {"v": 2}


def test_a_stale_journal_does_not_leak_into_the_rebuilt_database(tmp_path: Path) -> None:
    directory = tmp_path / "c"
    directory.mkdir()
    (directory / DB_NAME).write_bytes(b"garbage" * 100)
    (directory / f"{DB_NAME}-journal").write_bytes(b"stale journal" * 100)
    cache = ResultCache(directory, max_bytes=1_000_000)
    cache.put("k", {"v": 1})
    assert cache.get("k") == {"v": 1}
    assert not (directory / f"{DB_NAME}-journal").exists()  # SQLite dropped it or we moved it
    assert ResultCache(directory, max_bytes=1_000_000).get("k") == {"v": 1}


def test_sqlite_errors_degrade_to_memory_only_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = ResultCache(tmp_path / "c", max_bytes=1_000_000, memory_entries=8)
    cache.put("before", {"v": 0})
    other = sqlite3.connect(tmp_path / "c" / DB_NAME)
    other.execute("DROP TABLE results")
    other.commit()
    other.close()
    with caplog.at_level(logging.WARNING, logger="qwen_lsp.cache"):
        cache.put("a", {"v": 1})
        cache.put("b", {"v": 2})
        assert cache.get("missing") is None
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "memory only" in warnings[0].getMessage()
    assert cache.get("a") == {"v": 1} and cache.get("before") == {"v": 0}
    assert cache.info()["persistent"] is False and cache.info()["entries"] == 3


def test_an_unusable_directory_means_memory_only_not_a_crash(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache directory should be")
    with caplog.at_level(logging.WARNING, logger="qwen_lsp.cache"):
        cache = ResultCache(blocker, max_bytes=1_000_000)
    assert any("memory only" in r.getMessage() for r in caplog.records)
    cache.put("k", {"v": 1})
    assert cache.get("k") == {"v": 1}
    cache.clear()
    assert cache.get("k") is None


def test_a_locked_database_skips_the_write_but_keeps_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ResultCache, "busy_timeout", 0.05)
    cache = ResultCache(tmp_path / "c", max_bytes=1_000_000, memory_entries=8)
    other = sqlite3.connect(tmp_path / "c" / DB_NAME, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        cache.put("k", {"v": 1})
        assert cache.get("k") == {"v": 1}  # from memory
    finally:
        other.execute("ROLLBACK")
        other.close()
    cache.put("k2", {"v": 2})
    assert cache.info()["persistent"] is True
    assert ResultCache(tmp_path / "c", max_bytes=1_000_000).get("k2") == {"v": 2}
