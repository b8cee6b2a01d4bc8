"""SQLite storage of the leads, shaped for the one query the mock answers.

* ``_filters`` — the SQL of each filter, one row per filter of ``spec.FILTERS``;
* ``_schema`` — the tables, made from those rows and spec's search fields;
* ``_loading`` — a data set into an empty database;
* ``_answering`` — a query's total and page;
* ``_cache`` — pages and totals remembered;
* ``_store`` — :class:`LeadStore`, which holds the connections;
* ``_files`` — database files with one owner each, built aside, checked, never served damaged.
"""

from __future__ import annotations

from rotor_leads.mock_server.engine.store._files import (
    CHECK_SUFFIX,
    LOCK_SUFFIX,
    Claim,
    claim,
    inspect_file,
    open_built,
    open_or_build,
)
from rotor_leads.mock_server.engine.store._loading import Progress
from rotor_leads.mock_server.engine.store._store import LeadStore, StoreError

__all__ = [
    "CHECK_SUFFIX",
    "LOCK_SUFFIX",
    "Claim",
    "LeadStore",
    "Progress",
    "StoreError",
    "claim",
    "inspect_file",
    "open_built",
    "open_or_build",
]
