from __future__ import annotations

import pytest

from rotor_leads import spec
from tests.reference import PAGE


def test_rules__documented_ones_quote_the_page() -> None:
    flat = " ".join(PAGE.read_text(encoding="utf-8").split())
    for r in spec.RULES.values():
        if r.documented:
            assert r.source is not None, r.id
            assert " ".join(r.source.split()) in flat, r.id
        else:
            assert r.source is None, r.id


def test_rules__every_filter_and_error_names_a_known_rule() -> None:
    for f in spec.FILTERS:
        assert spec.rule(f.rule_id).documented
        if f.assumed_rule_id:
            assert not spec.rule(f.assumed_rule_id).documented
    for error in spec.ERRORS.values():
        spec.rule(error.rule_id)


def test_rule__unknown_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="order.newest_first"):
        spec.rule("order.oldest_first")


@pytest.mark.parametrize(
    ("code", "status", "message"),
    [
        ("AUTHENTICATION_REQUIRED", 401, "Authentication required. Provide x-api-key header."),
        (
            "INSUFFICIENT_SCOPE",
            403,
            "Forbidden: required scope 'leads:read' not granted for this API key",
        ),
        ("RATE_LIMIT_EXCEEDED", 429, "Daily API key request limit of 1000 exceeded"),
    ],
)
def test_errors__documented_bodies(code: str, status: int, message: str) -> None:
    error = spec.ERRORS[code]
    body = error.body(limit=1000)
    assert (error.status, body) == (
        status,
        {"status": "error", "message": message, "error_code": code},
    )
    assert error.message_pattern().match(message)


def test_errors__500_has_no_code() -> None:
    assert spec.ERRORS["INTERNAL_ERROR"].body() == {
        "status": "error",
        "message": "Internal server error",
    }


def test_errors__rate_limit_message_names_the_keys_own_limit() -> None:
    error = spec.ERRORS["RATE_LIMIT_EXCEEDED"]
    assert error.body(limit=25)["message"] == "Daily API key request limit of 25 exceeded"
    assert error.message_pattern().match("Daily API key request limit of 25 exceeded")
    assert not error.message_pattern().match("Daily API key request limit exceeded")
