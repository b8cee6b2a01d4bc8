"""SQLite storage of the leads, shaped for the one query the mock answers.

Leads are stored in the spec's order (``spec.newest_first``): a lead's rowid is its position in
the newest-first listing, and ``active_pos`` its position among the leads that are not
archived. So an unfiltered page is a range read, and every filtered page is an index walk in
rowid order. Each lead is serialized once, at load, into ``bodies``; the ``leads`` table keeps
only what filters read, so that walking it stays cheap at a million rows. Tags are also a bit
mask (``tag_bits``) over the first 62 distinct tags, so any-of several tags is one test per
row. Without a search, totals come from ``counts`` (a few rows per stage and tag set); a search
drives the query from a trigram index, whose rowids carry the filters too: a rowid is the
lead's position shifted left by 16 bits, over a stage code (4 bits) and the first 12 tag bits,
so that a search combined with the usual stage and tags filters is counted in the index alone,
without a lookup per hit. Stages and tags without a code there fall back to joining ``leads``.
Totals are cached per filter, pages per query.

Filters are small SQL fragments in one table (``_FILTERS``), mirroring ``spec.FILTERS``; a
property test holds the two to the same answers.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import orjson
from rotor_leads import spec

SCHEMA_VERSION: Final = 6
_SHORT_SEARCH: Final = 3  # the trigram index answers substrings of 3+ characters
_CACHE_SIZE: Final = 2048  # cached totals
_CACHE_BYTES: Final = 32 << 20  # cached pages, per process: their bodies plus _ENTRY_BYTES each
_ENTRY_BYTES: Final = 256  # about what a cached page's key and dictionary slot take
_BATCH: Final = 5000
_TAG_BITS: Final = 62  # tags with a bit in tag_bits (SQLite integers are signed 64-bit)
# A search index rowid: position << _CODE_BITS | (tag_bits & _ROWID_TAGS) << 4 | stage code.
_CODE_BITS: Final = 16
_STAGE_MASK: Final = 0xF  # stage codes 1..15; 0: no stage, or one of the stages without a code
_ROWID_TAGS: Final = 0xFFF  # the first 12 tag bits

_DDL: Final = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE leads (
    pos INTEGER PRIMARY KEY,       -- position in the newest-first listing
    active_pos INTEGER,            -- position among leads not archived (NULL if archived)
    archived INTEGER NOT NULL,
    stage TEXT,
    tag_bits INTEGER NOT NULL      -- one bit per common tag (see meta 'tag_bits')
);
CREATE TABLE bodies (pos INTEGER PRIMARY KEY, body BLOB NOT NULL);
CREATE UNIQUE INDEX leads_active ON leads (active_pos) WHERE active_pos IS NOT NULL;
CREATE INDEX leads_stage ON leads (stage, archived, pos);
-- Every tag of every lead; filters read it only for tags beyond the 62 with a bit.
CREATE TABLE lead_tags (tag TEXT NOT NULL, pos INTEGER NOT NULL, PRIMARY KEY (tag, pos)) WITHOUT ROWID;
-- Two search indexes: rowids from pos over every lead, and from active_pos over the leads that
-- are not archived, so that the usual query (archived hidden) counts in the index alone.
-- Their rowids also carry a stage code and 12 tag bits (see the module's docstring).
CREATE VIRTUAL TABLE lead_search USING fts5 (
    name, email, phone, tokenize = 'trigram case_sensitive 1'
);
CREATE VIRTUAL TABLE active_search USING fts5 (
    name, email, phone, tokenize = 'trigram case_sensitive 1'
);
-- How many leads have each (archived, stage, tag_bits): counts without search, in a few rows.
CREATE TABLE counts (archived INTEGER NOT NULL, stage TEXT, tag_bits INTEGER NOT NULL, n INTEGER NOT NULL);
"""

Progress = Callable[[int], None]


@dataclass(frozen=True)
class _Codes:
    """What a search index rowid carries: stage → code, and tag → bit of ``tag_bits``."""

    stages: Mapping[str, int]
    tags: Mapping[str, int]


@dataclass(frozen=True)
class _Where:
    sql: str
    params: tuple[Any, ...]
    #: False when the condition reads only the search index's rowid (``s.rowid``).
    reads_leads: bool = True


#: A filter's condition on ``leads`` or, with ``on_rowid``, on the search index's rowid if the
#: query's values have codes there.
_Filter = Callable[[spec.LeadQuery, _Codes, bool], "_Where | None"]


def _archived(query: spec.LeadQuery, codes: _Codes, on_rowid: bool) -> _Where | None:
    # A search reads the index of the listing asked for: without archived leads unless asked.
    return None if query.archived or on_rowid else _Where("archived = 0", ())


def _stage(query: spec.LeadQuery, codes: _Codes, on_rowid: bool) -> _Where | None:
    if query.stage is None:
        return None
    code = codes.stages.get(query.stage)
    if on_rowid and code is not None:
        return _Where(f"(s.rowid & {_STAGE_MASK}) = ?", (code,), reads_leads=False)
    return _Where("stage = ?", (query.stage,))


def _tags(query: spec.LeadQuery, codes: _Codes, on_rowid: bool) -> _Where | None:
    tags = query.tag_list
    if not tags:
        return None
    bits = codes.tags
    mask = sum(bits[t] for t in set(tags) if t in bits)
    rare = _tags_without_bits(tags, bits)
    if on_rowid and not rare and mask <= _ROWID_TAGS:
        return _Where("(s.rowid & ?) != 0", (mask << 4,), reads_leads=False)
    parts = [_Where("tag_bits & ? != 0", (mask,))] if mask else []
    if rare:
        marks = ",".join("?" * len(rare))
        parts.append(_Where(f"pos IN (SELECT pos FROM lead_tags WHERE tag IN ({marks}))", rare))
    if not parts:
        return _Where("0", ())  # tags no lead has
    return _Where("(" + " OR ".join(p.sql for p in parts) + ")", tuple(x for p in parts for x in p.params))


def _tags_without_bits(tags: Iterable[str], bits: Mapping[str, int]) -> tuple[str, ...]:
    """The tags a filter must look up in ``lead_tags``: those without a bit, unless every tag
    in the data has one (then a tag without one is on no lead)."""
    return () if len(bits) < _TAG_BITS else tuple(t for t in tags if t not in bits)


def _search_index(query: spec.LeadQuery) -> tuple[str, str]:
    """The search index for ``query`` and the ``leads`` column its rowids are made from."""
    return ("lead_search", "pos") if query.archived else ("active_search", "active_pos")


def _driven_by(index: str, column: str) -> str:
    # CROSS JOIN keeps the search index as the outer loop: SQLite's planner may otherwise probe
    # the index once per lead (seconds at a million leads instead of milliseconds).
    return f"{index} s CROSS JOIN leads l ON l.{column} = s.rowid >> {_CODE_BITS}"


def _search_match(query: spec.LeadQuery) -> _Where | None:
    """The search as a condition on the search index (``s``) that drives the query."""
    if query.search is None:
        return None
    index, _ = _search_index(query)
    # The index holds lower-cased text, so matching is exactly spec's case-insensitive reading.
    needle = query.search.lower()
    if len(needle) >= _SHORT_SEARCH:
        return _Where(f"{index} MATCH ?", ('"' + needle.replace('"', '""') + '"',), reads_leads=False)
    return _Where(
        "(instr(name, ?) OR instr(email, ?) OR instr(phone, ?))", (needle, needle, needle), reads_leads=False
    )


_FILTERS: Final[dict[str, _Filter]] = {
    "archived": _archived,
    "stage": _stage,
    "tags": _tags,
}


def _lower(value: object) -> str | None:
    return value.lower() if isinstance(value, str) else None


def _newest_first_stream(leads: Iterable[spec.Lead]) -> Iterator[spec.Lead]:
    """Order a stream that is already newest first by created_at, breaking ties per the spec.

    Raises ``ValueError`` if the stream is not in that order.
    """
    group: list[spec.Lead] = []
    for lead in leads:
        if group and group[0]["created_at"] != lead["created_at"]:
            if spec.order_key(lead) > spec.order_key(group[0]):
                raise ValueError("the generated leads are not newest first")
            yield from spec.newest_first(group)
            group = []
        group.append(lead)
    yield from spec.newest_first(group)


def _page_key(query: spec.LeadQuery) -> tuple[Any, ...]:
    return (query.archived, query.limit, query.page, query.search, query.stage, query.tag_list)


class StoreError(RuntimeError):
    """A database file cannot be used: damaged beyond rebuilding here, not one this mock built,
    or in a place it cannot write. The message names the file and what to do."""


class LeadStore:
    """The leads, in a SQLite database: in memory, or in the file ``path``.

    Thread-safe. Loading writes with one connection, under a lock. Answers read with it too
    in memory. A file, once built (see :func:`open_or_build`), is only read, each thread with a
    connection of its own that SQLite is told can never change (``immutable``: no locks), so
    that while one request waits for the disk (a page not cached: common at a million leads)
    the others of its process go on.
    """

    def __init__(self, path: str | Path | None = None, *, writable: bool = False) -> None:
        self.path = None if path is None else Path(path)
        self._writable = self.path is None or writable
        self._conn = self._connect()
        self._lock = threading.Lock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []  # the threads' connections
        self._generation = 0  # the threads' connections of an older one are closed
        self._cache: dict[tuple[Any, ...], bytes] = {}
        self._cache_bytes = 0
        self._cache_lock = threading.Lock()
        self._counts: dict[tuple[Any, ...], int] = {}
        self._totals: dict[bool, int] = {}
        self._bits: dict[str, int] = {}
        self._stages: dict[str, int] = {}

    def _connect(self) -> sqlite3.Connection:
        if self.path is None:
            conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA journal_mode = OFF")
        elif self._writable:  # a build, into a file of its own: a crash leaves no half file in use
            conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA journal_mode = OFF")
        else:
            conn = _read_only(self.path)
        return conn

    def close(self) -> None:
        """Close every connection: once no thread answers from this store any more."""
        with self._lock:
            self._close_readers()
        self._conn.close()

    def _close_readers(self) -> None:
        """Close the threads' connections (under the lock): a thread that answers next opens a
        new one. Loading does it too, as it replaces the file: not while other threads answer."""
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
            conn = _read_only(self.path)  # closed by close()
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
        progress: Progress | None = None,
    ) -> int:
        """Replace the data with ``leads``; returns how many were stored.

        ``presorted`` leads come newest first by created_at (ties in any order); otherwise
        they are sorted here. ``source`` tags the data so a database file can be reused.
        """
        ordered = _newest_first_stream(leads) if presorted else iter(spec.newest_first(list(leads)))
        with self._lock:
            conn = self._conn
            conn.execute("PRAGMA synchronous = OFF")
            for table in ("meta", "leads", "bodies", "lead_tags", "lead_search", "active_search", "counts"):
                conn.execute(f"DROP TABLE IF EXISTS {table}")
            conn.executescript(_DDL)
            conn.execute("BEGIN")
            self._bits, self._stages = {}, {}
            count = active = 0
            batch: list[spec.Lead] = []
            for lead in ordered:
                batch.append(lead)
                if len(batch) == _BATCH:
                    active = self._insert(batch, count, active)
                    count += len(batch)
                    batch = []
                    if progress:
                        progress(count)
            active = self._insert(batch, count, active)
            count += len(batch)
            conn.execute(
                "INSERT INTO counts SELECT archived, stage, tag_bits, count(*) FROM leads GROUP BY 1, 2, 3"
            )
            conn.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [
                    ("schema", str(SCHEMA_VERSION)),
                    ("source", source),
                    ("count", str(count)),
                    ("tag_bits", orjson.dumps(self._bits).decode()),
                    ("stage_codes", orjson.dumps(self._stages).decode()),
                ],
            )
            conn.execute("COMMIT")
            conn.execute("PRAGMA optimize")
            if self.path is not None:
                self._compact(self.path)
                self._conn.close()
                self._writable = False
                self._conn = self._connect()
            self._forget({True: count, False: active})
        if progress:
            progress(count)
        return count

    def _compact(self, path: Path) -> None:
        """Rewrite the file table by table. The load inserts into every table batch by batch, so
        a table's pages end up interleaved with the others'; rewritten, a page of leads not in
        any cache is read from contiguous pages (``VACUUM INTO`` a copy, which then replaces
        the file; see bench/README.md for what it changed at a million leads)."""
        copy = path.with_name(path.name + ".compact")
        copy.unlink(missing_ok=True)
        self._conn.execute("VACUUM INTO ?", (str(copy),))
        self._conn.close()
        os.replace(copy, path)
        self._conn = self._connect()
        self._close_readers()

    def _tag_bits(self, tags: Iterable[str]) -> int:
        # Bits go to the first distinct tags seen: every tag of a vocabulary of up to 62.
        out = 0
        for tag in tags:
            bit = self._bits.get(tag)
            if bit is None and len(self._bits) < _TAG_BITS:
                bit = self._bits[tag] = 1 << len(self._bits)
            out |= bit or 0
        return out

    def _stage_code(self, stage: object) -> int:
        # Codes go to the first 15 distinct stages seen: every stage the generator uses.
        if not isinstance(stage, str):
            return 0
        code = self._stages.get(stage)
        if code is None and len(self._stages) < _STAGE_MASK:
            code = self._stages[stage] = len(self._stages) + 1
        return code or 0

    def _insert(self, batch: list[spec.Lead], start: int, active: int) -> int:
        rows: list[tuple[Any, ...]] = []
        bodies: list[tuple[int, bytes]] = []
        tags: list[tuple[str, int]] = []
        texts: list[tuple[Any, ...]] = []
        active_texts: list[tuple[Any, ...]] = []
        for offset, lead in enumerate(batch):
            pos = start + offset
            archived = spec.is_archived(lead)
            lead_tags = {t for t in lead.get("tags") or () if isinstance(t, str)}
            stage = lead.get("stage")
            tag_bits = self._tag_bits(lead_tags)
            rows.append((pos, None if archived else active, int(archived), stage, tag_bits))
            bodies.append((pos, orjson.dumps(lead)))
            tags.extend((tag, pos) for tag in lead_tags)
            text = (_lower(lead.get("name")), _lower(lead.get("email")), _lower(lead.get("phone")))
            code = (tag_bits & _ROWID_TAGS) << 4 | self._stage_code(stage)
            texts.append((pos << _CODE_BITS | code, *text))
            if not archived:
                active_texts.append((active << _CODE_BITS | code, *text))
            active += not archived
        self._conn.executemany("INSERT INTO leads VALUES (?, ?, ?, ?, ?)", rows)
        self._conn.executemany("INSERT INTO bodies VALUES (?, ?)", bodies)
        self._conn.executemany("INSERT INTO lead_tags VALUES (?, ?)", tags)
        self._conn.executemany(
            "INSERT INTO lead_search (rowid, name, email, phone) VALUES (?, ?, ?, ?)", texts
        )
        self._conn.executemany(
            "INSERT INTO active_search (rowid, name, email, phone) VALUES (?, ?, ?, ?)", active_texts
        )
        return active

    def open_existing(self) -> int:
        """Use the data already in the database file; returns how many leads it holds.
        Raises ``sqlite3.DatabaseError`` if it holds no data this mock built."""
        with self._lock:
            conn = self._conn
            total = conn.execute("SELECT count(*) FROM leads").fetchone()[0]
            active = conn.execute("SELECT count(*) FROM leads WHERE archived = 0").fetchone()[0]
            meta = dict(conn.execute("SELECT name, value FROM meta"))
            self._bits, self._stages = orjson.loads(meta["tag_bits"]), orjson.loads(meta["stage_codes"])
            self._forget({True: total, False: active})
        return int(total)

    def _forget(self, totals: dict[bool, int]) -> None:
        with self._cache_lock:
            self._cache.clear()
            self._cache_bytes = 0
        self._counts.clear()
        self._totals = totals

    @property
    def count(self) -> int:
        return self._totals.get(True, 0)

    # -- answering --------------------------------------------------------------------------

    def page(self, query: spec.LeadQuery) -> bytes:
        """The JSON body of the 200 answer to ``query``."""
        key = _page_key(query)
        body = self._cache.get(key)
        if body is None:
            body = self._render(query)
            self._remember(key, body)
        return body

    def cached(self, query: spec.LeadQuery) -> bytes | None:
        """The body of ``query``'s page if it is cached (no database read), else ``None``."""
        return self._cache.get(_page_key(query))

    def _remember(self, key: tuple[Any, ...], body: bytes) -> None:
        """Cache a page, forgetting the oldest ones beyond the byte budget (1000-lead pages are
        a megabyte each: a count alone would not bound the memory)."""
        with self._cache_lock:
            if key in self._cache:
                return
            self._cache[key] = body
            self._cache_bytes += len(body) + _ENTRY_BYTES
            while self._cache_bytes > _CACHE_BYTES:
                oldest = next(iter(self._cache))
                self._cache_bytes -= len(self._cache.pop(oldest)) + _ENTRY_BYTES

    def _count_sql(self, query: spec.LeadQuery, where: _Where, search: _Where | None) -> str:
        """The cheapest exact count: a few rows of ``counts`` when there is no search and no tag
        to look up in ``lead_tags``; the search index alone when the filters read only its
        rowids; else a join."""
        if search is None:
            if not _tags_without_bits(query.tag_list, self._bits):
                return f"SELECT coalesce(sum(n), 0) FROM counts WHERE {where.sql}"
            return f"SELECT count(*) FROM leads WHERE {where.sql}"
        index, column = _search_index(query)
        source = _driven_by(index, column) if where.reads_leads else f"{index} s"
        return f"SELECT count(*) FROM {source} WHERE {search.sql} AND {where.sql}"

    def _page_sql(self, query: spec.LeadQuery, where: _Where, search: _Where | None) -> str:
        """The positions (``pos``) of one page, walked in order from the most selective side."""
        if search is None:
            return f"SELECT pos FROM leads WHERE {where.sql} ORDER BY pos LIMIT ? OFFSET ?"
        index, column = _search_index(query)
        if where.reads_leads:
            return (
                f"SELECT l.pos FROM {_driven_by(index, column)} WHERE {search.sql} AND {where.sql}"
                " ORDER BY s.rowid LIMIT ? OFFSET ?"
            )
        hits = (
            f"SELECT s.rowid >> {_CODE_BITS} AS n FROM {index} s WHERE {search.sql} AND {where.sql}"
            " ORDER BY s.rowid LIMIT ? OFFSET ?"
        )
        if column == "pos":
            return f"SELECT n AS pos FROM ({hits})"
        return f"SELECT l.pos FROM ({hits}) CROSS JOIN leads l ON l.active_pos = n"

    def _where(self, query: spec.LeadQuery, search: _Where | None) -> _Where:
        """The filters but the search, ANDed: on the search index's rowids where they can be."""
        codes = _Codes(self._stages, self._bits)
        wheres = [w for f in _FILTERS.values() if (w := f(query, codes, search is not None)) is not None]
        return _Where(
            " AND ".join(w.sql for w in wheres) or "1",
            tuple(p for w in wheres for p in w.params),
            reads_leads=any(w.reads_leads for w in wheres),
        )

    def _render(self, query: spec.LeadQuery) -> bytes:
        try:
            return self._render_rows(query)
        except sqlite3.DatabaseError as exc:
            raise StoreError(
                f"{self.path or 'the data set'} cannot be read ({exc}): restart the mock"
            ) from None

    def _render_rows(self, query: spec.LeadQuery) -> bytes:
        offset, limit = query.offset, query.limit
        conn, lock = self._reader()
        with lock:
            if not query.has_filters:
                total = self._totals.get(query.archived, 0)
                column = "pos" if query.archived else "active_pos"
                rows = conn.execute(
                    f"SELECT b.body FROM leads l JOIN bodies b ON b.pos = l.pos"
                    f" WHERE l.{column} >= ? AND l.{column} < ? ORDER BY l.{column}",
                    (offset, offset + limit),
                ).fetchall()
            else:
                # A search drives the query from its index (which holds only the leads of the
                # listing asked for); the other filters check its hits.
                search = _search_match(query)
                where = self._where(query, search)
                params = (*(search.params if search else ()), *where.params)
                filters = (query.archived, query.search, query.stage, query.tag_list)
                cached = self._counts.get(filters)
                if cached is None:
                    sql = self._count_sql(query, where, search)
                    cached = int(conn.execute(sql, params).fetchone()[0])
                    if len(self._counts) >= _CACHE_SIZE:
                        self._counts.clear()
                    self._counts[filters] = cached
                total = cached
                rows = conn.execute(
                    f"SELECT b.body FROM ({self._page_sql(query, where, search)}) p"
                    " JOIN bodies b ON b.pos = p.pos ORDER BY p.pos",
                    (*params, limit, offset),
                ).fetchall()
        window = spec.page_window(total, page=query.page, limit=limit)
        if len(rows) != window.stop - window.start:  # never a page that disagrees with its total
            raise StoreError(
                f"{self.path or 'the data set'} is damaged: a page lacks leads; restart the mock"
            )
        pagination = orjson.dumps(
            {"has_more": window.has_more, "limit": limit, "page": query.page, "total": total}
        )
        return b"".join(
            (
                b'{"data":[',
                b",".join(r[0] for r in rows),
                b'],"pagination":',
                pagination,
                b',"status":"success"}',
            )
        )


# -- database files: built once, checked when opened, never served damaged ----------------------

CHECK_SUFFIX: Final = ".check"
_verified: dict[tuple[str, int, int, int], str] = {}  # files this process checked: stat → source


def _read_only(path: Path) -> sqlite3.Connection:
    # immutable: the file never changes once built, so SQLite takes no locks and keeps no journal.
    uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
    return sqlite3.connect(uri, uri=True, check_same_thread=False)


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
        conn = _read_only(path)
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
    if meta.get("schema") != str(SCHEMA_VERSION):
        return "it was built by another version of the mock"
    if meta.get("source") != source:
        return f"it holds other data ({meta.get('source')})"
    _verified[key] = source
    return None


def open_or_build(
    path: Path,
    *,
    source: str,
    leads: Callable[[], Iterable[spec.Lead]],
    progress: Progress | None = None,
    building: Callable[[str], None] | None = None,
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
        _build(path, source=source, leads=leads, progress=progress)
        _verified[_stat_key(path)] = source
    store = LeadStore(path)
    try:
        store.open_existing()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: cannot read it ({exc}); delete it to have it built again") from None
    return store


def _build(
    path: Path, *, source: str, leads: Callable[[], Iterable[spec.Lead]], progress: Progress | None
) -> None:
    temporary = [path.with_name(path.name + s) for s in (".building", ".building.compact", ".check.new")]
    building, _, check = temporary
    try:
        _remove(temporary)
        building.write_bytes(b"")  # the OS says why a file cannot be made here; SQLite would not
        store = LeadStore(building, writable=True)
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
