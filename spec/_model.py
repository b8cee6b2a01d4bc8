"""A plain-Python model of ``GET /leads``: which leads match, in which order, on which page,
and the page envelope both the mock and the contract suite build from it.

Which leads match is read from the table of filters (``_parameters.FILTERS``), each with its
``exact``, ``must`` and ``may`` readings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import orjson

from rotor_leads.spec._parameters import Lead
from rotor_leads.spec._query import LeadQuery


def matches(query: LeadQuery, lead: Lead, readings: Mapping[str, str] | None = None) -> bool:
    """Whether ``lead`` is in the answer to ``query``: this project's reading of each filter,
    or the one ``readings`` names for it (filter name → reading name, as a profile holds)."""
    if not readings:
        return all(f.exact(value, lead) for f, value in query.filters())
    return all(f.read(readings.get(f.name))(value, lead) for f, value in query.filters())


def parse_timestamp(value: object) -> datetime | None:
    """An RFC 3339 timestamp (any offset, ``T`` or ``t``) as an aware ``datetime``, or ``None``
    if it is not one. Timestamps compare by instant, whatever offset they are written with."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.upper())
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


_EPOCH: Final = datetime.fromisoformat("0001-01-01T00:00:00+00:00")


def order_key(lead: Lead) -> tuple[datetime, str]:
    """Sort key for newest first with ``reverse=True``: created_at, then id (assumed tie-break).

    Leads without a valid created_at sort last.
    """
    created = parse_timestamp(lead.get("created_at")) or _EPOCH
    lead_id = lead.get("id")
    return created, lead_id if isinstance(lead_id, str) else ""


#: How leads created at the same instant are ordered: this project's choice first (assumed).
TIE_ORDERS: Final = ("id_descending", "id_ascending", "as_listed")


def _created(lead: Lead) -> datetime:
    return parse_timestamp(lead.get("created_at")) or _EPOCH


def _lead_id(lead: Lead) -> str:
    lead_id = lead.get("id")
    return lead_id if isinstance(lead_id, str) else ""


def newest_first(leads: Iterable[Lead], ties: str = "id_descending") -> list[Lead]:
    """``leads`` newest first by created_at; leads created at the same instant by id,
    descending (this project's choice), ascending, or ``as_listed`` (in the order given)."""
    if ties == "id_descending":
        return sorted(leads, key=order_key, reverse=True)
    if ties == "id_ascending":
        leads = sorted(leads, key=_lead_id)
    elif ties != "as_listed":
        raise ValueError(f"no tie order {ties!r}; known: {', '.join(TIE_ORDERS)}")
    return sorted(leads, key=_created, reverse=True)  # a stable sort keeps the ties' order


@dataclass(frozen=True)
class Window:
    """The slice of the matching leads that one page shows."""

    start: int
    stop: int
    has_more: bool


def page_window(total: int, *, page: int, limit: int) -> Window:
    """Pagination arithmetic: page ``page`` (1-based) of ``limit`` among ``total`` matches."""
    start = min((page - 1) * limit, total)
    stop = min(start + limit, total)
    return Window(start, stop, has_more=page * limit < total)


def pagination(total: int, *, page: int, limit: int) -> dict[str, Any]:
    """The ``pagination`` object of a page (its keys in the order the reference page shows)."""
    return {
        "has_more": page_window(total, page=page, limit=limit).has_more,
        "limit": limit,
        "page": page,
        "total": total,
    }


def page_body(
    leads_json: Iterable[bytes],
    total: int,
    *,
    page: int,
    limit: int,
    extra: Mapping[str, Mapping[str, Any]] | None = None,
) -> bytes:
    """The 200 body of a page, from its leads already serialized as JSON objects. ``extra``
    adds undocumented fields a server sends (a profile's ``"pagination"`` and ``"body"`` ones)
    after the documented ones."""
    envelope = pagination(total, page=page, limit=limit)
    tail = b',"status":"success"}'
    if extra:
        envelope.update((k, v) for k, v in extra.get("pagination", {}).items() if k not in envelope)
        more = {k: v for k, v in extra.get("body", {}).items() if k not in ("data", "pagination", "status")}
        if more:
            tail = b',"status":"success",' + orjson.dumps(more)[1:]
    return b"".join((b'{"data":[', b",".join(leads_json), b'],"pagination":', orjson.dumps(envelope), tail))


@dataclass(frozen=True)
class Page:
    data: list[Lead]
    total: int
    has_more: bool


def apply(
    query: LeadQuery,
    leads: Sequence[Lead],
    *,
    ordered: bool = False,
    readings: Mapping[str, str] | None = None,
) -> Page:
    """The page the API answers to ``query`` over ``leads`` (with the filters' ``readings``).

    With ``ordered=True``, ``leads`` are taken as already newest first (a server's own order,
    whose tie-break the model keeps); otherwise the model orders them.
    """
    hits = [lead for lead in leads if matches(query, lead, readings)]
    if not ordered:
        hits = newest_first(hits)
    window = page_window(len(hits), page=query.page, limit=query.limit)
    return Page(hits[window.start : window.stop], len(hits), window.has_more)
