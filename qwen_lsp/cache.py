"""Result cache: content-hash keys, a memory LRU in front of a bounded SQLite file.

The file is private (the directory 0700, the database 0600: it holds the user's code),
bounded by size (least recently used rows go first), and never a reason to fail a
request: a corrupt database is set aside and rebuilt, and any other SQLite trouble turns
the cache into a memory-only one with a single warning.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from cachetools import LRUCache

logger = logging.getLogger(__name__)

DB_NAME = "results.sqlite3"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    size INTEGER NOT NULL,
    created REAL NOT NULL,
    last_used REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS results_last_used ON results (last_used);
"""
_COMPANIONS = ("-journal", "-wal", "-shm")  # SQLite's side files next to the database
_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26
_MAX_PENDING_TOUCHES = 256


def cache_key(**parts: str | int | float | bool | None) -> str:
    """sha256 hex digest of the canonical JSON of ``parts`` (sorted by name).

    Stable across runs and machines; any change of a name, a value or a value's type
    ("1" vs 1) gives another key.
    """
    for name, value in parts.items():
        if value is not None and not isinstance(value, (str, int, float)):
            raise TypeError(f"cache_key part {name!r} must be str, int or float, not {value!r}")
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _is_corruption(exc: sqlite3.Error) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)  # Python >= 3.11
    if code is not None:
        return code & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB)
    text = str(exc).lower()
    return "malformed" in text or "not a database" in text


def _is_busy(exc: sqlite3.Error) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc).lower()


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            with suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


class ResultCache:
    """A memory LRU (``memory_entries`` values) in front of ``directory/results.sqlite3``.

    Values are JSON objects. The database is kept under ``max_bytes`` of JSON: after a
    put that crosses it, the least recently used rows are deleted down to 90 %.
    ``get`` marks rows used in memory and writes those marks at the next ``put``,
    ``clear`` or ``close``, so reading costs no disk write.
    """

    busy_timeout = 1.0  # seconds to wait for another process's write lock

    def __init__(self, directory: Path, max_bytes: int, memory_entries: int = 256) -> None:
        self.directory = Path(directory)
        self.path = self.directory / DB_NAME
        self.max_bytes = max_bytes
        self._memory: LRUCache[str, str] | None = (
            LRUCache(maxsize=memory_entries) if memory_entries > 0 else None
        )
        self._lock = threading.RLock()
        self._touches: dict[str, float] = {}
        self._total = 0
        self._clock = 0.0
        self._conn: sqlite3.Connection | None = self._open()

    # -- public API -------------------------------------------------------------------

    def get(self, key: str) -> dict | None:
        """The value stored under ``key``, or None."""
        with self._lock:
            text = self._memory.get(key) if self._memory is not None else None
            if text is None and self._conn is not None:
                text = self._run(self._db_get, key)
                if text is not None and self._memory is not None:
                    self._memory[key] = text
            if text is None:
                return None
            if self._conn is not None:
                self._touches[key] = self._now()
                if len(self._touches) >= _MAX_PENDING_TOUCHES:
                    self._run(self._flush_touches)
        try:
            value = json.loads(text)
        except ValueError:  # written by something else: treat as a miss
            return None
        return value if isinstance(value, dict) else None

    def put(self, key: str, value: dict) -> None:
        """Store ``value`` (a JSON-serialisable dict) under ``key``."""
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        with self._lock:
            if self._memory is not None:
                self._memory[key] = text
            if self._conn is not None:
                self._run(self._db_put, key, text)

    def clear(self) -> None:
        """Forget everything, in memory and on disk (the file is vacuumed)."""
        with self._lock:
            if self._memory is not None:
                self._memory.clear()
            self._touches.clear()
            if self._conn is None:
                self._conn = self._open()  # a fresh start may heal a broken cache
            if self._conn is not None:
                self._run(self._db_clear)

    def info(self) -> dict[str, Any]:
        """``entries``, ``bytes`` and ``path`` of the store (the memory when degraded)."""
        with self._lock:
            if self._conn is not None:
                counted = self._run(self._db_count)
                if counted is not None:
                    entries, size = counted
                    return {
                        "entries": entries,
                        "bytes": size,
                        "path": str(self.path),
                        "persistent": True,
                    }
            texts = list(self._memory.values()) if self._memory is not None else []
            return {
                "entries": len(texts),
                "bytes": sum(len(t.encode()) for t in texts),
                "path": str(self.path),
                "persistent": False,
            }

    def close(self) -> None:
        """Write pending use marks and close the database (the cache stays usable in memory)."""
        with self._lock:
            if self._conn is not None:
                self._run(self._flush_touches)
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _now(self) -> float:
        """Wall-clock time, strictly increasing per instance (a stable LRU order)."""
        self._clock = max(time.time(), self._clock + 1e-6)
        return self._clock

    # -- opening, corruption, degradation -----------------------------------------------

    def _open(self) -> sqlite3.Connection | None:
        try:
            self._prepare_files()
        except OSError as exc:
            logger.warning(
                "result cache at %s is unusable (%s); caching in memory only", self.path, exc
            )
            return None
        try:
            return self._connect()
        except sqlite3.Error as exc:
            if not _is_corruption(exc):
                logger.warning(
                    "result cache at %s cannot be opened (%s); caching in memory only",
                    self.path,
                    exc,
                )
                return None
            return self._rebuild(exc)

    def _prepare_files(self) -> None:
        if not self.directory.is_dir():
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(self.directory, 0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(fd)
        os.chmod(self.path, 0o600)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False
        )
        try:
            conn.executescript(_SCHEMA)
            # Reads every page of the table's b-tree: a damaged file fails here, not later.
            (self._total,) = conn.execute("SELECT COALESCE(SUM(size), 0) FROM results").fetchone()
        except sqlite3.Error:
            conn.close()
            raise
        return conn

    def _rebuild(self, exc: sqlite3.Error) -> sqlite3.Connection | None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{DB_NAME}.corrupt-{stamp}")
        number = 1
        while aside.exists():
            number += 1
            aside = self.path.with_name(f"{DB_NAME}.corrupt-{stamp}-{number}")
        try:
            os.replace(self.path, aside)
            for suffix in _COMPANIONS:  # a stale journal would be replayed into the new file
                companion = self.path.with_name(DB_NAME + suffix)
                if companion.exists():
                    os.replace(companion, aside.with_name(aside.name + suffix))
            logger.warning(
                "result cache %s is corrupt (%s); moved it to %s and started a new one",
                self.path,
                exc,
                aside,
            )
            self._prepare_files()
            return self._connect()
        except (OSError, sqlite3.Error) as error:
            logger.warning(
                "result cache %s is corrupt (%s) and could not be rebuilt (%s); "
                "caching in memory only",
                self.path,
                exc,
                error,
            )
            return None

    def _run(self, operation: Any, *args: Any) -> Any:
        """Run a database operation; on failure recover or degrade, never raise."""
        try:
            return operation(*args)
        except sqlite3.Error as exc:
            if _is_busy(exc):  # another qwen-lsp holds the lock: skip this once
                logger.debug("result cache %s is busy; skipped one operation", self.path)
                return None
            conn, self._conn = self._conn, None
            self._touches.clear()
            if conn is not None:
                with suppress(sqlite3.Error):
                    conn.close()
            if _is_corruption(exc):
                self._conn = self._rebuild(exc)
            else:
                logger.warning(
                    "result cache %s failed (%s); caching in memory only from now on",
                    self.path,
                    exc,
                )
            return None

    # -- database operations (called under the lock, through _run) ------------------------

    def _require(self) -> sqlite3.Connection:
        if self._conn is None:
            raise sqlite3.OperationalError("result cache database is closed")
        return self._conn

    def _db_get(self, key: str) -> str | None:
        row = self._require().execute("SELECT value FROM results WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def _db_put(self, key: str, text: str) -> None:
        conn = self._require()
        size = len(text.encode("utf-8"))
        if size > self.max_bytes:
            logger.debug("result of %d bytes exceeds the cache size; kept in memory only", size)
            return
        now = self._now()
        with _transaction(conn):
            self._write_touches(conn)
            old = conn.execute("SELECT size FROM results WHERE key = ?", (key,)).fetchone()
            conn.execute(
                "INSERT OR REPLACE INTO results (key, value, size, created, last_used)"
                " VALUES (?, ?, ?, ?, ?)",
                (key, text, size, now, now),
            )
            self._total += size - (old[0] if old else 0)
            if self._total > self.max_bytes:
                (self._total,) = conn.execute(
                    "SELECT COALESCE(SUM(size), 0) FROM results"
                ).fetchone()
                if self._total > self.max_bytes:
                    self._evict(conn, target=int(self.max_bytes * 0.9))

    def _evict(self, conn: sqlite3.Connection, target: int) -> None:
        doomed: list[tuple[str]] = []
        freed = 0
        rows = conn.execute("SELECT key, size FROM results ORDER BY last_used, created")
        for key, size in rows:
            if self._total - freed <= target:
                break
            doomed.append((key,))
            freed += size
        rows.close()
        conn.executemany("DELETE FROM results WHERE key = ?", doomed)
        self._total -= freed
        logger.debug("result cache evicted %d entries (%d bytes)", len(doomed), freed)

    def _write_touches(self, conn: sqlite3.Connection) -> None:
        if self._touches:
            conn.executemany(
                "UPDATE results SET last_used = ? WHERE key = ?",
                [(used, key) for key, used in self._touches.items()],
            )
            self._touches.clear()

    def _flush_touches(self) -> None:
        conn = self._require()
        if self._touches:
            with _transaction(conn):
                self._write_touches(conn)

    def _db_clear(self) -> None:
        conn = self._require()
        conn.execute("DELETE FROM results")
        conn.execute("VACUUM")
        self._total = 0

    def _db_count(self) -> tuple[int, int]:
        entries, size = (
            self._require()
            .execute("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM results")
            .fetchone()
        )
        return entries, size
