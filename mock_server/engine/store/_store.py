"""The leads of one data set in a SQLite database (in memory, or a file), ready to answer."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import orjson

from rotor_leads import spec
from rotor_leads.mock_server.engine.store import _answering, _loading
from rotor_leads.mock_server.engine.store._cache import Counts, PageCache
from rotor_leads.mock_server.engine.store._filters import FILTER_SQL, CodeBook, SqlFilter, check_rows
from rotor_leads.mock_server.engine.store._schema import SEARCH_INDEXES


class StoreError(RuntimeError):
    """A database file cannot be used: damaged beyond rebuilding here, not one this mock built,
    or in a place it cannot write. The message names the file and what to do."""


def read_only(path: Path) -> sqlite3.Connection:
    # immutable: the file never changes once built, so SQLite takes no locks and keeps no journal.
    uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
    return sqlite3.connect(uri, uri=True, check_same_thread=False)


class LeadStore:
    """The leads, in a SQLite database: in memory, or in the file ``path``.

    Thread-safe. Loading writes with one connection, under a lock. Answers read with it too
    in memory. A file, once built (see ``_files.open_or_build``), is only read, each thread with
    a connection of its own that SQLite is told can never change (``immutable``: no locks), so
    that while one request waits for the disk (a page not cached: common at a million leads)
    the others of its process go on.
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        writable: bool = False,
        filters: Mapping[str, SqlFilter] | None = None,
        profile: spec.Profile = spec.ASSUMED,
    ) -> None:
        self.path = None if path is None else Path(path)
        self.profile = profile
        self.filters = FILTER_SQL if filters is None else filters
        check_rows(self.filters)
        self._writable = self.path is None or writable
        self._conn = self._connect()
        self._lock = threading.Lock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []  # the threads' connections
        self._generation = 0  # the threads' connections of an older one are closed
        self._pages = PageCache()
        self._counts = Counts()
        self._totals: dict[bool, int] = {}
        self._codes = CodeBook()
        self._spellings: dict[str, tuple[str, ...]] = {}

    def _connect(self) -> sqlite3.Connection:
        if self.path is not None and not self._writable:
            return read_only(self.path)
        # In memory, or a build into a file of its own: a crash leaves no half file in use.
        conn = sqlite3.connect(self.path or ":memory:", check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA journal_mode = OFF")
        return conn

    def close(self) -> None:
        """Close every connection: once no thread answers from this store any more."""
        with self._lock:
            self._close_readers()
        self._conn.close()

    def _close_readers(self) -> None:
        self._generation += 1
        readers, self._readers = self._readers, []
        for conn in readers:
            conn.close()

    def _reader(self) -> tuple[sqlite3.Connection, AbstractContextManager[Any]]:
        """The connection this thread answers with, and the lock to hold while it does."""
        if self.path is None or self._writable:
            return self._conn, self._lock
        mine: tuple[int, sqlite3.Connection] | None = getattr(self._local, "reader", None)
        if mine is None or mine[0] != self._generation:
            conn = read_only(self.path)  # closed by close()
            with self._lock:
                self._readers.append(conn)
            mine = self._local.reader = (self._generation, conn)
        return mine[1], nullcontext()

    # -- loading ----------------------------------------------------------------------------

    def load(
        self,
        leads: Iterable[spec.Lead],
        *,
        source: str,
        presorted: bool = False,
        progress: _loading.Progress | None = None,
    ) -> int:
        """Replace the data with ``leads``; returns how many were stored. A file is then
        compacted and read only (see :meth:`_compact`)."""
        with self._lock:
            count, active, codes = _loading.load(
                self._conn,
                leads,
                source=source,
                presorted=presorted,
                progress=progress,
                filters=self.filters,
                ties=self.profile.ties,
                search_case_sensitive=self.profile.readings.get("search") == "case_sensitive",
            )
            if self.path is not None:
                self._compact(self.path)
                self._conn.close()
                self._writable = False
                self._conn = self._connect()
            self._forget(codes, {True: count, False: active})
        return count

    def _compact(self, path: Path) -> None:
        """Rewrite the file table by table. The load inserts into every table batch by batch, so
        a table's pages end up interleaved with the others'; rewritten, a page of leads not in
        any cache is read from contiguous pages (``VACUUM INTO`` a copy, which then replaces
        the file; see bench/README.md for what it changed at a million leads). Each search index
        is first merged into one segment: a search then seeks one b-tree per trigram, not a
        dozen, and a page of a search reads one range of the index per stage."""
        for index in SEARCH_INDEXES:
            self._conn.execute(f"INSERT INTO {index}({index}) VALUES ('optimize')")
        copy = path.with_name(path.name + ".compact")
        copy.unlink(missing_ok=True)
        self._conn.execute("VACUUM INTO ?", (str(copy),))
        self._conn.close()
        os.replace(copy, path)
        self._conn = self._connect()
        self._close_readers()

    def open_existing(self) -> int:
        """Use the data already in the database file; returns how many leads it holds.
        Raises ``sqlite3.DatabaseError`` if it holds no data this mock built."""
        with self._lock:
            conn = self._conn
            total = conn.execute("SELECT count(*) FROM leads").fetchone()[0]
            active = conn.execute("SELECT count(*) FROM leads WHERE archived = 0").fetchone()[0]
            meta = dict(conn.execute("SELECT name, value FROM meta"))
            codes = CodeBook(stages=orjson.loads(meta["stage_codes"]), tags=orjson.loads(meta["tag_bits"]))
            self._forget(codes, {True: total, False: active})
        return int(total)

    def _forget(self, codes: CodeBook, totals: dict[bool, int]) -> None:
        self._pages = PageCache()
        self._counts = Counts()
        self._codes = codes
        self._totals = totals
        self._spellings = _loading.spellings(self._conn) if self.profile.custom_readings else {}

    def _spell(self, name: str, value: Any) -> tuple[str, ...]:
        """The values stored for filter ``name`` that the profile's reading of ``value`` selects
        (a reading other than this project's: ``stage`` in any case, ``tags`` untrimmed…)."""
        reading = self.profile.readings.get(name)
        if reading is None or name not in self._spellings:
            return ()
        f = next(f for f in spec.FILTERS if f.name == name)
        predicate = f.read(reading)
        shape = (lambda v: {f.field: [v]}) if f.kind == "any_of" else (lambda v: {f.field: v})
        return tuple(v for v in self._spellings[name] if predicate(value, shape(v)))

    @property
    def count(self) -> int:
        return self._totals.get(True, 0)

    # -- answering --------------------------------------------------------------------------

    def page(self, query: spec.LeadQuery) -> bytes:
        """The JSON body of the 200 answer to ``query``. Raises :class:`StoreError` if the
        database cannot give it whole (never a page that disagrees with its total)."""
        body = self._pages.get(query.key)
        if body is None:
            body = self._render(query)
            self._pages.put(query.key, body)
        return body

    def cached(self, query: spec.LeadQuery) -> bytes | None:
        """The body of ``query``'s page if it is cached (no database read), else ``None``."""
        return self._pages.get(query.key)

    def _render(self, query: spec.LeadQuery) -> bytes:
        conn, lock = self._reader()
        try:
            with lock:
                total, bodies = _answering.rows(
                    conn,
                    query,
                    codes=self._codes,
                    totals=self._totals,
                    counts=self._counts,
                    filters=self.filters,
                    readings=self.profile.custom_readings,
                    spell=self._spell,
                )
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{self.path or 'the data set'} cannot be read ({exc}): restart the mock"
            ) from None
        window = spec.page_window(total, page=query.page, limit=query.limit)
        if len(bodies) != window.stop - window.start:
            raise StoreError(
                f"{self.path or 'the data set'} is damaged: a page lacks leads; restart the mock"
            )
        return spec.page_body(
            bodies, total, page=query.page, limit=query.limit, extra=self.profile.extra_examples
        )
