"""What adding a filter takes: one spec row and one SQL row. This test adds ``priority=`` as a
newcomer would (plus its parameter in openapi.yaml, which the mock does not read) and checks
that the query, the model and the store all follow, alone and combined with every filter."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from rotor_leads import spec
from rotor_leads.mock_server.engine._data import generate_leads
from rotor_leads.mock_server.engine.store import LeadStore
from rotor_leads.mock_server.engine.store._filters import FILTER_SQL, equals_column
from rotor_leads.spec import _parameters, _query

# The spec row: how the value is read, the rules it implements, the model's three readings.
PRIORITY = spec.Filter(
    "priority",
    _parameters.text(max_length=10),
    rule_id="filter.stage",  # a real row names its own documented rule in spec/_rules.py
    exact=spec.equals("priority")[0],
    must=spec.equals("priority")[1],
    may=spec.equals("priority")[2],
)
# The SQL row.
SQL = {**FILTER_SQL, "priority": equals_column("priority")}


@pytest.fixture
def with_priority(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    filters = (*spec.FILTERS, PRIORITY)
    parameters = {**spec.PARAMETERS, "priority": PRIORITY}
    for module in (_parameters, _query, spec):
        monkeypatch.setattr(module, "FILTERS", filters, raising=False)
        monkeypatch.setattr(module, "PARAMETERS", parameters, raising=False)
    yield


@pytest.mark.parametrize(
    "query",
    [
        "priority=high",
        "priority=low&archived=true&limit=7&page=2",
        "priority=medium&stage=won",
        "priority=high&tags=vip,solar",
        "priority=low&search=an",
        "priority=medium&search=son&stage=new&tags=hvac&archived=true",
        "priority=urgent",
    ],
)
def test_new_filter__the_store_answers_as_the_model(with_priority: None, query: str) -> None:
    leads: list[dict[str, Any]] = list(generate_leads(400, seed=6))
    store = LeadStore(filters=SQL)
    store.load(leads, source="test")
    parsed = spec.parse_query_string(query)
    assert parsed.priority == query.split("=")[1].split("&")[0]
    expected = spec.apply(parsed, leads)
    body = orjson.loads(store.page(parsed))
    assert [lead["id"] for lead in body["data"]] == [lead["id"] for lead in expected.data]
    assert body["pagination"]["total"] == expected.total


def test_new_filter__a_store_without_its_sql_row_refuses_to_start(with_priority: None) -> None:
    with pytest.raises(RuntimeError, match=r"no SQL for \['priority'\]"):
        LeadStore()
