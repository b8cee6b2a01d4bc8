"""The database's tables, made from the filters' SQL rows (``_filters``) and spec's search
fields, and the statements that load them.

Leads are stored in the spec's order (``spec.newest_first``): a lead's ``pos`` is its position
in the newest-first listing, and ``active_pos`` its position among the leads that are not
archived. So an unfiltered page is a range read, and every filtered page is an index walk in
``pos`` order. Each lead is serialized once, at load, into ``bodies``; ``leads`` keeps only what
filters read, so that walking it stays cheap at a million rows. Without a search, totals come
from ``counts`` (a few rows per combination of the filters' columns). A search drives the query
from a trigram index over spec's search fields; there are two, one over every lead and one over
the leads that are not archived, so that the usual query counts in the index alone.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Final

from rotor_leads import spec
from rotor_leads.mock_server.engine.store._filters import FILTER_SQL, Column, SqlFilter


def columns(filters: Mapping[str, SqlFilter] = FILTER_SQL) -> list[Column]:
    return [c for row in filters.values() for c in row.columns]


def schema_sql(filters: Mapping[str, SqlFilter] = FILTER_SQL) -> str:
    """The DDL of a data set's database."""
    cols = columns(filters)
    filter_columns = "".join(f",\n    {c.name} {c.sql_type}" for c in cols)
    indexes = "".join(
        f"CREATE INDEX leads_{c.name} ON leads ({c.name}, archived, pos);\n" for c in cols if c.index
    )
    search_fields = ", ".join(spec.SEARCH_FIELDS)
    counted = "".join(f", {c.name} {c.sql_type.replace(' NOT NULL', '')}" for c in cols)
    return f"""
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE leads (
    pos INTEGER PRIMARY KEY,  -- position in the newest-first listing
    active_pos INTEGER,       -- position among leads not archived (NULL if archived)
    archived INTEGER NOT NULL{filter_columns}
);
CREATE TABLE bodies (pos INTEGER PRIMARY KEY, body BLOB NOT NULL);
CREATE UNIQUE INDEX leads_active ON leads (active_pos) WHERE active_pos IS NOT NULL;
{indexes}-- Every tag of every lead; filters read it only for tags beyond the ones with a bit.
CREATE TABLE lead_tags (tag TEXT NOT NULL, pos INTEGER NOT NULL, PRIMARY KEY (tag, pos)) WITHOUT ROWID;
CREATE VIRTUAL TABLE lead_search USING fts5 ({search_fields}, tokenize = 'trigram case_sensitive 1');
CREATE VIRTUAL TABLE active_search USING fts5 ({search_fields}, tokenize = 'trigram case_sensitive 1');
CREATE TABLE counts (archived INTEGER NOT NULL{counted}, n INTEGER NOT NULL);
"""


def leads_insert(filters: Mapping[str, SqlFilter] = FILTER_SQL) -> str:
    cols = columns(filters)
    return f"INSERT INTO leads VALUES (?, ?, ?{', ?' * len(cols)})"


def search_insert(index: str) -> str:
    return (
        f"INSERT INTO {index} (rowid, {', '.join(spec.SEARCH_FIELDS)})"
        f" VALUES (?{', ?' * len(spec.SEARCH_FIELDS)})"
    )


def counts_insert(filters: Mapping[str, SqlFilter] = FILTER_SQL) -> str:
    names = ["archived", *(c.name for c in columns(filters))]
    return f"INSERT INTO counts SELECT {', '.join(names)}, count(*) FROM leads GROUP BY {', '.join(names)}"


SEARCH_INDEXES: Final = ("lead_search", "active_search")
TABLES: Final = ("meta", "leads", "bodies", "lead_tags", "lead_search", "active_search", "counts")
#: Changes whenever the tables do: a database file of another layout is built again.
SCHEMA_VERSION: Final = f"8-{zlib.crc32(schema_sql().encode()):08x}"
