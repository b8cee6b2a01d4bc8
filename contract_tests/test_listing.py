"""Each response on its own and against the whole listing: the first answer, the full listing,
a fixed plan, the same query again, then generated queries with whatever budget is left."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, note, settings
from hypothesis import strategies as st

from rotor_leads.contract_tests._checks import Collector, Context, check_exchange, first_out_of_order
from rotor_leads.contract_tests._plan import PLAN, queries, why_not
from rotor_leads.contract_tests._snapshot import Snapshot
from rotor_leads.contract_tests._target import Exchange, Target  # noqa: F401

#: Below this share of generated queries expecting leads, the report says the filters were
#: barely exercised.
MIN_NON_EMPTY_SHARE = 0.3


def test_first_answer__keeps_the_contract(first_answer: Exchange, model: Context) -> None:
    check_exchange(model, first_answer)


def test_full_listing__every_page_keeps_the_contract(model: Context, snapshot: Snapshot) -> None:
    collector = Collector()
    for exchange in snapshot.exchanges:
        with collector:
            check_exchange(model, exchange)
    collector.raise_all()


def test_full_listing__newest_first_across_pages(model: Context, snapshot: Snapshot) -> None:
    for listing in (snapshot.everything, snapshot.default):
        pair = first_out_of_order(listing)
        if pair is not None:
            model.fail(
                "order.newest_first",
                snapshot.exchanges[0],
                f"lead {pair[1].get('id')!r} created {pair[1].get('created_at')} listed after"
                f" lead {pair[0].get('id')!r} created {pair[0].get('created_at')}",
                "newest first by created_at, across pages",
            )


def test_full_listing__every_lead_once(model: Context, snapshot: Snapshot) -> None:
    for listing, exchanges in (
        (snapshot.everything, snapshot.exchanges),
        (snapshot.default, snapshot.exchanges),
    ):
        ids = Counter(lead.get("id") for lead in listing if lead.get("id") is not None)
        repeated = [i for i, n in ids.items() if n > 1]
        model.expect(
            not repeated,
            "page.walk",
            exchanges[-1],
            f"lead {repeated[0]!r} on {ids[repeated[0]]} pages of the listing at limit 1000"
            if repeated
            else "",
            "each lead once across the pages",
        )


@pytest.mark.parametrize("case", list(PLAN))
def test_planned_query__keeps_the_contract(
    case: str, target: Target, model: Context, snapshot: Snapshot
) -> None:
    query = PLAN[case](snapshot)
    if isinstance(query, str):
        pytest.skip(why_not(snapshot, query))
    check_exchange(model, target.get(query))


def test_same_query_again__same_answer(target: Target, model: Context, snapshot: Snapshot) -> None:
    """The first page of the default listing, asked for again: the same leads in the same order.
    A server whose order of tied leads changes from one request to the next shows it here, on
    every tie of the page at once."""
    if not snapshot.exchanges or snapshot.exchanges[-1].status != 200:
        pytest.skip("the default listing could not be read")
    first = next(ex for ex in snapshot.exchanges if not ex.query.archived)
    again = target.get(first.query)
    check_exchange(model, again)
    before = [lead.get("id") for lead in first.leads]
    after = [lead.get("id") for lead in again.leads]
    model.expect(
        sorted(map(str, before)) == sorted(map(str, after))
        and first.pagination.get("total") == again.pagination.get("total"),
        "page.walk",
        again,
        f"{len(after)} leads, total {again.pagination.get('total')}; {len(set(after) - set(before))} not in"
        " the first answer",
        f"the same leads as the first answer to the same request ({len(before)} leads, total"
        f" {first.pagination.get('total')})",
    )
    moved = [(b, a) for b, a in zip(before, after, strict=False) if b != a]
    model.expect(
        not moved,
        "page.walk",
        again,
        f"the same leads, {len(moved)} of them in other places (first: {moved[0][1]!r} where"
        f" {moved[0][0]!r} was)"
        if moved
        else "",
        "the same order as the first answer to the same request: where tied leads change places"
        " from one request to the next, a page that ends inside a tie repeats or skips a lead",
    )


def test_generated_queries__keep_the_contract(target: Target, model: Context, snapshot: Snapshot) -> None:
    snap = snapshot
    seen = {"all": 0, "non_empty": 0}
    collector = Collector()
    examples = settings().max_examples
    if target.budget is not None:
        examples = min(examples, target.budget - target.used)
    if examples < 1:
        pytest.skip("the request budget was spent by the fixed checks (raise --max-requests)")

    @settings(max_examples=examples)
    @given(st.data())
    def run(data: st.DataObject) -> None:
        query = data.draw(queries(snap), label="query")
        exchange = target.get(query)
        note(exchange.describe())
        seen["all"] += 1
        # Expected leads where the whole listing is known; else the leads that came back.
        seen["non_empty"] += bool(snap.expect(query).may if snap.complete else exchange.leads)
        with collector:  # every example is checked; each broken rule is reported once
            check_exchange(model, exchange)

    run()
    if snap.everything and seen["all"] and seen["non_empty"] / seen["all"] < MIN_NON_EMPTY_SHARE:
        model.findings.notes.append(
            f"only {seen['non_empty']} of {seen['all']} generated queries expected any lead"
        )
    collector.raise_all()
