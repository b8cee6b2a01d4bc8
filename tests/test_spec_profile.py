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


def test_profile__reads_the_defaults_it_recorded() -> None:
    query = profile(page__default_limit=25).read_query("")
    assert query.limit == 25 and query.page == 1
    assert profile(page__default_limit=25).read_query("limit=7").limit == 7


@pytest.mark.parametrize(
    ("outcome", "raw", "limit"),
    [
        ({"action": "clamp"}, "limit=0", 1),
        ({"action": "clamp"}, "limit=-5", 1),  # recorded for zero, used for negative too
        ({"action": "default"}, "limit=0", 50),
        ({"action": "value", "value": 10}, "limit=0", 10),
    ],
)
def test_profile__a_bad_value_is_taken_as_recorded(outcome: dict[str, Any], raw: str, limit: int) -> None:
    assert profile(bad_value__limit__zero=outcome).read_query(raw).limit == limit


def test_profile__a_refusal_fills_in_the_parameter_and_value() -> None:
    with pytest.raises(spec.Refused) as refused:
        profile(bad_value__limit__zero=REFUSE_422).read_query("limit=0")
    assert refused.value.status == 422
    assert refused.value.body == {"status": "error", "message": "bad limit: '0'", "error_code": "INVALID"}


def test_profile__an_unrecorded_kind_is_refused_as_the_server_refuses_the_others() -> None:
    with pytest.raises(spec.Refused) as refused:
        profile(bad_value__limit__zero=REFUSE_422).read_query("page=abc")
    assert refused.value.status == 422 and refused.value.body["error_code"] == "INVALID"
    assert "page" in refused.value.body["message"]  # the mock's own message, in the server's shape


@pytest.mark.parametrize(("action", "limit"), [("first", 5), ("last", 6)])
def test_profile__a_repeated_parameter_as_recorded(action: str, limit: int) -> None:
    assert profile(bad_value__repeated={"action": action}).read_query("limit=5&limit=6").limit == limit


def test_profile__unknown_parameters_refused_when_recorded() -> None:
    refusing = profile(request__unknown_parameters=REFUSE_422)
    with pytest.raises(spec.Refused) as refused:
        refusing.read_query("_=1")
    assert refused.value.body["message"] == "bad _: '1'"
    assert spec.ASSUMED.read_query("_=1") == spec.parse_query_string("")


def test_profile__presents_a_lead_as_the_server_did() -> None:
    shaped = profile(
        lead__fields={"notes": "omitted_when_null", "lead_source": "never"},
        extra_fields={"lead": {"team": {"type": "string", "example": "east"}}, "pagination": {}, "body": {}},
    )
    lead = {"id": "1", "notes": None, "lead_source": "web", "name": "A"}
    assert shaped.present(lead) == {"id": "1", "name": "A", "team": "east"}
    assert shaped.presence_problems(lead) == [
        "notes: null (recorded: left out when null)",
        "lead_source present (recorded: never sent)",
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
