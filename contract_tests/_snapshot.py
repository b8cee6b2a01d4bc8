"""The target's whole listing, downloaded once, and what it predicts for any query.

Two listings are read at ``limit=1000``: with ``archived=true`` (everything, in the server's
own order) and without (the default listing). The difference is the archived leads, whatever
the ``archived`` field says. For a query, the filters' documented bounds (``spec.FILTERS``'
``must`` and ``may``) give the leads any reasonable server returns and the leads none may; our
assumed reading gives the exact answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Final

from rotor_leads import spec
from rotor_leads.contract_tests._target import Exchange, Target

PAGE_SIZE: Final = spec.MAX_LIMIT
#: Listings longer than this are not downloaded: the differential checks are then off.
MAX_PAGES: Final = 10


@dataclass(frozen=True, eq=False)
class Expectation:
    """What the full listing predicts for one query (lists in the server's order)."""

    must: list[dict[str, Any]]
    may: list[dict[str, Any]]
    exact: list[dict[str, Any]]
    archived_ids: frozenset[Any]
    rule_id: str  # the documented rule a wrong total breaks
    assumed_rule_id: str | None  # the assumption that decides between must and may

    def __repr__(self) -> str:
        # Counts and ids, not whole leads: -l shows it in failures (whole, with -vv).
        def ids(leads: list[dict[str, Any]]) -> str:
            shown = [str(lead.get("id"))[:8] for lead in leads[:5]]
            return f"{len(leads)} [{', '.join(shown)}{', …' if len(leads) > 5 else ''}]"

        return (
            f"Expectation(must={ids(self.must)}, may={ids(self.may)}, exact={ids(self.exact)}, "
            f"rule_id={self.rule_id!r}, assumed_rule_id={self.assumed_rule_id!r})"
        )

    @property
    def determinate(self) -> bool:
        return len(self.must) == len(self.may)

    @cached_property
    def may_ids(self) -> frozenset[Any]:
        return frozenset(lead.get("id") for lead in self.may)


@dataclass(frozen=True)
class Snapshot:
    """Both listings, or as much of them as could be read (``problem`` says why not all)."""

    everything: list[dict[str, Any]]  # archived=true, in the server's order
    default: list[dict[str, Any]]  # the default listing, in the server's order
    exchanges: list[Exchange]
    problem: str | None = None
    #: The filters' readings the exact answer follows (filter → reading; others: this project's).
    readings: dict[str, str] = field(default_factory=dict)
    _expectations: dict[tuple[Any, ...], Expectation] = field(default_factory=dict, repr=False, compare=False)
    #: Which leads of a listing one filter keeps, by (listing, filter, reading, value): queries
    #: combine the same few values in many ways, and a predicate over every lead is the cost.
    _kept: dict[tuple[bool, str, str, Any], frozenset[int]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def __repr__(self) -> str:
        # Its size, not its leads: -l shows it in every failure (whole, with -vv).
        return (
            f"Snapshot({len(self.everything)} leads with archived=true, {len(self.default)} without, "
            f"{len(self.exchanges)} requests, problem={self.problem!r}, readings={self.readings!r})"
        )

    @property
    def complete(self) -> bool:
        return self.problem is None

    @cached_property
    def by_id(self) -> dict[Any, dict[str, Any]]:
        """The leads of the full listing by id (the first, if a server lists one twice)."""
        out: dict[Any, dict[str, Any]] = {}
        for lead in self.everything:
            out.setdefault(lead.get("id"), lead)
        return out

    @cached_property  # asked for every checked answer; the listings never change
    def archived_ids(self) -> frozenset[Any]:
        shown = {lead.get("id") for lead in self.default}
        return frozenset(lead.get("id") for lead in self.everything if lead.get("id") not in shown)

    def expect(self, query: spec.LeadQuery) -> Expectation:
        """What the full listing predicts for ``query`` (whatever its page and limit)."""
        key = tuple(query.get(f.name) for f in spec.FILTERS)
        cached = self._expectations.get(key)
        if cached is None:
            cached = self._expectations[key] = self._expect(query)
        return cached

    def _expect(self, query: spec.LeadQuery) -> Expectation:
        archived = bool(query.archived)
        base = self.everything if archived else self.default
        # The listing chosen by archived is read as such; the other filters narrow it.
        used = [(f, value) for f, value in query.filters() if f.narrows]

        def keep(reading: str) -> list[dict[str, Any]]:
            kept = set(range(len(base)))
            for f, value in used:
                kept &= self._kept_by(archived, f, reading, value)
            return [lead for i, lead in enumerate(base) if i in kept]

        must, may, exact = keep("must"), keep("may"), keep("exact")
        rule_id = used[0][0].rule_id if len(used) == 1 else "page.total"
        assumed = next(
            (
                f.assumed_rule_id
                for f, value in used
                if self._kept_by(archived, f, "must", value) != self._kept_by(archived, f, "may", value)
            ),
            None,
        )
        return Expectation(must, may, exact, self.archived_ids, rule_id, assumed)

    def _kept_by(self, archived: bool, f: spec.Filter, reading: str, value: Any) -> frozenset[int]:
        """The positions in the listing of the leads ``f`` keeps for ``value``, by ``reading``
        (``exact``: the profile's reading of ``f``, or this project's; ``must``, ``may``)."""
        key = (archived, f.name, reading, value)
        kept = self._kept.get(key)
        if kept is None:
            predicate = f.read(self.readings.get(f.name)) if reading == "exact" else getattr(f, reading)
            base = self.everything if archived else self.default
            kept = self._kept[key] = frozenset(i for i, lead in enumerate(base) if predicate(value, lead))
        return kept


def _listing(target: Target, *, archived: bool) -> tuple[list[dict[str, Any]], list[Exchange], str | None]:
    """One listing, page by page at limit 1000: its leads, the exchanges, and a problem if any."""
    leads: list[dict[str, Any]] = []
    exchanges: list[Exchange] = []
    base = spec.LeadQuery().with_(limit=PAGE_SIZE)
    if archived:
        base = base.with_(archived=True)
    for page in range(1, MAX_PAGES + 1):
        exchange = target.get(base.with_(page=page))
        exchanges.append(exchange)
        if exchange.status != 200 or not isinstance(exchange.body, dict):
            return leads, exchanges, f"{exchange.describe()}: {exchange.text[:200]!r}"
        leads.extend(exchange.leads)
        total = exchange.pagination.get("total")
        if isinstance(total, int) and total > MAX_PAGES * PAGE_SIZE:
            return (
                leads,
                exchanges,
                f"the listing has {total} leads, more than the {MAX_PAGES * PAGE_SIZE} read",
            )
        if not exchange.leads or not isinstance(total, int) or len(leads) >= total:
            return leads, exchanges, None
        if len(exchange.leads) != PAGE_SIZE:
            return (
                leads,
                exchanges,
                f"{exchange.describe()}: {len(exchange.leads)} leads on a page of limit {PAGE_SIZE}",
            )
    return leads, exchanges, f"the listing has more than {MAX_PAGES * PAGE_SIZE} leads"


def take_snapshot(target: Target, readings: dict[str, str] | None = None) -> Snapshot:
    """Download both listings (a few requests at limit=1000). Whatever cannot be read is named
    in ``problem``: the differential checks are then off, the other checks stay on. The exact
    answers follow the filters' ``readings`` (a profile's; others: this project's)."""
    everything, one, problem = _listing(target, archived=True)
    default, two, other = _listing(target, archived=False)
    return Snapshot(everything, default, [*one, *two], problem or other, readings=dict(readings or {}))
