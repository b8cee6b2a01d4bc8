"""``GET /leads``: the hot path, as a plain WSGI endpoint in front of the Flask app.

Flask's request and response machinery costs more than the whole answer (a cached page is
a dictionary lookup), so ``/leads`` and ``/open-api/leads`` are answered here, and every other
path (admin, docs, CORS preflight, 404) goes on to Flask.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Final

import spec
from mock_server._config import MAX_DELAY_MS
from mock_server._errors import JSON, METHOD_NOT_ALLOWED, STATUS_LINES, ApiError, validation_error
from mock_server._keys import ApiKey, mask
from mock_server._runtime import Runtime

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
PATHS: Final = frozenset({"/leads", "/open-api/leads"})
#: Status codes a client may ask for with ``Prefer: code=…`` (Prism's convention).
SCENARIO_ERRORS: Final = {
    401: spec.ERRORS["AUTHENTICATION_REQUIRED"],
    403: spec.ERRORS["INSUFFICIENT_SCOPE"],
    429: spec.ERRORS["RATE_LIMIT_EXCEEDED"],
    500: spec.ERRORS["INTERNAL_ERROR"],
}
CORS_HEADERS: Final = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, OPTIONS",
    "Access-Control-Allow-Headers": "x-api-key, rotor-api-version, prefer, content-type, x-stainless-*",
    "Access-Control-Expose-Headers": (
        "X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After"
    ),
    "Access-Control-Max-Age": "600",
}
_PREFER_ITEM: Final = re.compile(r"\s*([a-z]+)\s*=\s*([^,;\s]*)\s*")
_KEY_ENV: Final = "HTTP_" + spec.API_KEY_HEADER.upper().replace("-", "_")


def _bad_prefer(detail: str) -> ApiError:
    return validation_error(f"Invalid Prefer header: {detail}")


def parse_prefer(header: str) -> tuple[int | None, int]:
    """``Prefer: code=429, delay=200`` → ``(429, 200)``. Raises :class:`ApiError` if malformed."""
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


def _authenticate(rt: Runtime, raw_key: str | None) -> ApiKey:
    if not raw_key:
        raise ApiError(spec.ERRORS["AUTHENTICATION_REQUIRED"])
    key = rt.config.keys.get(raw_key)
    if key is None:
        raise ApiError(spec.ERRORS["INVALID_API_KEY"])
    if spec.REQUIRED_SCOPE not in key.scopes:
        raise ApiError(spec.ERRORS["INSUFFICIENT_SCOPE"])
    return key


def answer(rt: Runtime, environ: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    """The answer to one ``/leads`` request: status, headers, body. Raises :class:`ApiError`."""
    method = environ["REQUEST_METHOD"]
    if method != "GET":
        raise ApiError(METHOD_NOT_ALLOWED, method=method)
    rt.sync()
    prefer = environ.get("HTTP_PREFER")
    code, delay = parse_prefer(prefer) if prefer else (None, 0)
    config = rt.config
    if config.latency is not None:
        delay += rt.rng.randint(*config.latency)
    if delay:
        time.sleep(delay / 1000)
    scenario = code or rt.scenario
    if scenario is not None and scenario != 200:
        headers = {"Retry-After": "60"} if scenario == 429 else None
        raise ApiError(SCENARIO_ERRORS[scenario], headers=headers, limit=spec.DAILY_REQUEST_LIMIT)
    if config.fail_rate and rt.rng.random() < config.fail_rate:
        raise ApiError(spec.ERRORS["INTERNAL_ERROR"])
    key = _authenticate(rt, environ.get(_KEY_ENV))
    now = datetime.now(UTC)
    quota = rt.state.spend(key, now)
    headers = quota.headers(now)
    if not quota.allowed:
        raise ApiError(spec.ERRORS["RATE_LIMIT_EXCEEDED"], headers=headers, limit=quota.limit)
    try:
        query = spec.parse_query_string(environ.get("QUERY_STRING", "").encode("latin-1"))
    except spec.ParameterError as exc:
        raise validation_error(str(exc), headers=headers) from None
    return 200, headers, rt.store.page(query)


class LeadsEndpoint:
    """WSGI middleware: answers ``/leads`` itself and hands every other path to ``app``."""

    def __init__(self, rt: Runtime, app: WSGIApp) -> None:
        self.rt = rt
        self.app = app
        self.cors = tuple(CORS_HEADERS.items()) if rt.config.cors else ()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") not in PATHS or environ["REQUEST_METHOD"] == "OPTIONS":
            return self.app(environ, start_response)
        started = time.perf_counter()
        try:
            status, headers, body = answer(self.rt, environ)
        except ApiError as error:
            status, headers, body = error.status, error.headers, error.render()
        except Exception:  # never a traceback to the client: the documented 500
            self.rt.logger.exception("unexpected error answering %s", environ.get("PATH_INFO"))
            crash = ApiError(spec.ERRORS["INTERNAL_ERROR"])
            status, headers, body = crash.status, crash.headers, crash.render()
        start_response(
            STATUS_LINES[status],
            [("Content-Type", JSON), ("Content-Length", str(len(body))), *headers.items(), *self.cors],
        )
        self._log(environ, status, started)
        return [body]

    def _log(self, environ: dict[str, Any], status: int, started: float) -> None:
        raw_key = environ.get(_KEY_ENV)
        self.rt.log.append(
            {
                "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "method": environ["REQUEST_METHOD"],
                "path": environ["PATH_INFO"],
                "query": environ.get("QUERY_STRING", "")[:300],
                "key": mask(raw_key) if raw_key else None,
                "status": status,
                "ms": round((time.perf_counter() - started) * 1000, 2),
            }
        )
