"""Each response on its own and against the whole listing: a fixed plan, then generated queries."""

from __future__ import annotations

import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from contract_tests._checks import Context, check_exchange, first_out_of_order
from contract_tests._plan import PLAN, queries
from contract_tests._snapshot import Snapshot
from contract_tests._target import Target

#: The vacuity gate: at least this share of generated queries must expect leads.
MIN_NON_EMPTY_SHARE = 0.3


def test_full_listing__every_page_keeps_the_contract(model: Context, snapshot: Snapshot) -> None:
    for exchange in snapshot.exchanges:
        check_exchange(model, exchange)


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


@pytest.mark.parametrize("case", list(PLAN))
def test_planned_query__keeps_the_contract(
    case: str, target: Target, model: Context, snapshot: Snapshot
) -> None:
    query = PLAN[case](snapshot)
    if isinstance(query, str):
        pytest.skip(f"the target's data cannot exercise this: {query}")
    check_exchange(model, target.get(query))


def test_generated_queries__keep_the_contract(target: Target, model: Context, snapshot: Snapshot) -> None:
    snap = snapshot
    seen = {"all": 0, "non_empty": 0}

    @given(st.data())
    def run(data: st.DataObject) -> None:
        query = data.draw(queries(snap), label="query")
        exchange = target.get(query)
        note(exchange.describe())
        seen["all"] += 1
        # Expected leads where the whole listing is known; else the leads that came back.
        seen["non_empty"] += bool(snap.expect(query).may if snap.complete else exchange.leads)
        check_exchange(model, exchange)

    run()
    if snap.everything and seen["all"]:
        share = seen["non_empty"] / seen["all"]
        assert share >= MIN_NON_EMPTY_SHARE, (
            f"vacuous run: only {seen['non_empty']} of {seen['all']} generated queries expected any lead;"
            f" the filters were barely exercised"
        )
