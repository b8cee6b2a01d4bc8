"""Errors: the documented 401/403/429 bodies, asked more than once and with parameters; bad
parameter values; hostile search strings."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from rotor_leads import spec
from rotor_leads.contract_tests._checks import CHECKS, Context, check_exchange
from rotor_leads.contract_tests._target import Exchange, Target

#: For raw parameters the suite cannot model: every check but the echo of page and limit (a
#: server may clamp a bad value) and the differential ones (there is no query to predict).
RAW_CHECKS = tuple(
    name for name in CHECKS if name not in ("echoes_page_and_limit", "matches_the_model", "leads_as_listed")
)
#: A query with parameters, for the error answers: a server must refuse it as it refuses the bare URL.
WITH_PARAMETERS = spec.LeadQuery().with_(limit=3, page=2, archived=True)


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


def _needs(target: Target, key: str, option: str, what: str) -> None:
    if not target.has_key(key):
        pytest.skip(f"give {option} (or ROTOR_{option[2:].upper().replace('-', '_')}), {what}")


def test_missing_key__is_401_authentication_required(target: Target, contract: Context) -> None:
    _documented_error(contract, target.get(key="none"), "AUTHENTICATION_REQUIRED")


def test_missing_key__refused_for_a_url_just_served_with_a_key(target: Target, contract: Context) -> None:
    check_exchange(contract, target.get(WITH_PARAMETERS))
    _documented_error(contract, target.get(WITH_PARAMETERS, key="none"), "AUTHENTICATION_REQUIRED")


def test_unknown_key__is_refused(target: Target, contract: Context) -> None:
    ex = target.get(WITH_PARAMETERS, key="unknown")
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


@pytest.mark.parametrize("query", [None, WITH_PARAMETERS], ids=["bare", "with_parameters"])
def test_key_without_scope__is_403_insufficient_scope(
    query: spec.LeadQuery | None, target: Target, contract: Context
) -> None:
    _needs(target, "no-scope", "--no-scope-key", "a key without leads:read")
    _documented_error(contract, target.get(query, key="no-scope"), "INSUFFICIENT_SCOPE")


@pytest.mark.parametrize("query", [None, WITH_PARAMETERS], ids=["bare", "with_parameters"])
def test_exhausted_key__is_429_rate_limit_exceeded_every_time(
    query: spec.LeadQuery | None, target: Target, contract: Context
) -> None:
    _needs(target, "exhausted", "--exhausted-key", "a key whose daily quota is spent")
    _documented_error(contract, target.get(query, key="exhausted"), "RATE_LIMIT_EXCEEDED")


BAD_PARAMETERS: Sequence[Sequence[tuple[str, str]]] = (
    (("limit", "0"),),
    (("limit", "1001"),),
    (("limit", "abc"),),
    (("limit", "-5"),),
    (("page", "0"),),
    (("archived", "maybe"),),
    (("limit", "5"), ("limit", "6")),
    (("search", "x" * (spec.MAX_TEXT_LENGTH + 44)),),
)


@pytest.mark.parametrize("params", BAD_PARAMETERS, ids=lambda p: "&".join(f"{k}={v[:12]}" for k, v in p))
def test_bad_parameter__is_refused_or_tolerated_never_a_server_error(
    params: Sequence[tuple[str, str]], target: Target, contract: Context
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
            params[0][0] in str(body.get("message")),
            "error.bad_parameter",
            ex,
            f"message {body.get('message')!r}",
            "a message naming the parameter",
        )


HOSTILE = ["'", '"', "%", "_", "\\", "🙂", "' OR '1'='1", "x" * 200]


@pytest.mark.parametrize("search", HOSTILE, ids=lambda s: repr(s[:12]))
def test_hostile_search__is_never_a_server_error(search: str, target: Target, model: Context) -> None:
    check_exchange(model, target.get(spec.LeadQuery().with_(search=search)))
