"""State shared by the worker processes of one host: files in a directory, settings in SQLite
and quota counts in a memory-mapped file (``rotor-mock serve --workers N``)."""

from __future__ import annotations

import hashlib
import mmap
import os
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Final

import orjson

from rotor_leads.mock_server.engine.state import _filelock
from rotor_leads.mock_server.engine.state._base import SharedState, StateError

COUNT_BITS: Final = 36  # a counter word: stamp << COUNT_BITS | count (as in _tally.c)
COUNT_MASK: Final = (1 << COUNT_BITS) - 1
_RESET_BITS: Final = 8
_RESET_MASK: Final = (1 << _RESET_BITS) - 1

#: The optional C accelerator (engine/state/_tally.c): one atomic add, no lock; ``None`` where the
#: package was installed without a C compiler, or with ROTOR_MOCK_PURE_PYTHON=1 (to measure what
#: such an install gets, as ``make bench`` does).
accelerated_add: Callable[[memoryview, int, int, int], int] | None
try:
    if os.environ.get("ROTOR_MOCK_PURE_PYTHON"):
        raise ImportError("ROTOR_MOCK_PURE_PYTHON is set")
    from rotor_leads.mock_server.engine.state import _tally

    assert _tally.COUNT_BITS == COUNT_BITS, "engine/state/_tally.c and _local.py disagree"
    accelerated_add = _tally.add
except ImportError:
    accelerated_add = None


#: The counters file's header: words before the keys' words.
_RESETS, _SETTINGS_CHANGES, _HEADER_WORDS = 0, 1, 8
_GROW_WORDS: Final = 512  # the counters file grows 512 keys at a time


_UPSERT: Final = "INSERT INTO settings VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value"


class LocalState(SharedState):
    """State shared by the processes of one host, in the directory ``root``:

    * ``settings.sqlite`` — settings, and which word of the counters file counts which key
      (keys are stored as a hash, never as they are);
    * ``counts`` — 64-bit words, memory-mapped by every process: a header (the number of quota
      resets, the number of settings changes), then one word per key: ``stamp << 36 | count``,
      where the stamp is the UTC day and the reset number.
    * ``lock`` — a file lock, for growing the files and (without the C accelerator) counting.

    With the C accelerator a request is counted by one atomic compare-and-swap on its key's
    word; without it, under the file lock. The files are written out (not left sparse) when
    they grow, so that a full disk is an error then, never a crash when a word is written.

    Raises :class:`StateError` if the directory cannot hold the files.
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self._lock_file = open(self.root / "lock", "a+b")  # noqa: SIM115 (closed in close())
            self._lock_fd = self._lock_file.fileno()
            self._fd = os.open(self.root / "counts", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StateError(f"cannot keep the mock's state in {self.root}: {exc.strerror}") from None
        # The files close with the object if close() is never called (a test's app, say).
        self._release = weakref.finalize(self, _release, self._fd, self._lock_file)
        self._thread_lock = threading.Lock()
        self._local = threading.local()
        self._words: memoryview | None = None
        self._slots: dict[str, int] = {}
        try:
            with self._locked():
                conn = self._conn()
                conn.execute("PRAGMA journal_mode = WAL")
                conn.executescript(
                    "CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value BLOB NOT NULL);"
                    "CREATE TABLE IF NOT EXISTS slots"
                    " (key_hash TEXT PRIMARY KEY, slot INTEGER NOT NULL UNIQUE);"
                )
                self._grow(0)
        except (OSError, sqlite3.Error) as exc:
            self.close()
            raise StateError(f"cannot keep the mock's state in {self.root}: {_reason(exc)}") from None

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.root / "settings.sqlite", isolation_level=None, timeout=30)
            conn.execute("PRAGMA synchronous = NORMAL")
            self._local.conn = conn
        return conn

    class _Held:
        def __init__(self, state: LocalState) -> None:
            self.state = state

        def __enter__(self) -> None:
            self.state._thread_lock.acquire()
            try:
                _filelock.lock(self.state._lock_fd)
            except BaseException:
                self.state._thread_lock.release()
                raise

        def __exit__(self, *exc: object) -> None:
            try:
                _filelock.unlock(self.state._lock_fd)
            finally:
                self.state._thread_lock.release()

    def _locked(self) -> LocalState._Held:
        """The thread lock, then the file lock: one process and one thread at a time."""
        return LocalState._Held(self)

    def _grow(self, slots: int) -> memoryview:
        """The words, the file first grown (with zeros actually written) to hold ``slots`` key
        words. Under the lock."""
        need = (_HEADER_WORDS + slots) * 8
        size = os.fstat(self._fd).st_size
        if size < need:
            target = -(-need // (_GROW_WORDS * 8)) * (_GROW_WORDS * 8)
            zeros = bytes(target - size)
            if os.pwrite(self._fd, zeros, size) != len(zeros):
                raise OSError(28, "no space left on device")
            os.fsync(self._fd)
        return self._view(need)

    def _view(self, need: int) -> memoryview:
        """The words, mapped again if the file grew past the mapping. An older mapping stays
        valid for whoever still reads it."""
        words = self._words
        if words is None or len(words) * 8 < need:
            words = self._words = memoryview(mmap.mmap(self._fd, os.fstat(self._fd).st_size)).cast("Q")
        return words

    # -- settings ---------------------------------------------------------------------------

    @property
    def version(self) -> int:
        assert self._words is not None  # mapped in __init__
        return int(self._words[_SETTINGS_CHANGES])

    def _changed(self) -> None:
        with self._locked():
            words = self._view(_HEADER_WORDS * 8)
            words[_SETTINGS_CHANGES] += 1  # a word written at start: never a page fault on a full disk

    def get(self, name: str, default: Any = None) -> Any:
        row = self._conn().execute("SELECT value FROM settings WHERE name = ?", (name,)).fetchone()
        return default if row is None else orjson.loads(row[0])

    def put(self, name: str, value: Any) -> None:
        self._write(_UPSERT, (name, orjson.dumps(value)))
        self._changed()

    def put_default(self, name: str, value: Any) -> bool:
        cursor = self._write("INSERT OR IGNORE INTO settings VALUES (?, ?)", (name, orjson.dumps(value)))
        if cursor.rowcount:
            self._changed()
        return bool(cursor.rowcount)

    def update_many(self, changes: Mapping[str, Callable[[Any], Any]]) -> dict[str, Any]:
        conn = self._conn()
        try:
            return self._update(conn, changes)
        except sqlite3.OperationalError as exc:
            raise StateError(f"cannot write the mock's state in {self.root}: {_reason(exc)}") from None

    def _update(
        self, conn: sqlite3.Connection, changes: Mapping[str, Callable[[Any], Any]]
    ) -> dict[str, Any]:
        values = {}
        try:
            conn.execute("BEGIN IMMEDIATE")  # the write lock first: no other change in between
            for name, change in changes.items():
                row = conn.execute("SELECT value FROM settings WHERE name = ?", (name,)).fetchone()
                values[name] = change(None if row is None else orjson.loads(row[0]))
                conn.execute(_UPSERT, (name, orjson.dumps(values[name])))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        self._changed()
        return values

    def _write(self, sql: str, params: tuple[Any, ...]) -> sqlite3.Cursor:
        try:
            return self._conn().execute(sql, params)
        except sqlite3.OperationalError as exc:
            raise StateError(f"cannot write the mock's state in {self.root}: {_reason(exc)}") from None

    # -- counts -----------------------------------------------------------------------------

    def _slot(self, key: str) -> int:
        """The word of ``key``, given out once per state directory."""
        slot = self._slots.get(key)
        if slot is None:
            key_hash = hashlib.sha256(key.encode()).hexdigest()
            with self._locked():
                conn = self._conn()
                conn.execute(
                    "INSERT OR IGNORE INTO slots VALUES (?, (SELECT count(*) FROM slots))", (key_hash,)
                )
                slot = int(
                    conn.execute("SELECT slot FROM slots WHERE key_hash = ?", (key_hash,)).fetchone()[0]
                )
                self._grow(slot + 1)
            self._slots[key] = slot
        return slot

    def prepare(self, keys: Iterable[str]) -> None:
        """Give out the words of ``keys`` now, so that a full disk shows at start-up."""
        try:
            for key in keys:
                self._slot(key)
        except (OSError, sqlite3.Error) as exc:
            raise StateError(f"cannot keep the mock's state in {self.root}: {_reason(exc)}") from None

    def add(self, key: str, day: int, n: int = 1) -> int:
        slot = self._slots.get(key)
        index = _HEADER_WORDS + (slot if slot is not None else self._slot(key))
        words = self._words
        if words is None or len(words) <= index:
            words = self._view((index + 1) * 8)
        stamp = (day << _RESET_BITS | words[_RESETS] & _RESET_MASK) << COUNT_BITS
        if accelerated_add is not None:
            return int(accelerated_add(words, index, stamp, n))
        # The locks by hand, not through _locked(): this runs on every request of a limited key,
        # and the context manager costs as much as the two system calls.
        thread_lock, fd = self._thread_lock, self._lock_fd
        thread_lock.acquire()
        try:
            _filelock.lock(fd)
            try:
                word = words[index]
                count = (word & COUNT_MASK if word >> COUNT_BITS << COUNT_BITS == stamp else 0) + n
                words[index] = stamp | min(count, COUNT_MASK)
            finally:
                _filelock.unlock(fd)
        finally:
            thread_lock.release()
        return count

    def reset_quotas(self) -> None:
        """Every count back to 0: the reset number in the stamps moves on. A request counted at
        this very moment by a process that read the old number counts in the old reset."""
        with self._locked():
            words = self._view(_HEADER_WORDS * 8)
            words[_RESETS] += 1

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
        self._words = None  # the mapping closes with its last reference
        release = getattr(self, "_release", None)
        if release is not None:
            release()


def _release(fd: int, lock_file: Any) -> None:
    try:
        os.close(fd)
    except OSError:
        pass
    lock_file.close()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc)
