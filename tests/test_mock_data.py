from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson
import pytest

from rotor_leads import spec
from rotor_leads.mock_server.engine._data import TAGS, FixtureError, generate_leads, load_fixture_file


def test_generate__deterministic_by_seed() -> None:
    assert list(generate_leads(50, seed=4)) == list(generate_leads(50, seed=4))
    assert list(generate_leads(50, seed=4)) != list(generate_leads(50, seed=5))


def test_generate__realistic_and_valid() -> None:
    leads = list(generate_leads(2000, seed=1))
    body = {"data": leads, "pagination": {"has_more": False, "limit": 1000, "page": 1, "total": 2000}}
    assert spec.body_violations(200, {**body, "status": "success"}, strict=True) == []
    archived = sum(lead["archived"] for lead in leads) / len(leads)
    assert 0.10 < archived < 0.20
    assert all((lead["archived_at"] is None) != lead["archived"] for lead in leads)
    created = Counter(lead["created_at"] for lead in leads)
    assert any(n > 1 for n in created.values()), "no exact creation-time ties"
    days = {lead["created_at"][:7] for lead in leads}
    assert len(days) >= 6, "creation dates should spread over months"
    assert set().union(*(lead["tags"] for lead in leads)) == set(TAGS)
    assert len({lead["id"] for lead in leads}) == len(leads)
    assert all("@" in lead["email"] and len(lead["location"]) == 2 for lead in leads)


def _write(tmp_path: Path, content: bytes) -> Path:
    path = tmp_path / "leads.json"
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"not json", "not valid JSON"),
        (b'{"id": 1}', "expected a JSON array"),
        (b"[1]", "record 0: expected a lead object"),
        (b'[{"id": "a", "created_at": "2026-01-01T00:00:00Z", "tags": "vip"}]', "record 0, field tags"),
        (
            b'[{"id": "a", "created_at": "2026-01-01T00:00:00"}]',
            "field created_at: '2026-01-01T00:00:00' is not a 'date-time'",
        ),
        (
            b'[{"id": "a", "created_at": "2026-01-01T00:00:00Z"},'
            b' {"id": "a", "created_at": "2026-01-01T00:00:00Z"}]',
            "record 1, field id",
        ),
    ],
)
def test_fixture_file__one_line_error_naming_record_and_field(
    tmp_path: Path, content: bytes, says: str
) -> None:
    with pytest.raises(FixtureError) as caught:
        load_fixture_file(_write(tmp_path, content))
    assert says in str(caught.value)
    assert "\n" not in str(caught.value)


def test_fixture_file__missing(tmp_path: Path) -> None:
    with pytest.raises(FixtureError, match="cannot read it"):
        load_fixture_file(tmp_path / "nope.json")


def test_fixture_file__valid(tmp_path: Path) -> None:
    leads = [{"id": "a", "created_at": "2026-01-01T00:00:00Z", "archived_at": None}]
    assert load_fixture_file(_write(tmp_path, orjson.dumps(leads))) == leads


def test_generate__places_belong_together_and_phones_are_valid() -> None:
    import re

    import phonenumbers
    import zipcodes

    leads = list(generate_leads(400, seed=3))
    for lead in leads[:120]:
        (record,) = zipcodes.matching(lead["property_zip"])
        assert (record["city"], record["state"]) == (lead["property_city"], lead["property_state"])
        assert lead["location"] == [round(float(record["lat"]), 5), round(float(record["long"]), 5)]
        assert re.fullmatch(r"\+1 [2-9]\d\d-[2-9]\d\d-\d{4}", lead["phone"]), lead["phone"]
        assert lead["phone"][3:6] in record["area_codes"]
        assert phonenumbers.is_valid_number(phonenumbers.parse(lead["phone"]))
    assert len({lead["property_state"] for lead in leads}) >= 20
