"""Answering a query from a loaded database: its total (the cheapest exact count) and the
bodies of its page, walked in order from the most selective side.

Without filters a page is a range of positions. A search drives the query from its index
(which holds only the leads of the listing asked for); the other filters check its hits, on
the index's rowids alone where they can (see ``_filters``). The index's rowids are ordered by
stage first: a search with a stage filter reads that stage's range, and a page of a search
without one merges the stages' ranges, each in the listing's order.
"""

from __future__ import annotations

import heapq
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from itertools import islice
from typing import Any

from rotor_leads import spec
from rotor_leads.mock_server.engine.store._filters import (
    FILTER_SQL,
    CodeBook,
    Scope,
    SqlFilter,
    Where,
    position_sql,
    stage_range,
)


def _search_index(query: spec.LeadQuery) -> tuple[str, str]:
    """The search index for ``query`` and the ``leads`` column its rowids are made from."""
    return ("lead_search", "pos") if query.archived else ("active_search", "active_pos")


def _driven_by(index: str, column: str) -> str:
    # CROSS JOIN keeps the search index as the outer loop: SQLite's planner may otherwise probe
    # the index once per lead (seconds at a million leads instead of milliseconds).
    return f"{index} s CROSS JOIN leads l ON l.{column} = {position_sql('s.rowid')}"


def _conditions(
    query: spec.LeadQuery, codes: CodeBook, filters: Mapping[str, SqlFilter], **reading: Any
) -> tuple[Where | None, Where]:
    """The driving condition (a search), and the other filters' conditions ANDed. ``reading``
    holds a profile's ``readings`` and ``spell`` (see ``Scope``)."""
    index, _ = _search_index(query)
    drive: Where | None = None
    for f, value in query.filters():
        if filters[f.name].drives:
            drive = filters[f.name].where(value, Scope(codes, on_rowid=False, index=index, **reading))
    scope = Scope(codes, on_rowid=drive is not None, index=index, **reading)
    wheres = [
        w
        for f, value in query.filters()
        if not filters[f.name].drives and (w := filters[f.name].where(value, scope)) is not None
    ]
    stages: frozenset[int] | None = None
    for w in wheres:
        if w.stages is not None:
            stages = w.stages if stages is None else stages & w.stages
    return drive, Where(
        " AND ".join(w.sql for w in wheres) or "1",
        tuple(p for w in wheres for p in w.params),
        reads_leads=any(w.reads_leads for w in wheres),
        on_counts=all(w.on_counts for w in wheres),
        stages=stages,
    )


def _stages(where: Where, codes: CodeBook) -> list[int]:
    """The stage codes whose ranges of the search index hold the hits: those ``where`` keeps,
    else every code of the data set (0: leads without a coded stage)."""
    if where.stages is not None:
        return sorted(where.stages)
    return list(range(len(codes.stages) + 1))


def _count(conn: sqlite3.Connection, query: spec.LeadQuery, where: Where, drive: Where | None) -> int:
    """The cheapest exact count: a few rows of ``counts`` when there is no search and every
    condition reads the filters' columns only; the search index alone (the ranges of the
    stages kept) when the conditions read only its rowids; else a join."""
    if drive is None:
        sql = "SELECT coalesce(sum(n), 0) FROM counts" if where.on_counts else "SELECT count(*) FROM leads"
        return int(conn.execute(f"{sql} WHERE {where.sql}", where.params).fetchone()[0])
    index, column = _search_index(query)
    source = _driven_by(index, column) if where.reads_leads else f"{index} s"
    sql = f"SELECT count(*) FROM {source} WHERE {drive.sql} AND {where.sql}"
    if where.stages is None:
        return int(conn.execute(sql, (*drive.params, *where.params)).fetchone()[0])
    sql += " AND s.rowid BETWEEN ? AND ?"
    return sum(
        int(conn.execute(sql, (*drive.params, *where.params, *stage_range(code))).fetchone()[0])
        for code in sorted(where.stages)
    )


def _hits(
    conn: sqlite3.Connection, query: spec.LeadQuery, where: Where, drive: Where, codes: CodeBook
) -> list[int]:
    """The positions of a search's page, in order: its stages' ranges of the search index, each
    walked in the listing's order, merged (one range: its page read in SQL)."""
    index, column = _search_index(query)
    if where.reads_leads:
        select = f"SELECT l.{column} FROM {_driven_by(index, column)}"
    else:
        select = f"SELECT {position_sql('s.rowid')} FROM {index} s"
    sql = (
        f"{select} WHERE {drive.sql} AND {where.sql} AND s.rowid BETWEEN ? AND ?"
        " ORDER BY s.rowid LIMIT ? OFFSET ?"
    )
    params = (*drive.params, *where.params)
    stages = _stages(where, codes)
    if len(stages) == 1:
        page = (*params, *stage_range(stages[0]), query.limit, query.offset)
        return [r[0] for r in conn.execute(sql, page)]
    end = query.offset + query.limit
    ranges: list[Iterator[int]] = [
        (r[0] for r in conn.execute(sql, (*params, *stage_range(code), end, 0))) for code in stages
    ]
    return list(islice(heapq.merge(*ranges), query.offset, end))


def rows(
    conn: sqlite3.Connection,
    query: spec.LeadQuery,
    *,
    codes: CodeBook,
    totals: Mapping[bool, int],
    counts: dict[tuple[Any, ...], int],
    filters: Mapping[str, SqlFilter] = FILTER_SQL,
    readings: Mapping[str, str] | None = None,
    spell: Callable[[str, Any], tuple[str, ...]] | None = None,
) -> tuple[int, list[bytes]]:
    """The total of ``query`` and the bodies of its page. ``counts`` caches totals by the
    filters' values; ``totals`` holds the listings' sizes (``archived`` True and False).
    ``readings`` and ``spell``: a profile's readings of the filters (see ``Scope``)."""
    offset, limit = query.offset, query.limit
    if not query.has_filters:
        column = "pos" if query.archived else "active_pos"
        found = conn.execute(
            f"SELECT b.body FROM leads l JOIN bodies b ON b.pos = l.pos"
            f" WHERE l.{column} >= ? AND l.{column} < ? ORDER BY l.{column}",
            (offset, offset + limit),
        ).fetchall()
        return totals.get(bool(query.archived), 0), [r[0] for r in found]
    drive, where = _conditions(query, codes, filters, readings=readings or {}, spell=spell)
    key = tuple(query.get(f.name) for f in spec.FILTERS)
    total = counts.get(key)
    if total is None:
        total = counts[key] = _count(conn, query, where, drive)
    if drive is None:
        found = conn.execute(
            f"SELECT b.body FROM (SELECT pos FROM leads WHERE {where.sql} ORDER BY pos LIMIT ? OFFSET ?) p"
            " JOIN bodies b ON b.pos = p.pos ORDER BY p.pos",
            (*where.params, limit, offset),
        ).fetchall()
        return total, [r[0] for r in found]
    hits = _hits(conn, query, where, drive, codes)
    _, column = _search_index(query)
    found = conn.execute(
        f"SELECT b.body FROM leads l JOIN bodies b ON b.pos = l.pos"
        f" WHERE l.{column} IN ({','.join('?' * len(hits))}) ORDER BY l.{column}",
        hits,
    ).fetchall()
    return total, [r[0] for r in found]
