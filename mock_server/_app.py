"""The Flask application: ``GET /leads`` (also under ``/open-api``), CORS, scenarios, errors."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import orjson
from flask import Blueprint, Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException

import spec
from mock_server._config import MAX_DELAY_MS, MockConfig
from mock_server._keys import ApiKey, mask
from mock_server._runtime import Runtime

JSON: Final = "application/json"
EXTENSION: Final = "rotor_mock"
#: Status codes a client may ask for with ``Prefer: code=…`` (Prism's convention).
SCENARIO_ERRORS: Final = {
    401: spec.ERRORS["AUTHENTICATION_REQUIRED"],
    403: spec.ERRORS["INSUFFICIENT_SCOPE"],
    429: spec.ERRORS["RATE_LIMIT_EXCEEDED"],
    500: spec.ERRORS["INTERNAL_ERROR"],
}
_CORS: Final = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, OPTIONS",
    "Access-Control-Allow-Headers": "x-api-key, rotor-api-version, prefer, content-type, x-stainless-*",
    "Access-Control-Expose-Headers": (
        "X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After"
    ),
    "Access-Control-Max-Age": "600",
}
_PREFER_ITEM: Final = re.compile(r"\s*([a-z]+)\s*=\s*([^,;\s]*)\s*")

leads = Blueprint("leads", __name__)


class ApiError(Exception):
    """An answer in the documented error shape: status, body and extra headers."""

    def __init__(self, error: spec.ErrorSpec, *, headers: Mapping[str, str] | None = None, **fields: Any):
        super().__init__(error.error_code)
        self.status = error.status
        self.body = error.body(**fields)
        self.headers = dict(headers or {})


NOT_FOUND: Final = spec.ErrorSpec(
    404, "NOT_FOUND", "No route {path}. The API serves GET /leads.", "schema.shape"
)
METHOD_NOT_ALLOWED: Final = spec.ErrorSpec(
    405, "METHOD_NOT_ALLOWED", "{method} is not allowed here. The API serves GET /leads.", "schema.shape"
)


def runtime() -> Runtime:
    rt: Runtime = current_app.extensions[EXTENSION]
    return rt


def _json(body: bytes, status: int, headers: Mapping[str, str] | None = None) -> Response:
    return Response(body, status, headers=headers, content_type=JSON)


def _bad_prefer(detail: str) -> ApiError:
    return ApiError(spec.ERRORS["VALIDATION_ERROR"], detail=f"Invalid Prefer header: {detail}")


def _prefer(header: str) -> tuple[int | None, int]:
    """``Prefer: code=429, delay=200`` → (429, 200). Raises :class:`ApiError` if malformed."""
    code, delay = None, 0
    for item in filter(str.strip, re.split(r"[,;]", header)):
        match = _PREFER_ITEM.fullmatch(item)
        if match is None:
            raise _bad_prefer(f"{item.strip()!r}. Use code=401|403|429|500 and/or delay=MS.")
        name, value = match.groups()
        if name == "code":
            if not value.isdigit() or (int(value) not in SCENARIO_ERRORS and int(value) != 200):
                raise _bad_prefer(f"code={value}. Use one of 200, {', '.join(map(str, SCENARIO_ERRORS))}.")
            code = int(value)
        elif name == "delay":
            if not value.isdigit() or int(value) > MAX_DELAY_MS:
                raise _bad_prefer(f"delay={value}. Use whole milliseconds from 0 to {MAX_DELAY_MS}.")
            delay = int(value)
        # other preferences (Prism's example=, dynamic=) are accepted and ignored
    return code, delay


def _scenario(rt: Runtime, code: int | None) -> None:
    if code is None or code == 200:
        return
    limit = spec.DAILY_REQUEST_LIMIT
    headers = {"Retry-After": "60"} if code == 429 else None
    raise ApiError(SCENARIO_ERRORS[code], headers=headers, limit=limit)


def _authenticate(rt: Runtime, raw_key: str | None) -> ApiKey:
    if not raw_key:
        raise ApiError(spec.ERRORS["AUTHENTICATION_REQUIRED"])
    key = rt.config.keys.get(raw_key)
    if key is None:
        raise ApiError(spec.ERRORS["INVALID_API_KEY"])
    if spec.REQUIRED_SCOPE not in key.scopes:
        raise ApiError(spec.ERRORS["INSUFFICIENT_SCOPE"])
    return key


@leads.get("/leads")
@leads.get("/open-api/leads")
def list_leads() -> Response:
    rt = runtime()
    rt.sync()
    prefer = request.headers.get("Prefer")
    code, delay = _prefer(prefer) if prefer else (None, 0)
    config = rt.config
    if config.latency is not None:
        delay += rt.rng.randint(*config.latency)
    if delay:
        time.sleep(delay / 1000)
    _scenario(rt, code or rt.scenario)
    if config.fail_rate and rt.rng.random() < config.fail_rate:
        raise ApiError(spec.ERRORS["INTERNAL_ERROR"])
    key = _authenticate(rt, request.headers.get(spec.API_KEY_HEADER))
    now = datetime.now(UTC)
    quota = rt.state.spend(key, now)
    g.extra_headers = quota.headers(now)
    if not quota.allowed:
        raise ApiError(spec.ERRORS["RATE_LIMIT_EXCEEDED"], limit=quota.limit)
    query = spec.parse_query_string(request.query_string)
    return _json(rt.store.page(query), 200, g.extra_headers)


def _render_error(error: ApiError) -> Response:
    headers = {**g.get("extra_headers", {}), **error.headers}
    return _json(orjson.dumps(error.body), error.status, headers)


def _render_parameter_error(error: spec.ParameterError) -> Response:
    return _render_error(ApiError(spec.ERRORS["VALIDATION_ERROR"], detail=str(error)))


def _render_http_error(error: HTTPException) -> Response:
    if error.code == 405:
        return _render_error(ApiError(METHOD_NOT_ALLOWED, method=request.method))
    if error.code == 404:
        return _render_error(ApiError(NOT_FOUND, path=request.path[:200]))
    body = {"status": "error", "message": error.description or error.name, "error_code": error.name.upper()}
    return _json(orjson.dumps(body), error.code or 500, {})


def _render_crash(error: Exception) -> Response:
    current_app.logger.exception("unexpected error answering %s", request.path)
    return _render_error(ApiError(spec.ERRORS["INTERNAL_ERROR"]))


def _preflight() -> Response | None:
    if request.method == "OPTIONS" and runtime().config.cors:
        return Response(status=204, headers=_CORS)
    return None


def _start_clock() -> None:
    g.started = time.perf_counter()


def _finish(response: Response) -> Response:
    rt = runtime()
    if rt.config.cors:
        response.headers.update(_CORS)
    if request.blueprint == "leads":
        raw_key = request.headers.get(spec.API_KEY_HEADER)
        rt.log.append(
            {
                "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "method": request.method,
                "path": request.path,
                "query": request.query_string.decode("latin-1")[:300],
                "key": mask(raw_key) if raw_key else None,
                "status": response.status_code,
                "ms": round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 2),
            }
        )
    return response


def create_app(config: MockConfig | None = None, **overrides: Any) -> Flask:
    """Build the mock: ``create_app()`` for the defaults, ``create_app(leads=50, seed=3)`` or
    ``create_app(MockConfig(...))`` for others.

    Raises ``ValueError`` (or :class:`~mock_server.FixtureError`) for a bad configuration.
    """
    from mock_server._admin import admin

    if config is None:
        config = MockConfig(**overrides)
    elif overrides:
        config = MockConfig(**{**config.__dict__, **overrides})
    app = Flask(__name__, root_path=str(Path(__file__).parent))
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions[EXTENSION] = Runtime(config)
    app.register_blueprint(leads)
    app.register_blueprint(admin)
    app.before_request(_preflight)
    app.before_request(_start_clock)
    app.after_request(_finish)
    app.register_error_handler(ApiError, _render_error)
    app.register_error_handler(spec.ParameterError, _render_parameter_error)
    app.register_error_handler(HTTPException, _render_http_error)
    app.register_error_handler(Exception, _render_crash)
    return app
