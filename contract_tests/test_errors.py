"""Errors: the documented 401/403/429 bodies, bad parameter values, hostile search strings."""

from __future__ import annotations

import pytest

import spec
from contract_tests._checks import CHECKS, Context, check_exchange
from contract_tests._target import Exchange, Target

#: For raw parameters the suite cannot model: every check but the echo of page and limit (a
#: server may clamp a bad value) and the model (it has no query to predict).
RAW_CHECKS = tuple(name for name in CHECKS if name not in ("echoes_page_and_limit", "matches_the_model"))


def _documented_error(ctx: Context, ex: Exchange, code: str) -> None:
    error = spec.ERRORS[code]
    check_exchange(ctx, ex)
    body = ex.body if isinstance(ex.body, dict) else {}
    ctx.expect(
        ex.status == error.status,
        error.rule_id,
        ex,
        f"status {ex.status}: {ex.text[:120]!r}",
        f"status {error.status}",
    )
    ctx.expect(
        body.get("error_code") == code,
        error.rule_id,
        ex,
        f"error_code {body.get('error_code')!r}",
        f"error_code {code!r}",
    )
    message = body.get("message")
    ctx.expect(
        isinstance(message, str) and bool(error.message_pattern().match(message)),
        error.rule_id,
        ex,
        f"message {message!r}",
        f"message {error.message!r}",
    )


def test_missing_key__is_401_authentication_required(target: Target, contract: Context) -> None:
    _documented_error(contract, target.get(key="none"), "AUTHENTICATION_REQUIRED")


def test_unknown_key__is_refused(target: Target, contract: Context) -> None:
    ex = target.get(key="unknown")
    check_exchange(contract, ex)
    contract.expect(
        ex.status in (401, 403),
        "error.unknown_key",
        ex,
        f"status {ex.status}",
        "a key the server does not know is refused",
    )
    if ex.status in (401, 403):
        body = ex.body if isinstance(ex.body, dict) else {}
        got = (ex.status, body.get("error_code"))
        contract.expect(
            got == (401, "INVALID_API_KEY"), "error.unknown_key", ex, f"{got}", "401 INVALID_API_KEY"
        )


def test_key_without_scope__is_403_insufficient_scope(target: Target, contract: Context) -> None:
    if target.no_scope_key is None:
        pytest.skip("give --no-scope-key (or ROTOR_NO_SCOPE_KEY), a key without leads:read")
    _documented_error(contract, target.get(key="no-scope"), "INSUFFICIENT_SCOPE")


def test_exhausted_key__is_429_rate_limit_exceeded(target: Target, contract: Context) -> None:
    if target.exhausted_key is None:
        pytest.skip("give --exhausted-key (or ROTOR_EXHAUSTED_KEY), a key whose daily quota is spent")
    _documented_error(contract, target.get(key="exhausted"), "RATE_LIMIT_EXCEEDED")


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "1001"},
        {"limit": "abc"},
        {"limit": "-5"},
        {"page": "0"},
        {"archived": "maybe"},
    ],
    ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()),
)
def test_bad_parameter__is_refused_or_tolerated_never_a_server_error(
    params: dict[str, str], target: Target, contract: Context
) -> None:
    ex = target.get(params=params)
    check_exchange(contract, ex, only=RAW_CHECKS)
    body = ex.body if isinstance(ex.body, dict) else {}
    contract.expect(
        ex.status == 400 and body.get("error_code") == "VALIDATION_ERROR",
        "error.bad_parameter",
        ex,
        f"{ex.status} {ex.text[:100]!r}",
        "400 VALIDATION_ERROR naming the parameter",
    )
    if ex.status == 400:
        contract.expect(
            next(iter(params)) in str(body.get("message")),
            "error.bad_parameter",
            ex,
            f"message {body.get('message')!r}",
            "a message naming the parameter",
        )


HOSTILE = ["'", '"', "%", "_", "\\", "🙂", "' OR '1'='1", '"a" OR b*', "a%_\\%", "x" * 200]


@pytest.mark.parametrize("search", HOSTILE, ids=lambda s: repr(s[:12]))
def test_hostile_search__is_never_a_server_error(search: str, target: Target, contract: Context) -> None:
    ex = target.get(spec.LeadQuery().with_(search=search))
    check_exchange(contract, ex)
