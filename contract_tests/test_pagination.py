"""Across requests: walking the pages of a listing (metamorphic; works on unknown data)."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest

import spec
from contract_tests._checks import Context, check_exchange, first_out_of_order
from contract_tests._snapshot import Snapshot
from contract_tests._target import Exchange, Target

MAX_WALK = 5  # pages per walk: the walk costs at most MAX_WALK + 1 requests


@dataclass(frozen=True)
class Walk:
    base: spec.LeadQuery
    listing: list[dict[str, Any]] | None  # the same listing read at limit 1000, if complete
    pages: list[Exchange]
    past_end: Exchange

    @property
    def finished(self) -> bool:
        """Whether the walk reached the last page (a long listing is only walked in part)."""
        return self.pages[-1].pagination.get("has_more") is False


def _walk(target: Target, model: Context, base: spec.LeadQuery, listing: list[dict[str, Any]] | None) -> Walk:
    size = len(listing) if listing is not None else spec.MAX_LIMIT * MAX_WALK
    limit = max(1, min(spec.MAX_LIMIT, math.ceil(size / (MAX_WALK - 1))))
    pages = []
    for page in range(1, MAX_WALK + 1):
        exchange = target.get(base.with_(limit=limit, page=page))
        check_exchange(model, exchange)
        pages.append(exchange)
        if not exchange.pagination.get("has_more"):
            break
    total = pages[-1].pagination.get("total")
    last = math.ceil(total / limit) if isinstance(total, int) and total > 0 else len(pages)
    past_end = target.get(base.with_(limit=limit, page=max(last, len(pages)) + 1))
    check_exchange(model, past_end)
    return Walk(base, listing, pages, past_end)


@pytest.fixture(scope="session", params=["default", "filtered"])
def walk(request: pytest.FixtureRequest, target: Target, model: Context, snapshot: Snapshot) -> Walk:
    snap = snapshot
    if request.param == "default":
        return _walk(target, model, spec.LeadQuery(), snap.default if snap.complete else None)
    tags = Counter(t for lead in snap.default for t in (lead.get("tags") or []) if isinstance(t, str))
    if not tags:
        pytest.skip("the target's data has no tags to filter a listing by")
    tag = tags.most_common(1)[0][0]
    query = spec.LeadQuery().with_(tags=tag)
    return _walk(target, model, query, snap.expect(query).must if snap.complete else None)


def _ids(pages: list[Exchange]) -> list[Any]:
    return [lead.get("id") for page in pages for lead in page.leads]


def test_walk__pages_are_disjoint(walk: Walk, model: Context) -> None:
    repeated = [i for i, n in Counter(_ids(walk.pages)).items() if n > 1]
    model.expect(
        not repeated,
        "order.stable_tie_break",
        walk.pages[-1],
        f"lead {repeated[0]!r} on two pages" if repeated else "",
        "pages never overlap",
    )


def test_walk__pages_add_up_to_the_listing(walk: Walk, model: Context) -> None:
    got = _ids(walk.pages)
    if walk.listing is not None:
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
            "page.one_based",
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
