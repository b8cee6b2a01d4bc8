"""Admin endpoints under ``/__admin/`` (never under ``/leads``): health, quotas, the request
log, reset, fixtures and a server-wide scenario. They need no API key: the mock is a local tool.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
from flask import Blueprint, Response, request

from mock_server._app import json_response, runtime
from mock_server._data import FixtureError
from mock_server._errors import validation_error
from mock_server._keys import mask
from mock_server._leads import SCENARIO_ERRORS

admin = Blueprint("admin", __name__, url_prefix="/__admin")


def _ok(payload: dict[str, Any], status: int = 200) -> Response:
    return json_response(orjson.dumps(payload), status)


def _json_body() -> Any:
    try:
        return orjson.loads(request.get_data(cache=False))
    except orjson.JSONDecodeError as exc:
        raise validation_error(f"The request body is not valid JSON ({exc}).") from None


@admin.get("/health")
def health() -> Response:
    rt = runtime()
    rt.sync()
    config = rt.config
    return _ok(
        {
            "status": "ok",
            "leads": rt.store.count,
            "seed": config.seed,
            "data": rt.data_source,
            "scenario": rt.scenario,
        }
    )


@admin.get("/quotas")
def quotas() -> Response:
    rt = runtime()
    used = rt.state.used_today(datetime.now(UTC))
    report = []
    for key in rt.config.keys.values():
        spent = key.daily_limit if key.exhausted else used.get(key.key, 0)
        left = None if key.daily_limit is None else max(0, key.daily_limit - (spent or 0))
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
    return _ok({"status": "success", "data": list(reversed(runtime().log))})


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
