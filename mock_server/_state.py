"""State every worker process shares: daily quotas, the data set in force and the server-wide
scenario.

Settings live in a small SQLite file. Quota counts live beside it, in a memory-mapped file of
16-byte slots (UTC day, requests that day), one per key; SQLite only records which slot is
whose. Spending a request is a read and a write of one slot under an exclusive lock (a thread
lock, then ``flock`` on the file), so a key with limit L gets exactly L successes however many
threads and processes ask at once, and the lock is held only for those few steps. The first
design, a SQLite write transaction per request, added about 22 µs per request of a limited key
(``bench/hot_path.py``) and held a cross-process lock all that time; this one adds about 3 µs.
"""

from __future__ import annotations

import fcntl
import functools
import mmap
import os
import sqlite3
import struct
import threading
import weakref
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final, NamedTuple

import orjson

from mock_server._keys import ApiKey

_DDL: Final = """
CREATE TABLE IF NOT EXISTS quota_slots (key TEXT PRIMARY KEY, slot INTEGER NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value BLOB NOT NULL);
"""
_SLOT: Final = struct.Struct("<qq")  # (UTC day as a date ordinal, requests counted that day)
_GROW: Final = 1024  # slots added at a time to the counters file


class Quota(NamedTuple):
    """The outcome of one request against a key's daily limit (``day``: a UTC date ordinal)."""

    allowed: bool
    limit: int | None
    remaining: int | None
    day: int

    @property
    def reset_at(self) -> datetime:
        """When the day's count starts afresh: the next UTC midnight."""
        return _midnight_after(self.day)

    def headers(self, now: datetime) -> dict[str, str]:
        """``X-RateLimit-*`` (and ``Retry-After`` when refused): the mock's choice of headers."""
        if self.limit is None:
            return {}
        out = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": _reset_header(self.day),
        }
        if not self.allowed:
            out["Retry-After"] = str(max(0, int((self.reset_at - now).total_seconds()) + 1))
        return out


@functools.lru_cache(maxsize=4)
def _midnight_after(day: int) -> datetime:
    return datetime.combine(date.fromordinal(day + 1), datetime.min.time(), tzinfo=UTC)


@functools.lru_cache(maxsize=4)
def _reset_header(day: int) -> str:
    return str(int(_midnight_after(day).timestamp()))


def next_midnight(now: datetime) -> datetime:
    return _midnight_after(now.toordinal())


class _Counters:
    """The memory-mapped file of quota slots. Read and written only under its lock: ``with
    counters:`` holds it, one holder at a time across threads and processes (a plain context
    manager, not a generator: spending a request takes it)."""

    def __init__(self, path: str) -> None:
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        weakref.finalize(self, os.close, self._fd)
        self._thread_lock = threading.Lock()
        self._map: mmap.mmap | None = None

    def __enter__(self) -> None:
        self._thread_lock.acquire()
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._thread_lock.release()
            raise

    def __exit__(self, *exc: object) -> None:
        try:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()

    def _view(self, slots: int) -> mmap.mmap:
        """The mapping, grown (file and map) to hold at least ``slots`` slots."""
        need = slots * _SLOT.size
        if self._map is None or len(self._map) < need:
            size = os.fstat(self._fd).st_size
            if size < need:
                size = -(-slots // _GROW) * _GROW * _SLOT.size
                os.ftruncate(self._fd, size)  # new bytes read as zeros: day 0, none used
            if self._map is not None:
                self._map.close()
            self._map = mmap.mmap(self._fd, size)
        return self._map

    def spend(self, slot: int, day: int, limit: int) -> int | None:
        """Count one request in ``slot`` if it has fewer than ``limit`` on ``day``: the new count."""
        offset = slot * _SLOT.size
        with self:
            view = self._view(slot + 1)
            counted_day, used = _SLOT.unpack_from(view, offset)
            if counted_day != day:
                used = 0
            if used >= limit:
                return None
            _SLOT.pack_into(view, offset, day, used + 1)
            return int(used) + 1

    def used(self, slot: int, day: int) -> int:
        counted_day, used = _SLOT.unpack_from(self._view(slot + 1), slot * _SLOT.size)
        return int(used) if counted_day == day else 0

    def clear(self) -> None:
        size = os.fstat(self._fd).st_size
        if size:
            self._view(size // _SLOT.size)[:size] = bytes(size)


class SharedState:
    """The shared state files. One SQLite connection per thread; safe across processes."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._local = threading.local()
        self._counters = _Counters(self.path + ".counts")
        self._slots: dict[str, int] = {}
        conn = self._conn()
        conn.execute("PRAGMA journal_mode = WAL")
        conn.executescript(_DDL)

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            conn.execute("PRAGMA synchronous = OFF")
            self._local.conn = conn
        return conn

    # -- quotas -----------------------------------------------------------------------------

    def _slot(self, key: str) -> int:
        """The counter slot of ``key``, given out once per state file."""
        slot = self._slots.get(key)
        if slot is None:
            conn = self._conn()
            with self._counters:  # slots are numbered in order: one giver at a time
                conn.execute(
                    "INSERT OR IGNORE INTO quota_slots VALUES (?, (SELECT count(*) FROM quota_slots))", (key,)
                )
            row = conn.execute("SELECT slot FROM quota_slots WHERE key = ?", (key,)).fetchone()
            slot = self._slots[key] = int(row[0])
        return slot

    def spend(self, key: ApiKey, now: datetime) -> Quota:
        """Count one request against ``key``'s daily limit (UTC days)."""
        day = now.toordinal()
        limit = key.daily_limit
        if limit is None:
            return Quota(True, None, None, day)
        if key.exhausted or limit == 0:
            return Quota(False, limit, 0, day)
        used = self._counters.spend(self._slot(key.key), day, limit)
        if used is None:
            return Quota(False, limit, 0, day)
        return Quota(True, limit, limit - used, day)

    def used_today(self, now: datetime) -> dict[str, int]:
        """Requests counted today, per key that has ever been counted."""
        slots = self._conn().execute("SELECT key, slot FROM quota_slots").fetchall()
        with self._counters:
            return {str(k): self._counters.used(int(s), now.toordinal()) for k, s in slots}

    def reset_quotas(self) -> None:
        with self._counters:
            self._counters.clear()

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
