"""What the mock does as a behaviour profile says: how it reads a query, refuses an unknown key
and shows a lead."""

from __future__ import annotations

from typing import Any

import pytest

from rotor_leads import spec
from rotor_leads.mock_server.engine._behaviour import Behaviour, Refused

SEEN = "GET /leads (main key) → 200"
REFUSE_422 = {
    "action": "refuse",
    "status": 422,
    "body": {"status": "error", "message": "bad {parameter}: '{value}'", "error_code": "INVALID"},
}


def behaviour(**choices: Any) -> Behaviour:
    return Behaviour(
        spec.Profile({cid.replace("__", "."): spec.Choice(v, SEEN) for cid, v in choices.items()})
    )


def test_behaviour__reads_the_defaults_it_recorded() -> None:
    query = behaviour(page__default_limit=25).read_query("")
    assert query.limit == 25 and query.page == 1
    assert behaviour(page__default_limit=25).read_query("limit=7").limit == 7


@pytest.mark.parametrize(
    ("outcome", "raw", "limit"),
    [
        ({"action": "clamp"}, "limit=0", 1),
        ({"action": "clamp"}, "limit=-5", 1),  # recorded for zero, used for negative too
        ({"action": "default"}, "limit=0", 50),
        ({"action": "value", "value": 10}, "limit=0", 10),
    ],
)
def test_behaviour__a_bad_value_is_taken_as_recorded(outcome: dict[str, Any], raw: str, limit: int) -> None:
    assert behaviour(bad_value__limit__zero=outcome).read_query(raw).limit == limit


def test_behaviour__a_refusal_fills_in_the_parameter_and_value() -> None:
    with pytest.raises(Refused) as refused:
        behaviour(bad_value__limit__zero=REFUSE_422).read_query("limit=0")
    assert refused.value.status == 422
    assert refused.value.body == {"status": "error", "message": "bad limit: '0'", "error_code": "INVALID"}


def test_behaviour__an_unrecorded_kind_is_refused_as_the_server_refuses_the_others() -> None:
    with pytest.raises(Refused) as refused:
        behaviour(bad_value__limit__zero=REFUSE_422).read_query("page=abc")
    assert refused.value.status == 422 and refused.value.body["error_code"] == "INVALID"
    assert "page" in refused.value.body["message"]  # the mock's own message, in the server's shape


@pytest.mark.parametrize(("action", "limit"), [("first", 5), ("last", 6)])
def test_behaviour__a_repeated_parameter_as_recorded(action: str, limit: int) -> None:
    assert behaviour(bad_value__repeated={"action": action}).read_query("limit=5&limit=6").limit == limit


def test_behaviour__unknown_parameters_refused_when_recorded() -> None:
    refusing = behaviour(request__unknown_parameters=REFUSE_422)
    with pytest.raises(Refused) as refused:
        refusing.read_query("_=1")
    assert refused.value.body["message"] == "bad _: '1'"
    assert Behaviour().read_query("_=1") == spec.parse_query_string("")


def test_behaviour__presents_a_lead_as_the_server_did() -> None:
    shaped = behaviour(
        lead__fields={"notes": "omitted_when_null", "lead_source": "never"},
        extra_fields={"lead": {"team": {"type": "string", "example": "east"}}, "pagination": {}, "body": {}},
    )
    lead = {"id": "1", "notes": None, "lead_source": "web", "name": "A"}
    assert shaped.present(lead) == {"id": "1", "name": "A", "team": "east"}
    assert list(Behaviour().presented([lead])) == [lead]


def test_behaviour__an_unknown_key_answered_as_recorded() -> None:
    refusing = behaviour(error__unknown_key={"status": 403, "body": {"message": "no key {key}"}})
    assert refusing.refuse_unknown_key("abc") == (403, {"message": "no key abc"})
    assert Behaviour().refuse_unknown_key("abc") == (401, spec.ERRORS["INVALID_API_KEY"].body())
