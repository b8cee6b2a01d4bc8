from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rotor_leads import spec
from tests.paths import locate
from tests.reference import page_bodies

PAGE_200 = next(body for status, body in page_bodies() if status == 200)
ERROR_401 = next(body for status, body in page_bodies() if status == 401)


def _broken(base: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    body = copy.deepcopy(base)
    change(body)
    return body


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(body: dict[str, Any]) -> None:
        node, key = locate(body, path)
        node[key] = value

    return change


def _delete(path: str) -> Callable[[dict[str, Any]], None]:
    def change(body: dict[str, Any]) -> None:
        node, key = locate(body, path)
        del node[key]

    return change


BROKEN_200 = [
    ("priority outside the enum", _set("data.0.priority", "urgent"), "$.data[0].priority"),
    ("tags as a string", _set("data.0.tags", "vip"), "$.data[0].tags"),
    ("a tag not a string", _set("data.0.tags", ["vip", 3]), "$.data[0].tags[1]"),
    ("location as an object", _set("data.0.location", {"lat": 1}), "$.data[0].location"),
    ("location of strings", _set("data.0.location", ["1.5"]), "$.data[0].location[0]"),
    ("created_at not a date-time", _set("data.0.created_at", "yesterday"), "$.data[0].created_at"),
    (
        "archived_at not a date-time",
        _set("data.0.archived_at", "2019-12-27"),
        "$.data[0].archived_at",
    ),
    (
        "follow_up_date a number",
        _set("data.0.follow_up_date", 1577470279),
        "$.data[0].follow_up_date",
    ),
    (
        "projected_value as a string",
        _set("data.0.projected_value", "0"),
        "$.data[0].projected_value",
    ),
    ("value_score as a string", _set("data.0.value_score", "12"), "$.data[0].value_score"),
    ("archived as a string", _set("data.0.archived", "true"), "$.data[0].archived"),
    ("id a number", _set("data.0.id", 7), "$.data[0].id"),
    ("a lead not an object", _set("data.0", "lead"), "$.data[0]"),
    ("status not success", _set("status", "ok"), "$.status"),
    ("data null", _set("data", None), "$.data"),
    ("data missing", _delete("data"), "$"),
    ("data an object", _set("data", {}), "$.data"),
    ("pagination missing", _delete("pagination"), "$"),
    ("pagination.total a string", _set("pagination.total", "142"), "$.pagination.total"),
    ("pagination.total negative", _set("pagination.total", -1), "$.pagination.total"),
    ("pagination.has_more missing", _delete("pagination.has_more"), "$.pagination"),
    ("pagination.has_more a string", _set("pagination.has_more", "true"), "$.pagination.has_more"),
    ("pagination.page 0", _set("pagination.page", 0), "$.pagination.page"),
    ("pagination.page a float", _set("pagination.page", 1.5), "$.pagination.page"),
    ("pagination.limit 1001", _set("pagination.limit", 1001), "$.pagination.limit"),
    ("pagination.limit 0", _set("pagination.limit", 0), "$.pagination.limit"),
    ("status missing", _delete("status"), "$"),
]


@pytest.mark.parametrize(
    ("change", "path"), [(c, p) for _, c, p in BROKEN_200], ids=[n for n, _, _ in BROKEN_200]
)
def test_body_violations__broken_200_is_named_by_path(
    change: Callable[[dict[str, Any]], None], path: str
) -> None:
    violations = spec.body_violations(200, _broken(PAGE_200, change))
    assert violations, "the broken body was accepted"
    assert path in [v.path for v in violations]


BROKEN_ERRORS = [
    ("no message", 401, _delete("message"), "$"),
    ("no status", 403, _delete("status"), "$"),
    ("status not error", 429, _set("status", "success"), "$.status"),
    ("message a number", 500, _set("message", 500), "$.message"),
    ("error_code a number", 401, _set("error_code", 401), "$.error_code"),
    ("not an object", 400, lambda b: b.clear(), "$"),
]


@pytest.mark.parametrize(
    ("status", "change", "path"),
    [(s, c, p) for _, s, c, p in BROKEN_ERRORS],
    ids=[n for n, *_ in BROKEN_ERRORS],
)
def test_body_violations__broken_error_is_named_by_path(
    status: int, change: Callable[[dict[str, Any]], None], path: str
) -> None:
    assert path in [v.path for v in spec.body_violations(status, _broken(ERROR_401, change))]


def test_body_violations__null_and_absent_lead_fields_are_allowed() -> None:
    lead = {field: None for field in PAGE_200["data"][0]}
    body = _broken(PAGE_200, _set("data", [lead, {}]))
    assert spec.body_violations(200, body) == []


def test_body_violations__extra_fields_allowed_unless_strict() -> None:
    body = _broken(PAGE_200, _set("data.0.score_v2", 3))
    assert spec.body_violations(200, body) == []
    strict = spec.body_violations(200, body, strict=True)
    assert [v.path for v in strict] == ["$.data[0]"]
    assert "score_v2" in strict[0].rule


@pytest.mark.parametrize("first", [False, True])
@pytest.mark.parametrize("extra", ["lead", "envelope"])
def test_body_violations__each_strictness_right_whichever_is_asked_first(first: bool, extra: str) -> None:
    # The results are remembered per body part and strictness, the lenient one from the strict
    # one where that has none: a fresh body (a unique field name) each time.
    name = f"extra_{first}_{extra}"
    where = "data.0" if extra == "lead" else "pagination"
    body = _broken(PAGE_200, _set(f"{where}.{name}", 3))
    bad = _broken(body, _set("data.0.stage", 3))
    answers = {}
    for strict in (first, not first):
        answers[strict] = [v.path for v in spec.body_violations(200, body, strict=strict)]
        assert "$.data[0].stage" in [v.path for v in spec.body_violations(200, bad, strict=strict)]
    assert answers == {False: [], True: ["$.data[0]" if extra == "lead" else "$.pagination"]}


def test_validate_response__message_names_path_value_and_rule() -> None:
    body = _broken(PAGE_200, _set("data.0.priority", "urgent"))
    with pytest.raises(spec.ContractViolation) as caught:
        spec.validate_response(200, {"Content-Type": "application/json"}, body)
    message = str(caught.value)
    assert "$.data[0].priority" in message
    assert "'urgent'" in message
    assert "is not one of" in message


@pytest.mark.parametrize("content_type", ["text/html; charset=utf-8", "", "application/jsonp", "text/plain"])
def test_validate_response__content_type_must_be_json(content_type: str) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    with pytest.raises(spec.ContractViolation, match="content-type"):
        spec.validate_response(200, headers, PAGE_200)


def test_validate_response__json_with_charset_is_fine() -> None:
    spec.validate_response(200, {"content-type": "application/json; charset=utf-8"}, PAGE_200)


def test_validate_response__unlisted_status_uses_the_error_shape() -> None:
    with pytest.raises(spec.ContractViolation):
        spec.validate_response(404, {"Content-Type": "application/json"}, {"detail": "nope"})


@pytest.mark.parametrize("status", [200, 401, 500])
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_round_trip__generated_bodies_validate(status: int, data: st.DataObject) -> None:
    body = data.draw(spec.from_schema(spec.response_schema(status)))
    assert spec.body_violations(status, body) == []


def test_from_schema__unknown_type_is_an_error() -> None:
    with pytest.raises(ValueError, match="no strategy"):
        spec.from_schema({"type": "tuple"})


@settings(max_examples=60)
@given(data=st.data())
def test_round_trip__strict_lead_bodies_validate(data: st.DataObject) -> None:
    lead = data.draw(spec.from_schema(spec.component_schema("Lead", strict=True)))
    body = {"data": [lead], "pagination": PAGE_200["pagination"], "status": "success"}
    assert spec.body_violations(200, body, strict=True) == []
