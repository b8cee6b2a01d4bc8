"""Loading a data set into an empty database: leads in the spec's order, their bodies
serialized once, the filters' columns, the search indexes and the counts."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Final

import orjson

from rotor_leads import spec
from rotor_leads.mock_server.engine.store._filters import (
    FILTER_SQL,
    CodeBook,
    SqlFilter,
    rowid,
)
from rotor_leads.mock_server.engine.store._schema import (
    SCHEMA_VERSION,
    TABLES,
    columns,
    counts_insert,
    leads_insert,
    schema_sql,
    search_insert,
)

Progress = Callable[[int], None]
_BATCH: Final = 5000


def newest_first_stream(leads: Iterable[spec.Lead], ties: str = "id_descending") -> Iterator[spec.Lead]:
    """Order a stream that is already newest first by created_at, breaking ties by ``ties``
    (one of ``spec.TIE_ORDERS``).

    Raises ``ValueError`` if the stream is not in that order.
    """
    group: list[spec.Lead] = []
    for lead in leads:
        if group and group[0]["created_at"] != lead["created_at"]:
            if spec.order_key(lead)[0] > spec.order_key(group[0])[0]:
                raise ValueError("the generated leads are not newest first")
            yield from spec.newest_first(group, ties)
            group = []
        group.append(lead)
    yield from spec.newest_first(group, ties)


def spellings(conn: sqlite3.Connection) -> dict[str, tuple[str, ...]]:
    """Every value stored for each filter of a text field (``stage``, and the like), and every
    tag: for readings that match more than one spelling."""
    out = {
        f.name: tuple(
            r[0] for r in conn.execute(f"SELECT DISTINCT {f.field} FROM counts WHERE {f.field} IS NOT NULL")
        )
        for f in spec.FILTERS
        if f.kind in ("exact", "one_of")
    }
    out["tags"] = tuple(r[0] for r in conn.execute("SELECT DISTINCT tag FROM lead_tags"))
    return out


def _lower(value: object) -> str | None:
    return value.lower() if isinstance(value, str) else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def load(
    conn: sqlite3.Connection,
    leads: Iterable[spec.Lead],
    *,
    source: str,
    presorted: bool = False,
    progress: Progress | None = None,
    filters: Mapping[str, SqlFilter] = FILTER_SQL,
    ties: str = "id_descending",
    search_case_sensitive: bool = False,
) -> tuple[int, int, CodeBook]:
    """Replace the data in ``conn`` with ``leads``: how many, how many are not archived, and
    the codes their search rowids carry.

    ``presorted`` leads come newest first by created_at (ties in any order); otherwise they are
    sorted here. Ties are ordered by ``ties``. The search indexes hold the text lower-cased
    (case-insensitive search), or as it is with ``search_case_sensitive``. ``source`` tags the
    data so that a database file can be reused.
    """
    if presorted:
        ordered = newest_first_stream(leads, ties)
    else:
        ordered = iter(spec.newest_first(list(leads), ties))
    conn.execute("PRAGMA synchronous = OFF")
    for table in TABLES:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
    conn.executescript(schema_sql(filters))
    conn.execute("BEGIN")
    loader = _Batches(conn, filters, _text if search_case_sensitive else _lower)
    batch: list[spec.Lead] = []
    for lead in ordered:
        batch.append(lead)
        if len(batch) == _BATCH:
            loader.insert(batch)
            batch = []
            if progress:
                progress(loader.count)
    loader.insert(batch)
    conn.execute(counts_insert(filters))
    book = loader.book
    conn.executemany(
        "INSERT INTO meta VALUES (?, ?)",
        [
            ("schema", SCHEMA_VERSION),
            ("source", source),
            ("count", str(loader.count)),
            ("tag_bits", orjson.dumps(book.tags).decode()),
            ("stage_codes", orjson.dumps(book.stages).decode()),
        ],
    )
    conn.execute("COMMIT")
    conn.execute("PRAGMA optimize")
    if progress:
        progress(loader.count)
    return loader.count, loader.active, book


class _Batches:
    def __init__(
        self, conn: sqlite3.Connection, filters: Mapping[str, SqlFilter], fold: Callable[[object], str | None]
    ) -> None:
        self.conn = conn
        self.fold = fold
        self.columns = columns(filters)
        self.book = CodeBook()
        self.count = self.active = 0
        self.statements = (
            leads_insert(filters),
            "INSERT INTO bodies VALUES (?, ?)",
            "INSERT INTO lead_tags VALUES (?, ?)",
            search_insert("lead_search"),
            search_insert("active_search"),
        )

    def insert(self, batch: list[spec.Lead]) -> None:
        rows: list[tuple[Any, ...]] = []
        bodies: list[tuple[int, bytes]] = []
        tags: list[tuple[str, int]] = []
        texts: list[tuple[Any, ...]] = []
        active_texts: list[tuple[Any, ...]] = []
        book, active = self.book, self.active
        for offset, lead in enumerate(batch):
            pos = self.count + offset
            archived = spec.is_archived(lead)
            values = [c.value(lead, book) for c in self.columns]
            rows.append((pos, None if archived else active, int(archived), *values))
            bodies.append((pos, orjson.dumps(lead)))
            lead_tags = set(spec.lead_tags(lead))
            tags.extend((tag, pos) for tag in lead_tags)
            text = tuple(self.fold(lead.get(f)) for f in spec.SEARCH_FIELDS)
            stage, tag_bits = book.stage_code(lead.get("stage")), book.tag_bits(lead_tags)
            texts.append((rowid(stage, pos, tag_bits), *text))
            if not archived:
                active_texts.append((rowid(stage, active, tag_bits), *text))
                active += 1
        batches: tuple[list[Any], ...] = (rows, bodies, tags, texts, active_texts)
        for statement, params in zip(self.statements, batches, strict=True):
            self.conn.executemany(statement, params)
        self.count += len(batch)
        self.active = active
