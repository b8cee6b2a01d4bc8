"""Filters across requests: any-of tags is a union; archived=true is a superset."""

from __future__ import annotations

from collections import Counter

import pytest

from rotor_leads import spec
from rotor_leads.contract_tests._checks import Context, check_exchange
from rotor_leads.contract_tests._plan import why_not
from rotor_leads.contract_tests._snapshot import Snapshot
from rotor_leads.contract_tests._target import Target


def test_archived__true_is_a_superset_of_the_default(model: Context, snapshot: Snapshot) -> None:
    snap = snapshot
    if not snap.complete:
        pytest.skip(f"the whole listing could not be read to compare: {snap.problem}")
    everything = {lead.get("id") for lead in snap.everything}
    hidden = [lead for lead in snap.default if lead.get("id") not in everything]
    model.expect(
        not hidden,
        "filter.archived",
        snap.exchanges[-1],
        f"{len(hidden)} leads of the default listing missing with archived=true",
        "archived=true adds the archived leads to the default listing",
    )


def test_archived__flagged_leads_are_hidden_by_default(model: Context, snapshot: Snapshot) -> None:
    snap = snapshot
    shown = [lead for lead in snap.default if spec.is_archived(lead)]
    model.expect(
        not shown,
        "filter.archived",
        snap.exchanges[-1],
        f"lead {shown[0].get('id')!r} with archived: true" if shown else "",
        "the default listing hides archived leads",
    )
    flagged = [lead for lead in snap.everything if spec.is_archived(lead)]
    if not flagged:
        pytest.skip(why_not(snap, "no lead is flagged archived"))


def test_tags__any_of_two_is_the_union_of_each(target: Target, model: Context, snapshot: Snapshot) -> None:
    snap = snapshot
    tags = [t for t, _ in Counter(t for lead in snap.default for t in (lead.get("tags") or [])).most_common()]
    if len(tags) < 2:
        pytest.skip(why_not(snap, "fewer than two distinct tags"))
    a, b = tags[-1], tags[len(tags) // 2]
    answers = {}
    for raw in (a, b, f"{a},{b}"):
        exchange = target.get(spec.LeadQuery().with_(tags=raw, limit=spec.MAX_LIMIT))
        check_exchange(model, exchange)
        answers[raw] = exchange
    both = answers[f"{a},{b}"]
    union = {lead.get("id") for raw in (a, b) for lead in answers[raw].leads}
    got = {lead.get("id") for lead in both.leads}
    if all(not ex.pagination.get("has_more") for ex in answers.values()):
        model.expect(
            got == union,
            "filter.tags.any",
            both,
            f"{len(got)} leads ({len(got - union)} in neither, {len(union - got)} missing)",
            f"the {len(union)} leads of tags={a} and tags={b} together",
        )
    numbers = [answers[raw].numbers for raw in (a, b, f"{a},{b}")]
    if all(n is not None for n in numbers):
        ta, tb, tab = (n[2] for n in numbers if n is not None)
        model.expect(
            max(ta, tb) <= tab <= ta + tb,
            "filter.tags.any",
            both,
            f"total {tab}",
            f"between {max(ta, tb)} and {ta + tb} (tags={a}: {ta}, tags={b}: {tb})",
        )
