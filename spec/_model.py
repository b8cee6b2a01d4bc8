"""A plain-Python model of ``GET /leads``: which leads match, in which order, on which page.

Each filter is a small :class:`Filter` of three predicates, wired up in ``FILTERS``:

* ``exact`` — this project's reading (documented rules plus the assumed ones); the mock serves
  exactly this, and strict mode holds a server to it.
* ``must`` — leads every reasonable reading of the documented rule returns;
* ``may`` — leads some reasonable reading could return; a lead outside breaks the documented rule.

So ``must ⊆ exact ⊆ may``; a live server is held to the documented bounds unless strict.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from rotor_leads.spec._query import LeadQuery

Lead = Mapping[str, Any]
_Predicate = Callable[[LeadQuery, Lead], bool]
SEARCH_FIELDS: Final = ("name", "email", "phone")


@dataclass(frozen=True)
class Filter:
    """One query filter: which parameter, which rules, and its three readings."""

    parameter: str
    rule_id: str  # the documented rule
    assumed_rule_id: str | None  # the rule that makes ``exact`` narrower than the bounds
    exact: _Predicate
    must: _Predicate
    may: _Predicate


def is_archived(lead: Lead) -> bool:
    return lead.get("archived") is True


def _archived(query: LeadQuery, lead: Lead) -> bool:
    return query.archived or not is_archived(lead)


def _lead_tags(lead: Lead) -> list[str]:
    tags = lead.get("tags")
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


def _verbatim_tags(query: LeadQuery) -> list[str]:
    # The items every reading agrees on: no surrounding white space, not empty.
    return [t for t in (query.tags or "").split(",") if t and t == t.strip()]


def _tags_exact(query: LeadQuery, lead: Lead) -> bool:
    wanted = query.tag_list
    return not wanted or any(t in wanted for t in _lead_tags(lead))


def _tags_must(query: LeadQuery, lead: Lead) -> bool:
    return not query.tag_list or any(t in _verbatim_tags(query) for t in _lead_tags(lead))


def _tags_may(query: LeadQuery, lead: Lead) -> bool:
    wanted = {t.casefold() for t in query.tag_list}
    return not wanted or any(t.strip().casefold() in wanted for t in _lead_tags(lead))


def _stage(lead: Lead) -> str | None:
    stage = lead.get("stage")
    return stage if isinstance(stage, str) else None


def _stage_exact(query: LeadQuery, lead: Lead) -> bool:
    return query.stage is None or _stage(lead) == query.stage


def _stage_may(query: LeadQuery, lead: Lead) -> bool:
    stage = _stage(lead)
    return query.stage is None or (
        stage is not None and stage.strip().casefold() == query.stage.strip().casefold()
    )


def search_texts(lead: Lead) -> list[str]:
    """The texts ``search`` looks in: name, email and phone, where present."""
    return [v for v in (lead.get(f) for f in SEARCH_FIELDS) if isinstance(v, str)]


def _search_exact(query: LeadQuery, lead: Lead) -> bool:
    if query.search is None:
        return True
    needle = query.search.lower()
    return any(needle in text.lower() for text in search_texts(lead))


def _search_must(query: LeadQuery, lead: Lead) -> bool:
    needle = query.search
    return needle is None or any(needle in text for text in search_texts(lead))


def _search_may(query: LeadQuery, lead: Lead) -> bool:
    if query.search is None:
        return True
    needle = query.search.casefold()
    return any(needle in text.casefold() for text in search_texts(lead))


FILTERS: Final[tuple[Filter, ...]] = (
    Filter("archived", "filter.archived", None, _archived, _archived, _archived),
    Filter("stage", "filter.stage", "filter.stage.exact", _stage_exact, _stage_exact, _stage_may),
    Filter("tags", "filter.tags.any", "filter.tags.split", _tags_exact, _tags_must, _tags_may),
    Filter(
        "search",
        "filter.search",
        "filter.search.case_insensitive",
        _search_exact,
        _search_must,
        _search_may,
    ),
)


def matches(query: LeadQuery, lead: Lead) -> bool:
    """Whether ``lead`` is in the answer to ``query`` (this project's exact reading)."""
    return all(f.exact(query, lead) for f in FILTERS)


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


def newest_first(leads: Iterable[Lead]) -> list[Lead]:
    return sorted(leads, key=order_key, reverse=True)


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


@dataclass(frozen=True)
class Page:
    data: list[Lead]
    total: int
    has_more: bool


def apply(query: LeadQuery, leads: Sequence[Lead], *, ordered: bool = False) -> Page:
    """The page the API answers to ``query`` over ``leads``.

    With ``ordered=True``, ``leads`` are taken as already newest first (a server's own order,
    whose tie-break the model keeps); otherwise the model orders them.
    """
    hits = [lead for lead in leads if matches(query, lead)]
    if not ordered:
        hits = newest_first(hits)
    window = page_window(len(hits), page=query.page, limit=query.limit)
    return Page(hits[window.start : window.stop], len(hits), window.has_more)
