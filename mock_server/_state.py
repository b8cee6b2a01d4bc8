"""State every worker process shares: daily quotas, the data set in force and the server-wide
scenario.

Settings live in a small SQLite file. Quota counts live beside it, in a memory-mapped file
with a row of counters per key, one counter per process (see :class:`_Counters`); SQLite only
records which row is whose. A request far from its key's limit is counted with no lock, and the
last requests before the limit one at a time, so a key with limit L gets exactly L successes
however many threads and processes ask at once.

Earlier designs, a SQLite write transaction per request and then one shared counter per key
under ``flock``, cost a limited key far more of its throughput (``bench/README.md``).
"""

from __future__ import annotations

import fcntl
import functools
import mmap
import os
import sqlite3
import threading
import weakref
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final, NamedTuple

import orjson

from mock_server import _tally
from mock_server._keys import ApiKey

_DDL: Final = """
CREATE TABLE IF NOT EXISTS quota_slots (key TEXT PRIMARY KEY, slot INTEGER NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value BLOB NOT NULL);
"""
_SHARDS: Final = 64  # instances that can count in one file at once (the most --workers allows)
_ROW_BYTES: Final = _SHARDS * 8
_GROW_BYTES: Final = 256 * _ROW_BYTES  # the counters file grows 256 keys at a time
# A word of a key's row: the stamp (UTC day as a date ordinal, then the number of the last
# quota reset, modulo 256) above 36 bits of count. The header row: these words, then unused.
_COUNT_BITS: Final = _tally.COUNT_BITS  # 36, defined where the words are added and summed
_RESET_BITS: Final = 8
_RESET_MASK: Final = (1 << _RESET_BITS) - 1
# The header row's words: quota resets so far; shards ever claimed; changes to the settings.
_RESETS, _SHARDS_USED, _SETTINGS_CHANGES = 0, 1, 2


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
    """The memory-mapped file of quota counts: a header row, then one row of words per key.

    Each word of a row belongs to one instance, its *shard* (claimed with a lock file, so that
    it dies with its process), and only that instance writes it: ``stamp << 36 | count``, where
    the stamp says which UTC day and which quota reset the count belongs to; a word with another
    stamp counts 0. A key's count is the sum of its row. To spend, an instance adds one to its
    own word first and then sums the row (taking the one back if that is over the limit), so
    of two concurrent spenders the later one sees the earlier: the count never passes the
    limit. Far from the limit (at least ``_SHARDS`` below it) that is all, in one call of
    ``_tally.add`` (C: the adding and summing in Python were most of what a limited key cost)
    with no lock at all. Near it, a request could be refused for a request that another thread
    or process has added and is about to take back, so the last ``_SHARDS`` requests of a key's
    day are spent one at a time under ``flock``: a key with limit L gets exactly L successes
    however many threads and processes ask at once. (Linux's ``percpu_counter`` compares with a
    limit the same way.) ``with counters:`` holds a thread lock and the ``flock``.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        weakref.finalize(self, os.close, self._fd)
        self._thread_lock = threading.Lock()
        self._words: memoryview | None = None
        self._shard, self._shard_fd = self._claim_shard()
        weakref.finalize(self, os.close, self._shard_fd)
        _ALL.add(self)

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

    def _claim_shard(self) -> tuple[int, int]:
        """The first shard no live instance holds, and the file descriptor that holds it."""
        for shard in range(_SHARDS):
            fd = os.open(f"{self.path}.shard{shard}", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            with self:
                words = self.grow(0)
                words[_SHARDS_USED] = max(words[_SHARDS_USED], shard + 1)
            return shard, fd
        raise RuntimeError(f"{_SHARDS} processes already count quotas in {self.path}: use fewer workers")

    def _after_fork(self) -> None:
        """A forked child shares its parent's open files, and so their locks: it opens its own,
        and takes a shard of its own, under the same file descriptor numbers."""
        self._thread_lock = threading.Lock()
        _replace_fd(self._fd, os.open(self.path, os.O_RDWR))
        self._shard, fd = self._claim_shard()
        _replace_fd(self._shard_fd, fd)

    def grow(self, slot: int) -> memoryview:
        """The words, the file grown first to hold ``slot``'s row (under the lock)."""
        need = (slot + 2) * _ROW_BYTES
        if os.fstat(self._fd).st_size < need:
            os.ftruncate(self._fd, -(-need // _GROW_BYTES) * _GROW_BYTES)  # new words read 0: unused
        return self._view(slot)

    def _view(self, slot: int) -> memoryview:
        """The words, mapped again if ``slot``'s row lies beyond the mapping (the file grew). An
        older mapping stays valid for whoever still reads it, and is unmapped with its last
        reference."""
        words = self._words
        if words is None or len(words) < (slot + 2) * _SHARDS:
            words = self._words = memoryview(mmap.mmap(self._fd, os.fstat(self._fd).st_size)).cast("Q")
        return words

    def _add(self, slot: int, day: int, n: int) -> int:
        """Add ``n`` to this instance's count of ``slot`` on ``day``: the slot's count after it.
        (A ``-1`` only takes back a ``+1`` of the same day.) Threads need no lock for it."""
        row = (slot + 1) * _SHARDS
        words = self._view(slot)
        stamp = (day << _RESET_BITS | words[_RESETS] & _RESET_MASK) << _COUNT_BITS
        return _tally.add(words, row, words[_SHARDS_USED], row + self._shard, stamp, n)

    def spend(self, slot: int, day: int, limit: int) -> int | None:
        """Count one request in ``slot`` if it has fewer than ``limit`` on ``day``: the new count."""
        used = self._add(slot, day, 1)
        if used <= limit - _SHARDS:
            return used
        self._add(slot, day, -1)
        with self:  # near the limit: one spender at a time
            used = self._add(slot, day, 1)
            if used <= limit:
                return used
            self._add(slot, day, -1)
            return None

    def used(self, slot: int, day: int) -> int:
        return self._add(slot, day, 0)  # rewrites the own word as it was

    @property
    def settings_changes(self) -> int:
        """How many times :class:`SharedState`'s settings changed: one read, no lock."""
        assert self._words is not None  # mapped since the shard was claimed
        return int(self._words[_SETTINGS_CHANGES])

    def settings_changed(self) -> None:
        with self:
            self._view(0)[_SETTINGS_CHANGES] += 1

    def clear(self) -> None:
        """Every count back to 0 (under the lock). A request counted at this very moment by a
        process that read the old reset number counts in the old reset, not this one."""
        words = self._view(os.fstat(self._fd).st_size // _ROW_BYTES - 2)
        words[_RESETS] += 1
        words[_SHARDS:] = memoryview(bytes((len(words) - _SHARDS) * 8)).cast("Q")


_ALL: Final[weakref.WeakSet[_Counters]] = weakref.WeakSet()


def _replace_fd(old: int, new: int) -> None:
    """Make ``old`` refer to what ``new`` does (closing what it referred to), and close ``new``."""
    os.dup2(new, old, inheritable=False)
    os.close(new)


def _after_fork_in_child() -> None:
    for counters in list(_ALL):
        counters._after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)


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
            with self._counters:  # slots are numbered in order, and the file grows: one giver at a time
                conn.execute(
                    "INSERT OR IGNORE INTO quota_slots VALUES (?, (SELECT count(*) FROM quota_slots))", (key,)
                )
                row = conn.execute("SELECT slot FROM quota_slots WHERE key = ?", (key,)).fetchone()
                self._counters.grow(int(row[0]))
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
        self._counters.settings_changed()

    def put_default(self, name: str, value: Any) -> None:
        """Set ``name`` unless another worker already did."""
        cursor = self._conn().execute(
            "INSERT OR IGNORE INTO settings VALUES (?, ?)", (name, orjson.dumps(value))
        )
        if cursor.rowcount:
            self._counters.settings_changed()

    @property
    def version(self) -> int:
        """A number that changes whenever a setting does (after the change is readable): cheap
        enough to ask on every request, where :meth:`get` is a query."""
        return self._counters.settings_changes
