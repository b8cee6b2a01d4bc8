from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rotor_leads import spec


def _lead(i: int, created: str = "2026-01-01T00:00:00Z", **fields: Any) -> dict[str, Any]:
    return {"id": f"id-{i:03d}", "created_at": created, **fields}


@pytest.mark.parametrize(
    ("total", "page", "limit", "window"),
    [
        (0, 1, 50, (0, 0, False)),
        (1, 1, 50, (0, 1, False)),
        (50, 1, 50, (0, 50, False)),
        (51, 1, 50, (0, 50, True)),
        (51, 2, 50, (50, 51, False)),
        (100, 2, 50, (50, 100, False)),
        (100, 3, 50, (100, 100, False)),
        (142, 1, 50, (0, 50, True)),
        (5, 99, 1, (5, 5, False)),
    ],
)
def test_page_window(total: int, page: int, limit: int, window: tuple[int, int, bool]) -> None:
    got = spec.page_window(total, page=page, limit=limit)
    assert (got.start, got.stop, got.has_more) == window


@given(st.integers(0, 5000), st.integers(1, 1000))
def test_page_window__pages_tile_the_matches(total: int, limit: int) -> None:
    covered = []
    page = 1
    while True:
        window = spec.page_window(total, page=page, limit=limit)
        covered.extend(range(window.start, window.stop))
        if not window.has_more:
            break
        page += 1
    assert covered == list(range(total))


def test_newest_first__ties_broken_by_id_descending() -> None:
    leads = [_lead(1), _lead(3), _lead(2, "2026-02-01T00:00:00+00:00"), _lead(4, "bad")]
    assert [lead["id"] for lead in spec.newest_first(leads)] == [
        "id-002",
        "id-003",
        "id-001",
        "id-004",
    ]


def test_newest_first__compares_instants_not_text() -> None:
    early = _lead(1, "2026-01-01T10:00:00+02:00")  # 08:00Z
    late = _lead(2, "2026-01-01T09:00:00Z")
    assert spec.newest_first([early, late]) == [late, early]


ARCHIVED = _lead(1, archived=True)
OPEN = _lead(2, archived=False, stage="won", tags=["vip", "roof"], name="Ann Lee")
BARE = _lead(3, archived=None, stage=None, tags=None, email=None)


@pytest.mark.parametrize(
    ("params", "lead", "expected"),
    [
        ({}, ARCHIVED, False),
        ({"archived": "true"}, ARCHIVED, True),
        ({}, OPEN, True),
        ({}, BARE, True),
        ({"stage": "won"}, OPEN, True),
        ({"stage": "Won"}, OPEN, False),
        ({"stage": "won"}, BARE, False),
        ({"tags": "roof"}, OPEN, True),
        ({"tags": "x,vip"}, OPEN, True),
        ({"tags": "x, vip "}, OPEN, True),
        ({"tags": "x,y"}, OPEN, False),
        ({"tags": "vip"}, BARE, False),
        ({"tags": ",,"}, BARE, True),
        ({"search": "ann"}, OPEN, True),
        ({"search": "N L"}, OPEN, True),
        ({"search": "zed"}, OPEN, False),
        ({"search": "ann"}, BARE, False),
    ],
)
def test_matches(params: dict[str, str], lead: dict[str, Any], expected: bool) -> None:
    assert spec.matches(spec.parse_query(params.items()), lead) is expected


@pytest.mark.parametrize(
    ("params", "lead", "must", "may"),
    [
        ({"search": "Ann"}, OPEN, True, True),
        ({"search": "ann"}, OPEN, False, True),
        ({"stage": "WON"}, OPEN, False, True),
        ({"tags": " vip"}, OPEN, False, True),
        ({"tags": "VIP"}, OPEN, False, True),
        ({"tags": "vip"}, OPEN, True, True),
    ],
)
def test_filter_bounds__must_and_may(
    params: dict[str, str], lead: dict[str, Any], must: bool, may: bool
) -> None:
    query = spec.parse_query(params.items())
    assert all(f.must(value, lead) for f, value in query.filters()) is must
    assert all(f.may(value, lead) for f, value in query.filters()) is may


leads_strategy = st.lists(
    st.builds(
        dict,
        id=st.uuids().map(str),
        created_at=st.sampled_from(["2026-01-01T00:00:00Z", "2026-03-01T12:00:00Z"]),
        archived=st.booleans(),
        stage=st.sampled_from(["new", "won", None]),
        tags=st.lists(st.sampled_from(["a", "b", "c"]), max_size=2),
        name=st.text(max_size=8),
    ),
    max_size=30,
)
query_strategy = st.builds(
    lambda **values: spec.LeadQuery().with_(**values),
    archived=st.booleans(),
    limit=st.integers(1, 40),
    page=st.integers(1, 4),
    search=st.none() | st.text(min_size=1, max_size=2),
    stage=st.none() | st.sampled_from(["new", "won"]),
    tags=st.none() | st.sampled_from(["a", "b,c", " c "]),
)


@given(leads_strategy, query_strategy)
def test_filter_bounds__must_within_exact_within_may(
    leads: list[dict[str, Any]], query: spec.LeadQuery
) -> None:
    for lead in leads:
        for f, value in query.filters():
            assert not f.must(value, lead) or f.exact(value, lead)
            assert not f.exact(value, lead) or f.may(value, lead)


@given(leads_strategy, query_strategy)
def test_apply__page_is_the_window_of_the_ordered_matches(
    leads: list[dict[str, Any]], query: spec.LeadQuery
) -> None:
    page = spec.apply(query, leads)
    hits = spec.newest_first(lead for lead in leads if spec.matches(query, lead))
    assert page.total == len(hits)
    assert page.data == hits[query.offset : query.offset + query.limit]
    assert page.has_more == (query.page * query.limit < len(hits))
