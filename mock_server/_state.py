"""State every worker process shares, in one SQLite file: daily quotas, the data set in force
and the server-wide scenario.

Quota spending is one ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` statement: SQLite runs
it under its write lock, so a key with limit L gets exactly L successes however many threads
and processes ask at once. Writers queue on a lock of their own first (a thread lock, then
``flock`` on a file beside the database): SQLite's own busy handler waits by sleeping in
steps of milliseconds, which under load cost more than half the throughput.
"""

from __future__ import annotations

import fcntl
import sqlite3
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import orjson

from mock_server._keys import ApiKey

_DDL: Final = """
CREATE TABLE IF NOT EXISTS usage (key TEXT NOT NULL, day TEXT NOT NULL, used INTEGER NOT NULL,
                                  PRIMARY KEY (key, day));
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value BLOB NOT NULL);
"""
_SPEND: Final = """
INSERT INTO usage (key, day, used) VALUES (?, ?, 1)
ON CONFLICT (key, day) DO UPDATE SET used = used + 1 WHERE used < ?
RETURNING used
"""


@dataclass(frozen=True)
class Quota:
    """The outcome of one request against a key's daily limit."""

    allowed: bool
    limit: int | None
    remaining: int | None
    reset_at: datetime

    def headers(self, now: datetime) -> dict[str, str]:
        """``X-RateLimit-*`` (and ``Retry-After`` when refused): the mock's choice of headers."""
        if self.limit is None:
            return {}
        out = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(int(self.reset_at.timestamp())),
        }
        if not self.allowed:
            out["Retry-After"] = str(max(0, int((self.reset_at - now).total_seconds()) + 1))
        return out


def next_midnight(now: datetime) -> datetime:
    return datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)


class SharedState:
    """The shared state file. One connection per thread; safe across processes."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._local = threading.local()
        self._thread_lock = threading.Lock()
        self._lock_file = open(self.path + ".lock", "a+b")  # noqa: SIM115 (lives as long as the state)
        weakref.finalize(self, self._lock_file.close)
        conn = self._conn()
        conn.execute("PRAGMA page_size = 512")  # small pages: each quota write logs less (new files only)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.executescript(_DDL)

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            conn.execute("PRAGMA synchronous = OFF")
            self._local.conn = conn
        return conn

    @contextmanager
    def _writer(self) -> Iterator[None]:
        """One writer at a time, across threads and processes, woken as soon as it is free."""
        with self._thread_lock:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._lock_file, fcntl.LOCK_UN)

    # -- quotas -----------------------------------------------------------------------------

    def spend(self, key: ApiKey, now: datetime) -> Quota:
        """Count one request against ``key``'s daily limit (UTC days)."""
        reset = next_midnight(now)
        limit = key.daily_limit
        if limit is None:
            return Quota(True, None, None, reset)
        if key.exhausted or limit == 0:
            return Quota(False, limit, 0, reset)
        with self._writer():
            row = self._conn().execute(_SPEND, (key.key, now.date().isoformat(), limit)).fetchone()
        if row is None:
            return Quota(False, limit, 0, reset)
        return Quota(True, limit, limit - int(row[0]), reset)

    def used_today(self, now: datetime) -> dict[str, int]:
        rows = self._conn().execute("SELECT key, used FROM usage WHERE day = ?", (now.date().isoformat(),))
        return {str(k): int(u) for k, u in rows}

    def reset_quotas(self) -> None:
        self._conn().execute("DELETE FROM usage")

    # -- settings shared by all workers -----------------------------------------------------

    def get(self, name: str, default: Any = None) -> Any:
        row = self._conn().execute("SELECT value FROM settings WHERE name = ?", (name,)).fetchone()
        return default if row is None else orjson.loads(row[0])

    def put(self, name: str, value: Any) -> None:
        self._conn().execute(
            "INSERT INTO settings VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, orjson.dumps(value)),
        )

    def put_default(self, name: str, value: Any) -> None:
        """Set ``name`` unless another worker already did."""
        self._conn().execute("INSERT OR IGNORE INTO settings VALUES (?, ?)", (name, orjson.dumps(value)))
