"""Across requests: walking the pages of a listing, to a page that ends at the total, one lead
after it or one lead before it, and past the end (metamorphic; works on unknown data too)."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest

from rotor_leads import spec
from rotor_leads.contract_tests._checks import Collector, Context, check_exchange, first_out_of_order
from rotor_leads.contract_tests._plan import MAX_WALK, walk_limit, walk_queries, why_not
from rotor_leads.contract_tests._snapshot import Snapshot
from rotor_leads.contract_tests._target import Exchange, Target

WALKS = ["default", "tags", "stage_archived"]


@dataclass(frozen=True)
class Walk:
    base: spec.LeadQuery
    listing: list[dict[str, Any]] | None  # the same listing read at limit 1000, if complete
    pages: list[Exchange]
    past_end: Exchange
    #: What each page's own checks found: raised by the walk's first test, not by the fixture
    #: (a broken page is a failed check, not an error of the suite).
    checked: Collector

    @property
    def finished(self) -> bool:
        """Whether the walk reached the last page (a long listing is only walked in part)."""
        return self.pages[-1].pagination.get("has_more") is False


def _walk(
    target: Target, model: Context, base: spec.LeadQuery, listing: list[dict[str, Any]] | None, kind: Any
) -> Walk:
    size = len(listing) if listing is not None else spec.MAX_LIMIT * MAX_WALK
    limit = walk_limit(size, kind)
    pages = []
    collector = Collector()
    for page in range(1, MAX_WALK + 1):
        exchange = target.get(base.with_(limit=limit, page=page))
        with collector:
            check_exchange(model, exchange)
        pages.append(exchange)
        if not exchange.pagination.get("has_more"):
            break
    total = pages[-1].pagination.get("total")
    last = math.ceil(total / limit) if isinstance(total, int) and total > 0 else len(pages)
    past_end = target.get(base.with_(limit=limit, page=max(last, len(pages)) + 1))
    with collector:
        check_exchange(model, past_end)
    return Walk(base, listing, pages, past_end, collector)


@pytest.fixture(scope="session", params=WALKS)
def walk(request: pytest.FixtureRequest, target: Target, model: Context, snapshot: Snapshot) -> Walk:
    snap = snapshot
    name, query, kind = next(w for w in walk_queries(snap) if w[0] == request.param)
    if isinstance(query, str):
        pytest.skip(why_not(snap, query))
    listing = None
    if snap.complete:
        exp = snap.expect(query)
        listing = exp.must if exp.determinate else exp.exact
    return _walk(target, model, query, listing, kind)


def _ids(pages: list[Exchange]) -> list[Any]:
    return [lead.get("id") for page in pages for lead in page.leads]


def test_walk__every_page_keeps_the_contract(walk: Walk) -> None:
    walk.checked.raise_all()


def test_walk__every_lead_once(walk: Walk, model: Context) -> None:
    repeated = [i for i, n in Counter(_ids(walk.pages)).items() if n > 1]
    model.expect(
        not repeated,
        "page.walk",
        walk.pages[-1],
        f"lead {repeated[0]!r} on two pages" if repeated else "",
        "pages never overlap",
    )


def test_walk__pages_add_up_to_the_listing(walk: Walk, model: Context) -> None:
    got = _ids(walk.pages)
    if walk.listing is not None and walk.finished:
        want = [lead.get("id") for lead in walk.listing]
        model.expect(
            len(got) == len(want),
            "page.total",
            walk.pages[-1],
            f"{len(got)} leads over {len(walk.pages)} pages",
            f"{len(want)}: the whole listing",
        )
        model.expect(
            set(got) == set(want),
            "page.walk",
            walk.pages[-1],
            f"{len(set(got) - set(want))} leads not in the listing, {len(set(want) - set(got))} missing",
            "walking the pages gives the same leads as one big page",
        )
    elif walk.finished:  # a listing too long to read whole: its pages add up to its total
        total = walk.pages[-1].pagination.get("total")
        model.expect(
            len(got) == total,
            "page.total",
            walk.pages[-1],
            f"{len(got)} leads over {len(walk.pages)} pages",
            f"{total}: the total every page reports",
        )
    leads = [lead for page in walk.pages for lead in page.leads]
    pair = first_out_of_order(leads)
    model.expect(
        pair is None,
        "order.newest_first",
        walk.pages[-1],
        f"lead {pair[1].get('id')!r} after lead {pair[0].get('id')!r}" if pair else "",
        "the pages, end to end, are newest first",
    )


def test_walk__total_does_not_depend_on_limit_or_page(walk: Walk, model: Context) -> None:
    totals = {page.pagination.get("total") for page in [*walk.pages, walk.past_end]}
    if walk.listing is None:
        model.expect(
            len(totals) == 1,
            "page.total",
            walk.pages[0],
            f"totals {sorted(totals, key=str)}",
            "the same total on every page",
        )
        return
    model.expect(
        totals == {len(walk.listing)},
        "page.total",
        walk.pages[0],
        f"totals {sorted(totals, key=str)}",
        f"{len(walk.listing)} on every page, as at limit 1000",
    )


def test_walk__page_past_the_end_is_empty(walk: Walk, model: Context) -> None:
    ex = walk.past_end
    model.expect(
        ex.status == 200 and not ex.leads and ex.pagination.get("has_more") is False,
        "page.past_end",
        ex,
        f"{ex.status}, {len(ex.leads)} leads, has_more {ex.pagination.get('has_more')}",
        "200 with no leads and has_more false",
    )


def test_ties__a_page_boundary_inside_a_tie_splits_it_once(
    target: Target, model: Context, snapshot: Snapshot
) -> None:
    from rotor_leads.contract_tests._plan import tie_split

    if not snapshot.complete:
        pytest.skip(f"the whole listing could not be read to find ties: {snapshot.problem}")
    split = tie_split(snapshot)
    if isinstance(split, str):
        pytest.skip(why_not(snapshot, split))
    query, tied, covered = split
    before, after, again = (
        target.get(query),
        target.get(query.with_(page=query.page + 1)),
        target.get(query),
    )
    collector = Collector()
    for exchange in (before, after, again):
        with collector:
            check_exchange(model, exchange)
    collector.raise_all()
    group = set(tied)
    left = [i for i in (lead.get("id") for lead in before.leads) if i in group]
    right = [i for i in (lead.get("id") for lead in after.leads) if i in group]
    both = set(left) & set(right)
    model.expect(
        not both and len(left) + len(right) == covered,
        "page.walk",
        after,
        f"of {len(group)} leads created at the same instant, {len(both)} on both pages and"
        f" {len(left) + len(right) - len(both)} in all",
        f"{covered} of them on page {query.page} or page {query.page + 1}, each once",
    )
    model.expect(
        {lead.get("id") for lead in again.leads} == {lead.get("id") for lead in before.leads},
        "page.walk",
        again,
        "other leads than the first time this page was asked for",
        "the same leads every time the same page is asked for",
    )
