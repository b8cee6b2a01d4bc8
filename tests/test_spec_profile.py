"""The behaviour profile as a value: its file format, how it reads a query, and drift."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rotor_leads import spec

SEEN = "GET /leads (main key) → 200"
REFUSE_422 = {
    "action": "refuse",
    "status": 422,
    "body": {"status": "error", "message": "bad {parameter}: '{value}'", "error_code": "INVALID"},
}


def profile(**choices: Any) -> spec.Profile:
    return spec.Profile({cid.replace("__", "."): spec.Choice(v, SEEN) for cid, v in choices.items()})


def test_profile__assumed_round_trips_through_its_schema() -> None:
    document = spec.ASSUMED.to_json()
    again = spec.Profile.from_json(json.loads(json.dumps(document)))
    assert again.choices == spec.ASSUMED.choices
    assert document["format"] == "rotor-leads-profile" and document["version"] == 1
    assert spec.profile_drift(spec.ASSUMED, again) == []


def test_profile__says_how_a_server_shows_its_lead_fields() -> None:
    shaped = profile(lead__fields={"notes": "omitted_when_null", "lead_source": "never"})
    lead = {"id": "1", "notes": None, "lead_source": "web", "name": "A"}
    assert shaped.presence_problems(lead) == [
        "notes: null (recorded: left out when null)",
        "lead_source present (recorded: never sent)",
    ]
    fields = shaped.fields or {}
    assert [name for name, value in lead.items() if spec.left_out(fields.get(name), value)] == [
        "notes",
        "lead_source",
    ]


def test_drift__names_each_change_and_only_changes() -> None:
    old = profile(
        page__default_limit=50,
        bad_value__limit__zero={"action": "clamp"},
        lead__fields={"notes": "always"},
        headers={"content_type": "application/json", "rate_limit": [], "other": {"x-request-id": None}},
    )
    new = profile(
        page__default_limit=20,
        bad_value__limit__zero=REFUSE_422,
        lead__fields={"notes": "always", "priority": "never"},
        headers={"content_type": "application/json", "rate_limit": [], "other": {"x-request-id": "abc"}},
        order__ties="id_ascending",  # not recorded before: not a change
    )
    changes = {d.choice: (d.was, d.now) for d in spec.profile_drift(old, new)}
    assert set(changes) == {"page.default_limit", "bad_value.limit.zero", "lead.fields.priority"}
    assert changes["page.default_limit"] == (50, 20)
    assert changes["lead.fields.priority"] == ("(absent)", "never")
    assert changes["bad_value.limit.zero"][1]["status"] == 422


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[1, 2]", r"not a rotor-leads profile at \(top level\)"),
        ('{"format": "rotor-leads-profile", "version": 2, "choices": {}}', "newer rotor-leads"),
        (
            '{"format": "rotor-leads-profile", "version": 1, "recorded": {}, "unobserved": {},'
            ' "choices": {"order.ties": {"value": "random", "seen_in": "x"}}}',
            "choices/order.ties",
        ),
        # A filter this rotor-leads does not declare (recorded by one that did), and a reading
        # a documented filter does not have: a server may not ignore a documented filter.
        (
            '{"format": "rotor-leads-profile", "version": 1,'
            ' "choices": {"filter.priority": {"value": "ignored"}}}',
            "choice filter.priority: no filter 'priority' with readings is declared; the filters with"
            " readings: search, stage, tags",
        ),
        (
            '{"format": "rotor-leads-profile", "version": 1,'
            ' "choices": {"filter.stage": {"value": "ignored"}}}',
            "choice filter.stage: 'ignored' is not a reading of stage; give one of exact, case_insensitive",
        ),
        (
            '{"format": "rotor-leads-profile", "version": 1,'
            ' "choices": {"bad_value.priority.invalid": {"value": {"action": "default"}}}}',
            "choice bad_value.priority.invalid: no filter of a few values is declared under this name",
        ),
        (
            '{"format": "rotor-leads-profile", "version": 1,'
            ' "choices": {"filter.Stage!": {"value": "exact"}}}',
            "not a rotor-leads profile at choices",
        ),
    ],
)
def test_load_profile__names_the_file_and_the_problem(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "p.json"
    path.write_text(text)
    with pytest.raises(spec.ProfileError, match=says) as error:
        spec.load_profile(path)
    assert str(path) in str(error.value)


@pytest.mark.parametrize(
    ("headers", "says"),
    [
        ({"content_type": "text/html", "rate_limit": []}, "JSON media type"),
        ({"content_type": "application/json", "rate_limit": ["X-Limit"]}, "does not match"),
        ({"content_type": "", "rate_limit": [], "other": {"X Bad": None}}, "not a header name"),
        ({"content_type": "", "rate_limit": [], "other": {"content-length": "5"}}, "does not send it"),
        ({"content_type": "", "rate_limit": [], "other": {"x-a": "1\r\nSet-Cookie: a=b"}}, "one line"),
    ],
)
def test_load_profile__headers_the_mock_could_not_send_safely(
    tmp_path: Path, headers: dict[str, Any], says: str
) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps(profile(headers=headers).to_json()))
    with pytest.raises(spec.ProfileError, match=says):
        spec.load_profile(path)


def test_load_profile__a_missing_file() -> None:
    with pytest.raises(spec.ProfileError, match="cannot read it"):
        spec.load_profile("/no/such/profile.json")
