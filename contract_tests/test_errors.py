"""Errors: the documented 401/403/429 bodies, asked more than once and with parameters; bad
parameter values; hostile search strings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

import pytest

from rotor_leads import spec
from rotor_leads.contract_tests._checks import CHECKS, Context, check_exchange
from rotor_leads.contract_tests._snapshot import Snapshot
from rotor_leads.contract_tests._target import UNKNOWN_KEY, Exchange, Target

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
        fields = {"key": UNKNOWN_KEY}
        _refused_as(contract, ex, contract.profile.unknown_key, "error.unknown_key", fields=fields, names="")


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


def _refused_as(
    ctx: Context, ex: Exchange, outcome: spec.Outcome, rule_id: str, *, fields: dict[str, str], names: str
) -> None:
    """``ex`` is refused as ``outcome`` says: its status and error_code, and with a recorded
    profile its message; with this project's assumption, a message naming ``names``."""
    body = ex.body if isinstance(ex.body, dict) else {}
    want = outcome.rendered(**fields)
    want = want if isinstance(want, dict) else {}
    ctx.expect(
        ex.status == outcome.status and body.get("error_code") == want.get("error_code"),
        rule_id,
        ex,
        f"{ex.status} {ex.text[:100]!r}",
        f"{outcome.status} {want.get('error_code') or '(no error_code)'}",
    )
    if ex.status != outcome.status:
        return
    if ctx.profile is spec.ASSUMED:
        ctx.expect(
            names in str(body.get("message")),
            rule_id,
            ex,
            f"message {body.get('message')!r}",
            "a message naming the parameter",
        )
    else:
        ctx.expect(
            body.get("message") == want.get("message"),
            rule_id,
            ex,
            f"message {body.get('message')!r}",
            f"message {want.get('message')!r}, as recorded",
        )


def _served_value(profile: spec.Profile, kind: str, params: Sequence[tuple[str, str]]) -> Any:
    """The value of the first parameter a server serves for a bad one it does not refuse."""
    name = params[0][0]
    outcome = profile.repeated if kind == "repeated" else profile.bad_value(name, kind.split(".")[-1])
    parameter = spec.PARAMETERS[name]
    if outcome.action == "clamp" and parameter.bounds is not None:
        return parameter.bounds[1] if kind.endswith("above_maximum") else parameter.bounds[0]
    if outcome.action in ("default", "clamp"):
        return {"limit": profile.default_limit, "page": profile.default_page}.get(name, parameter.default)
    if outcome.action == "value":
        return outcome.value
    if outcome.action in ("first", "last"):
        return int(params[0 if outcome.action == "first" else -1][1])
    return None


@pytest.mark.parametrize("kind", list(spec.BAD_VALUE_PROBES))
def test_bad_parameter__is_refused_or_tolerated_never_a_server_error(
    kind: str, target: Target, contract: Context, snapshot: Snapshot
) -> None:
    params = spec.BAD_VALUE_PROBES[kind]
    ex = target.get(params=params)
    check_exchange(contract, ex, only=RAW_CHECKS)
    name, raw = params[-1]
    profile = contract.profile
    outcome = profile.repeated if kind == "repeated" else profile.bad_value(name, kind.split(".")[-1])
    if outcome.action == "refuse":
        fields = {"parameter": name, "value": raw, "message": "{message}"}
        _refused_as(contract, ex, outcome, "error.bad_parameter", fields=fields, names=name)
        return
    contract.expect(
        ex.status == 200,
        "error.bad_parameter",
        ex,
        f"{ex.status} {ex.text[:100]!r}",
        f"200, the value served as the profile recorded ({outcome.action})",
    )
    served = _served_value(profile, kind, params)
    if ex.status != 200 or served is None:
        return
    if name in ("limit", "page"):
        contract.expect(
            ex.pagination.get(name) == served,
            "error.bad_parameter",
            ex,
            f"pagination.{name} = {ex.pagination.get(name)!r}",
            f"{name} served as {served!r}, as recorded ({outcome.action})",
        )
    elif name == "archived" and snapshot.complete:
        listing = snapshot.everything if served is True else snapshot.default
        contract.expect(
            ex.pagination.get("total") == len(listing),
            "error.bad_parameter",
            ex,
            f"total {ex.pagination.get('total')!r}",
            f"total {len(listing)}: archived read as {served!r}, as recorded ({outcome.action})",
        )


def test_unknown_parameter__is_ignored_or_refused_as_profiled(target: Target, contract: Context) -> None:
    ex = target.get(params=spec.UNKNOWN_PARAMETER_PROBE)
    check_exchange(contract, ex, only=RAW_CHECKS)
    outcome = contract.profile.unknown_parameters
    if outcome.action == "refuse":
        name, raw = spec.UNKNOWN_PARAMETER_PROBE[0]
        fields = {"parameter": name, "value": raw}
        _refused_as(contract, ex, outcome, "request.unknown_parameters", fields=fields, names=name)
    else:
        contract.expect(
            ex.status == 200,
            "request.unknown_parameters",
            ex,
            f"{ex.status} {ex.text[:100]!r}",
            "200: a parameter the page does not document is ignored",
        )


def _seen(target: Target, params: Sequence[tuple[str, str]], key: str = "main") -> Exchange | None:
    url = target.path + "?" + urlencode(list(params))
    return next((ex for ex in target.exchanges if ex.url == url and ex.key_name == key), None)


def _code(ex: Exchange) -> tuple[int, Any]:
    return ex.status, ex.body.get("error_code") if isinstance(ex.body, dict) else None


def test_error_order__key_then_parameters(target: Target, contract: Context) -> None:
    """A bad value sent with an unknown key: the answer is the unknown key's (key first, as
    assumed) or the bad value's, as the server answers each alone."""
    unknown = next((ex for ex in target.exchanges if ex.key_name == "unknown"), None)
    refused = next(
        (
            (params, ex)
            for params in spec.BAD_VALUE_PROBES.values()
            if (ex := _seen(target, params)) is not None
            and 400 <= ex.status < 500
            and ex.status not in (401, 403, 429)
        ),
        None,
    )
    if unknown is None or refused is None:
        pytest.skip("the server refused no bad value, or its answer to an unknown key was not seen")
    params, bad = refused
    ex = target.get(params=params, key="unknown")
    check_exchange(contract, ex, only=RAW_CHECKS)
    first = contract.profile.error_order
    want = _code(unknown if first == "key_first" else bad)
    contract.expect(
        _code(ex) == want,
        "error.order",
        ex,
        f"{_code(ex)}",
        f"{want}: the {'key' if first == 'key_first' else 'parameters'} checked first",
    )


HOSTILE = ["'", '"', "%", "_", "\\", "🙂", "' OR '1'='1", "x" * 200]


@pytest.mark.parametrize("search", HOSTILE, ids=lambda s: repr(s[:12]))
def test_hostile_search__is_never_a_server_error(search: str, target: Target, model: Context) -> None:
    check_exchange(model, target.get(spec.LeadQuery().with_(search=search)))
