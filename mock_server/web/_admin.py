"""Admin endpoints under ``/__admin/`` (never under ``/leads``): health, quotas, the request
log, reset, fixtures and a server-wide scenario. They need no API key, and no web page can
drive them: they send no CORS headers, refuse a request from another origin (``Origin``,
``Sec-Fetch-Site``), take only JSON bodies (a page can POST ``text/plain`` anywhere without
asking), and on a loopback address refuse a ``Host`` that is not a loopback name (DNS
rebinding). A mock listening beyond this machine also requires its admin token.
"""

from __future__ import annotations

import hmac
import ipaddress
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlsplit

import orjson
from flask import Blueprint, Response, request

from rotor_leads import spec
from rotor_leads.mock_server.engine._data import FixtureError
from rotor_leads.mock_server.engine._keys import mask
from rotor_leads.mock_server.web._context import json_response, runtime
from rotor_leads.mock_server.web._errors import ApiError, validation_error
from rotor_leads.mock_server.web._leads import SCENARIO_ERRORS, shown_log_entry

admin = Blueprint("admin", __name__, url_prefix="/__admin")

TOKEN_HEADER: Final = "X-Admin-Token"
TOKEN_REQUIRED: Final = spec.ErrorSpec(
    401,
    "ADMIN_TOKEN_REQUIRED",
    "{why}: send its admin token in the X-Admin-Token header{where}.",
    "schema.shape",
)
CROSS_SITE: Final = spec.ErrorSpec(
    403, "CROSS_SITE_REFUSED", "The admin API answers its own pages only, not {origin}.", "schema.shape"
)
WRONG_HOST: Final = spec.ErrorSpec(
    403,
    "HOST_REFUSED",
    "The admin API of a mock on a loopback address answers Host localhost, 127.0.0.1 or [::1], not {host}.",
    "schema.shape",
)
JSON_ONLY: Final = spec.ErrorSpec(
    415, "UNSUPPORTED_MEDIA_TYPE", "Send the request with Content-Type: application/json.", "schema.shape"
)
_LOOPBACK_NAMES: Final = frozenset({"localhost", "localhost.", "127.0.0.1", "::1"})


def _loopback(host: str) -> bool:
    name = urlsplit(f"//{host}").hostname or ""
    if name in _LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@admin.before_request
def _guard() -> None:
    config = runtime().config
    if config.admin_token is not None:
        given = request.headers.get(TOKEN_HEADER, "")
        bearer = request.headers.get("Authorization", "")
        if bearer.startswith("Bearer "):
            given = given or bearer[7:]
        if not hmac.compare_digest(given.encode(), config.admin_token.encode()):
            if config.loopback:
                raise ApiError(TOKEN_REQUIRED, why="This mock was started with --admin-token", where="")
            raise ApiError(
                TOKEN_REQUIRED,
                why="This mock listens beyond this machine",
                where=" (rotor-mock serve printed it, or give your own with --admin-token)",
            )
    origin = request.headers.get("Origin")
    if origin is not None and urlsplit(origin).netloc != request.host:
        raise ApiError(CROSS_SITE, origin=origin[:100])
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        raise ApiError(CROSS_SITE, origin="another site")
    if config.loopback and not _loopback(request.host):
        raise ApiError(WRONG_HOST, host=request.host[:100])
    if request.method in ("POST", "PUT", "PATCH") and request.mimetype != "application/json":
        raise ApiError(JSON_ONLY)


def _ok(payload: dict[str, Any], status: int = 200) -> Response:
    return json_response(orjson.dumps(payload), status)


def _json_body() -> Any:
    try:
        return orjson.loads(request.get_data(cache=False) or b"null")
    except orjson.JSONDecodeError as exc:
        raise validation_error(f"The request body is not valid JSON ({exc}).") from None


@admin.get("/health")
def health() -> Response:
    rt = runtime()
    rt.sync()
    config = rt.config
    report: dict[str, Any] = {
        "status": "ok",
        "leads": rt.store.count,
        "seed": config.seed,
        "data": rt.data_source,
        "scenario": rt.scenario,
    }
    shared = rt.state.health()
    if shared is not None:  # whether it can be reached now, and when it forgot what it held
        report["shared_state"] = shared
        if shared["status"] != "up":
            report["status"] = "degraded"
    return _ok(report)


@admin.get("/quotas")
def quotas() -> Response:
    rt = runtime()
    used = rt.state.used_today(rt.config.keys.values(), datetime.now(UTC))
    report = []
    for key in rt.config.keys.values():
        spent = used.get(key.key, 0)
        left = None if key.daily_limit is None else max(0, key.daily_limit - spent)
        report.append(
            {
                "key": mask(key.key),
                "scopes": sorted(key.scopes),
                "limit": key.daily_limit,
                "used": spent,
                "left": left,
            }
        )
    return _ok({"status": "success", "data": report})


@admin.get("/requests")
def requests_log() -> Response:
    return _ok({"status": "success", "data": [shown_log_entry(e) for e in reversed(runtime().log)]})


@admin.post("/reset")
def reset() -> Response:
    what = request.args.get("only")
    if what not in (None, "data", "quotas"):
        raise validation_error(f"Invalid value for 'only': {what!r}. Give data or quotas, or leave it out.")
    rt = runtime()
    rt.reset(data=what != "quotas", quotas=what != "data")
    return _ok({"status": "success", "reset": what or "all", "leads": rt.store.count})


@admin.post("/fixtures")
def fixtures() -> Response:
    try:
        count = runtime().load_leads(_json_body())
    except FixtureError as exc:
        raise validation_error(str(exc)) from None
    return _ok({"status": "success", "leads": count})


@admin.put("/scenario")
def put_scenario() -> Response:
    body = _json_body()
    code = body.get("code") if isinstance(body, dict) else None
    if code not in SCENARIO_ERRORS:
        raise validation_error(f'Give {{"code": N}} with N one of {", ".join(map(str, SCENARIO_ERRORS))}.')
    runtime().set_scenario(code)
    return _ok({"status": "success", "scenario": code})


@admin.delete("/scenario")
def delete_scenario() -> Response:
    runtime().set_scenario(None)
    return _ok({"status": "success", "scenario": None})
