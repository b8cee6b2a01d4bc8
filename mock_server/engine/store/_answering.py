"""Answering a query from a loaded database: its total (the cheapest exact count) and the
bodies of its page, walked in order from the most selective side.

Without filters a page is a range of positions. A search drives the query from its index
(which holds only the leads of the listing asked for); the other filters check its hits, on
the index's rowids alone where they can (see ``_filters``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping
from typing import Any

from rotor_leads import spec
from rotor_leads.mock_server.engine.store._filters import (
    CODE_BITS,
    FILTER_SQL,
    CodeBook,
    Scope,
    SqlFilter,
    Where,
)


def _search_index(query: spec.LeadQuery) -> tuple[str, str]:
    """The search index for ``query`` and the ``leads`` column its rowids are made from."""
    return ("lead_search", "pos") if query.archived else ("active_search", "active_pos")


def _driven_by(index: str, column: str) -> str:
    # CROSS JOIN keeps the search index as the outer loop: SQLite's planner may otherwise probe
    # the index once per lead (seconds at a million leads instead of milliseconds).
    return f"{index} s CROSS JOIN leads l ON l.{column} = s.rowid >> {CODE_BITS}"


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
    return drive, Where(
        " AND ".join(w.sql for w in wheres) or "1",
        tuple(p for w in wheres for p in w.params),
        reads_leads=any(w.reads_leads for w in wheres),
        on_counts=all(w.on_counts for w in wheres),
    )


def _count_sql(query: spec.LeadQuery, where: Where, drive: Where | None) -> str:
    """The cheapest exact count: a few rows of ``counts`` when there is no search and every
    condition reads the filters' columns only; the search index alone when the conditions read
    only its rowids; else a join."""
    if drive is None:
        if where.on_counts:
            return f"SELECT coalesce(sum(n), 0) FROM counts WHERE {where.sql}"
        return f"SELECT count(*) FROM leads WHERE {where.sql}"
    index, column = _search_index(query)
    source = _driven_by(index, column) if where.reads_leads else f"{index} s"
    return f"SELECT count(*) FROM {source} WHERE {drive.sql} AND {where.sql}"


def _page_sql(query: spec.LeadQuery, where: Where, drive: Where | None) -> str:
    """The positions (``pos``) of one page, walked in order from the most selective side."""
    if drive is None:
        return f"SELECT pos FROM leads WHERE {where.sql} ORDER BY pos LIMIT ? OFFSET ?"
    index, column = _search_index(query)
    if where.reads_leads:
        return (
            f"SELECT l.pos FROM {_driven_by(index, column)} WHERE {drive.sql} AND {where.sql}"
            " ORDER BY s.rowid LIMIT ? OFFSET ?"
        )
    hits = (
        f"SELECT s.rowid >> {CODE_BITS} AS n FROM {index} s WHERE {drive.sql} AND {where.sql}"
        " ORDER BY s.rowid LIMIT ? OFFSET ?"
    )
    if column == "pos":
        return f"SELECT n AS pos FROM ({hits})"
    return f"SELECT l.pos FROM ({hits}) CROSS JOIN leads l ON l.active_pos = n"


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
    params = (*(drive.params if drive else ()), *where.params)
    key = tuple(query.get(f.name) for f in spec.FILTERS)
    total = counts.get(key)
    if total is None:
        total = int(conn.execute(_count_sql(query, where, drive), params).fetchone()[0])
        counts[key] = total
    page_sql = _page_sql(query, where, drive)
    found = conn.execute(
        f"SELECT b.body FROM ({page_sql}) p JOIN bodies b ON b.pos = p.pos ORDER BY p.pos",
        (*params, limit, offset),
    ).fetchall()
    return total, [r[0] for r in found]
