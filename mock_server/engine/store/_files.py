"""Database files: one owner each, built once, aside, checked when opened, never served damaged.

A server claims a file before anything else (:func:`claim`): an OS lock on ``PATH.lock``, held
for the server's life and released when it ends, however it ends; a second server given the
same path is refused, naming the first. The owner builds the file into a file of its own that
then replaces the path, with its size and CRC-32 written beside it (``PATH.check``); opening it
checks it against that and builds it again when they differ. A file the mock did not build is
never overwritten. The owner's workers open the file as their server checked it
(:func:`open_built`), never building it.
"""

from __future__ import annotations

import os
import sqlite3
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Final

import orjson

from rotor_leads import spec
from rotor_leads.mock_server.engine.state import _filelock
from rotor_leads.mock_server.engine.store._loading import Progress
from rotor_leads.mock_server.engine.store._schema import SCHEMA_VERSION
from rotor_leads.mock_server.engine.store._store import LeadStore, StoreError, read_only

CHECK_SUFFIX: Final = ".check"
LOCK_SUFFIX: Final = ".lock"
_verified: dict[tuple[str, int, int, int], str] = {}  # files this process checked: stat → source


def _crc(path: Path) -> int:
    crc = 0
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            crc = zlib.crc32(chunk, crc)
    return crc


def _check_path(path: Path) -> Path:
    return path.with_name(path.name + CHECK_SUFFIX)


def _stat_key(path: Path) -> tuple[str, int, int, int]:
    stat = path.stat()
    return (str(path.resolve()), stat.st_size, stat.st_mtime_ns, stat.st_ino)


def _meta(path: Path) -> dict[str, str] | None:
    """The file's meta table, or ``None`` if it is no database this mock built."""
    try:
        conn = read_only(path)
        try:
            return dict(conn.execute("SELECT name, value FROM meta"))
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return None


def inspect_file(path: Path, source: str) -> str | None:
    """Why ``path`` must be built before it can serve ``source`` (``None``: it can, as it is).

    Raises :class:`StoreError` for a file this mock did not build (it is never overwritten).
    """
    if not path.exists() or (path.is_file() and path.stat().st_size == 0):
        return "missing"
    if not path.is_file():
        raise StoreError(f"{path} is not a file: give --db the path of a database file")
    key = _stat_key(path)
    if _verified.get(key) == source:
        return None
    check: dict[str, Any] | None = None
    try:
        check = orjson.loads(_check_path(path).read_bytes())
    except (OSError, orjson.JSONDecodeError):
        check = None
    if not isinstance(check, dict):
        if _meta(path) is None:
            raise StoreError(
                f"{path} is not a database this mock built (and has no {CHECK_SUFFIX} file beside it):"
                " give --db another path, or delete the file to have it built there"
            )
        return f"it has no {CHECK_SUFFIX} file beside it (an older build, or one that was interrupted)"
    if check.get("size") != path.stat().st_size or check.get("crc32") != _crc(path):
        return "it is damaged: its contents differ from the checksum written when it was built"
    meta = _meta(path) or {}
    if meta.get("schema") != SCHEMA_VERSION:
        return "it was built by another version of the mock"
    if meta.get("source") != source:
        return f"it holds other data ({meta.get('source')})"
    _verified[key] = source
    return None


class Claim:
    """A server's hold on a database file (and the quota counts beside it), until :meth:`release`
    or the end of the process. ``PATH.lock`` is left behind (removing it while another start
    has it open would let two servers hold the file), but for a start that failed."""

    def __init__(self, path: Path, lock: Path, fd: int) -> None:
        self.path = path
        self.lock = lock
        self._fd: int | None = fd

    def release(self, *, failed: bool = False) -> None:
        if self._fd is None:
            return
        if failed:  # leave nothing behind: removed while still held
            self.lock.unlink(missing_ok=True)
        os.close(self._fd)  # closing the file releases its lock
        self._fd = None


def claim(path: Path, holder: dict[str, Any]) -> Claim:
    """Hold ``path`` for this process, describing it as ``holder`` (its pid, URL, start) to
    anyone refused. Raises :class:`StoreError` naming the holder if another process has it."""
    lock = path.with_name(path.name + LOCK_SUFFIX)
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreError(f"cannot use {path}: cannot open {lock.name} beside it ({exc.strerror})") from None
    if not _filelock.try_lock(fd):
        os.close(fd)
        raise StoreError(f"{path} is in use by {_holder(lock)}: give --db another path, or stop that server")
    try:
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, orjson.dumps(holder))
    except OSError as exc:
        os.close(fd)
        raise StoreError(f"cannot use {path}: cannot write {lock.name} beside it ({exc.strerror})") from None
    return Claim(path, lock, fd)


def _holder(lock: Path) -> str:
    try:
        holder = orjson.loads(lock.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        holder = None
    if not isinstance(holder, dict):
        return "another rotor-mock serve"
    parts = [f"pid {holder.get('pid')}", holder.get("url"), f"since {holder.get('since')}"]
    return "another rotor-mock serve (" + ", ".join(str(p) for p in parts if p) + ")"


def open_built(path: Path, *, profile: spec.Profile = spec.ASSUMED) -> LeadStore:
    """The file as its server claimed and checked it, for one of that server's workers: opened,
    never checked or built again (a worker replaced while others serve the file must not touch
    it). Raises :class:`StoreError` if it cannot be read."""
    return _opened(path, profile)


def _opened(path: Path, profile: spec.Profile, fix: str = "") -> LeadStore:
    """The store of the file ``path``, opened as it is. Raises :class:`StoreError` saying it
    cannot be read, and ``fix``."""
    store = LeadStore(path, profile=profile)
    try:
        store.open_existing()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: cannot read it ({exc}){fix}") from None
    return store


def open_or_build(
    path: Path,
    *,
    source: str,
    leads: Callable[[], Iterable[spec.Lead]],
    progress: Progress | None = None,
    building: Callable[[str], None] | None = None,
    profile: spec.Profile = spec.ASSUMED,
) -> LeadStore:
    """The data set ``source`` from the file ``path``: reused if it holds it intact, else built
    (``building`` is told why, unless the file was missing) into a file of its own that then
    replaces ``path``, with a checksum file beside it.

    Raises :class:`StoreError` naming the file for a file that cannot be used or written.
    """
    reason = inspect_file(path, source)
    if reason is not None:
        if building is not None and reason != "missing":
            building(reason)
        _build(path, source=source, leads=leads, progress=progress, profile=profile)
        _verified[_stat_key(path)] = source
    return _opened(path, profile, "; delete it to have it built again")


def _build(
    path: Path,
    *,
    source: str,
    leads: Callable[[], Iterable[spec.Lead]],
    progress: Progress | None,
    profile: spec.Profile,
) -> None:
    temporary = [path.with_name(path.name + s) for s in (".building", ".building.compact", ".check.new")]
    building, _, check = temporary
    try:
        _remove(temporary)
        building.write_bytes(b"")  # the OS says why a file cannot be made here; SQLite would not
        store = LeadStore(building, writable=True, profile=profile)
        try:
            store.load(leads(), source=source, presorted=True, progress=progress)
        finally:
            store.close()
        check.write_bytes(orjson.dumps({"size": building.stat().st_size, "crc32": _crc(building)}))
        os.replace(building, path)
        os.replace(check, _check_path(path))
    except (OSError, sqlite3.Error) as exc:
        _remove(temporary)
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise StoreError(f"cannot build {path}: {reason}") from None


def _remove(paths: Iterable[Path]) -> None:
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass
