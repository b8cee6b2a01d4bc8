"""``GET /leads``: the hot path, one pipeline that every front door drives.

Flask's request and response machinery costs more than the whole answer (a cached page is
a dictionary lookup), so ``/leads`` and ``/open-api/leads`` are answered here, and every other
path (admin, docs, CORS preflight, 404) goes on to Flask. :meth:`LeadsPipeline.answer` takes a
plain request value to a plain answer value; what it must wait for (a delay, the quota count, a
page read from the store, catching up with another worker) it yields as data, and the front
door does it its own way: :class:`LeadsEndpoint` (WSGI, in-process) at once, ``_rsgi`` (what
``rotor-mock serve`` runs) on the event loop, where waiting costs no thread.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, NamedTuple

from rotor_leads import spec
from rotor_leads.mock_server.engine._behaviour import Behaviour, Refused
from rotor_leads.mock_server.engine._config import MAX_DELAY_MS
from rotor_leads.mock_server.engine._keys import ApiKey, mask
from rotor_leads.mock_server.engine._runtime import Runtime, Serving
from rotor_leads.mock_server.engine.state import Quota, StateUnavailable
from rotor_leads.mock_server.engine.store import LeadStore
from rotor_leads.mock_server.web._errors import (
    JSON,
    METHOD_NOT_ALLOWED,
    STATUS_LINES,
    ApiError,
    validation_error,
)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
PATHS: Final = frozenset({"/leads", "/open-api/leads"})
ALLOWED: Final = {"Allow": "GET, OPTIONS"}
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
    # A preflight gets the headers it asks for (see preflight_headers): browsers read this list
    # by exact names, so a pattern such as x-stainless-* would allow nothing.
    "Access-Control-Allow-Headers": "x-api-key, rotor-api-version, prefer, content-type",
    "Access-Control-Expose-Headers": (
        "X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After"
    ),
    "Access-Control-Max-Age": "600",
}
STATE_UNAVAILABLE: Final = spec.ErrorSpec(
    503,
    "SHARED_STATE_UNAVAILABLE",
    "The mock cannot reach its shared state; try again shortly.",
    "schema.shape",
)
_PREFER_ITEM: Final = re.compile(r"\s*([a-z]+)\s*=\s*([^,;\s]*)\s*")
_DIGITS: Final = re.compile(r"[0-9]{1,6}")  # ASCII digits only: str.isdigit() accepts '²'
_KEY_ENV: Final = "HTTP_" + spec.API_KEY_HEADER.upper().replace("-", "_")
#: A WSGI caller that keeps time itself (the ``rotor_api`` fixture, which must time a client's
#: read out as a server would) puts a list here: an answer's delay is appended, not slept.
DELAYS_ENV: Final = "rotor.mock.delays"


class LeadsRequest(NamedTuple):
    """What ``/leads`` reads of a request, whichever front door it came through."""

    method: str
    key: str | None  # the x-api-key header, exactly so named
    prefer: str | None
    query: bytes  # the raw query string


_HEADER_LIST: Final = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+(\s*,\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+)*")


def preflight_headers(requested: str | None) -> dict[str, str]:
    """The CORS answer to a preflight: any origin, and the request headers it asks for (any a
    client sends: the SDKs' X-Stainless-* among them), when they are header names."""
    headers = dict(CORS_HEADERS)
    if requested and _HEADER_LIST.fullmatch(requested.strip()) and len(requested) <= 2000:
        headers["Access-Control-Allow-Headers"] = requested.strip()
    headers["Vary"] = "Access-Control-Request-Headers"
    return headers


def _bad_prefer(detail: str) -> ApiError:
    return validation_error(f"Invalid Prefer header: {detail}")


def parse_prefer(header: str) -> tuple[int | None, int]:
    """``Prefer: code=429, delay=200`` → ``(429, 200)``. Raises :class:`ApiError` if malformed."""
    code, delay = None, 0
    for item in filter(str.strip, re.split(r"[,;]", header)):
        match = _PREFER_ITEM.fullmatch(item)
        if match is None:
            raise _bad_prefer(f"{item.strip()[:40]!r}. Use code=401|403|429|500 and/or delay=MS.")
        name, value = match.groups()
        if name == "code":
            if not _DIGITS.fullmatch(value) or (int(value) not in SCENARIO_ERRORS and int(value) != 200):
                raise _bad_prefer(
                    f"code={value[:12]}. Use one of 200, {', '.join(map(str, SCENARIO_ERRORS))}."
                )
            code = int(value)
        elif name == "delay":
            if not _DIGITS.fullmatch(value) or int(value) > MAX_DELAY_MS:
                raise _bad_prefer(f"delay={value[:12]}. Use whole milliseconds from 0 to {MAX_DELAY_MS}.")
            delay = int(value)
        # other preferences (Prism's example=, dynamic=) are accepted and ignored
    return code, delay


def _authenticate(serving: Serving, raw_key: str | None) -> ApiKey:
    if not raw_key:
        raise ApiError(spec.ERRORS["AUTHENTICATION_REQUIRED"])
    key = serving.config.keys.get(raw_key)
    if key is None:
        status, body = serving.behaviour.refuse_unknown_key(raw_key)
        raise ApiError.answer(status, body)
    if spec.REQUIRED_SCOPE not in key.scopes:
        raise ApiError(spec.ERRORS["INSUFFICIENT_SCOPE"])
    return key


def prepare(serving: Serving, request: LeadsRequest) -> tuple[int | None, float]:
    """The first step: the method, then ``Prefer``. Returns the scenario the client asked for
    and how many seconds to wait before answering. Raises :class:`ApiError`."""
    if request.method != "GET":
        raise ApiError(METHOD_NOT_ALLOWED, headers=ALLOWED, method=request.method[:20])
    code, delay = parse_prefer(request.prefer) if request.prefer else (None, 0)
    latency = serving.config.latency
    if latency is not None:
        delay += serving.rng.randint(*latency)
    return code, delay / 1000


def authorize(serving: Serving, request: LeadsRequest, code: int | None) -> ApiKey:
    """The second step, after the wait: the scenario, then the key. Raises :class:`ApiError`."""
    config = serving.config
    scenario = code or serving.scenario
    if scenario is not None and scenario != 200:
        if scenario != 429:
            raise ApiError(SCENARIO_ERRORS[scenario])
        # A 429 asked for looks as a spent quota does: the key's limit, nothing left, Retry-After.
        known = config.keys.get(request.key or "")
        limit = known.daily_limit if known is not None and known.daily_limit else spec.DAILY_REQUEST_LIMIT
        now = datetime.now(UTC)
        spent = Quota(False, limit, 0, now.toordinal())
        raise ApiError(
            SCENARIO_ERRORS[429], headers=spent.headers(now, retry_after=config.retry_after), limit=limit
        )
    if config.fail_rate and serving.rng.random() < config.fail_rate:
        raise ApiError(spec.ERRORS["INTERNAL_ERROR"])
    if serving.behaviour.profile.error_order == "parameters_first":  # a profiled server that reads them first
        try:
            read_query(serving.behaviour, request)
        except ApiError as refused:
            # Refused before it is counted: the quota as it stands, for a known key.
            known = config.keys.get(request.key or "")
            if known is not None and known.daily_limit is not None and not known.exhausted:
                now = datetime.now(UTC)
                used = serving.state.used_today([known], now).get(known.key, 0)
                standing = Quota(True, known.daily_limit, max(0, known.daily_limit - used), now.toordinal())
                refused.headers = {**standing.headers(now), **refused.headers}
            raise
    return _authenticate(serving, request.key)


def read_query(
    behaviour: Behaviour, request: LeadsRequest, headers: dict[str, str] | None = None
) -> spec.LeadQuery:
    """The query of ``request`` as ``behaviour`` reads it. Raises :class:`ApiError`."""
    try:
        return behaviour.read_query(request.query)
    except Refused as refused:
        raise ApiError.answer(refused.status, refused.body, headers=headers) from None
    except spec.ParameterError as exc:
        raise validation_error(str(exc), headers=headers) from None


def admit(
    serving: Serving, request: LeadsRequest, quota: Quota, now: datetime
) -> tuple[dict[str, str], spec.LeadQuery]:
    """The last step, once the request is counted: the quota's verdict, then the parameters.
    Returns the headers and the query to answer. Raises :class:`ApiError`."""
    headers = quota.headers(now, retry_after=serving.config.retry_after)
    if not quota.allowed:
        raise ApiError(spec.ERRORS["RATE_LIMIT_EXCEEDED"], headers=headers, limit=quota.limit)
    return headers, read_query(serving.behaviour, request, headers)


def _rate_header(name: str) -> bool:
    lowered = name.lower()
    return lowered == "retry-after" or lowered.startswith(("x-ratelimit-", "x-rate-limit-", "ratelimit-"))


def _rate_value(name: str, headers: dict[str, str]) -> str | None:
    """The value of rate-limit header ``name`` (lower case), made from the mock's own ones."""
    name = name.replace("x-rate-limit-", "x-ratelimit-")
    limit, remaining = headers.get("X-RateLimit-Limit"), headers.get("X-RateLimit-Remaining")
    reset = headers.get("X-RateLimit-Reset")
    if name in ("x-ratelimit-limit", "ratelimit-limit"):
        return limit
    if name in ("x-ratelimit-remaining", "ratelimit-remaining"):
        return remaining
    if name == "x-ratelimit-reset":
        return reset
    if name == "ratelimit-reset" and reset is not None:  # seconds until the reset, as the IETF draft
        return str(max(0, int(reset) - int(time.time())))
    if name == "x-ratelimit-used" and limit is not None and remaining is not None:
        return str(int(limit) - int(remaining))
    if name == "retry-after":
        return headers.get("Retry-After")
    return None


def _canonical(name: str) -> str:
    return "-".join("RateLimit" if part == "ratelimit" else part.capitalize() for part in name.split("-"))


def profiled_headers(profile: spec.Profile, status: int, headers: dict[str, str]) -> dict[str, str]:
    """The headers a profiled server sends, in place of the mock's own rate-limit ones: the
    rate-limit names it recorded that the mock can fill (``X-RateLimit-*``, ``RateLimit-*``,
    ``Retry-After``), and on a page its other headers (the recorded value where every page had
    the same, else a fresh UUID, as a request id)."""
    recorded = profile.headers
    if recorded is None:
        return headers
    out = headers
    if any(_rate_header(k) for k in headers):
        names = list(recorded.get("rate_limit", []))
        if status == 429:
            names = list(recorded.get("on_429", [*names, "retry-after"]))
        out = {k: v for k, v in headers.items() if not _rate_header(k)}
        for name in names:
            value = _rate_value(name, headers)
            if value is not None:
                out[_canonical(name)] = value
    other = recorded.get("other")
    if status == 200 and isinstance(other, dict) and other:
        out = dict(out)
        for name, value in other.items():
            out.setdefault(_canonical(name), value if value is not None else str(uuid.uuid4()))
    return out


def content_type(profile: spec.Profile) -> str:
    """The Content-Type of every ``/leads`` answer: the profiled server's, or JSON."""
    recorded = profile.headers
    return str(recorded["content_type"]) if recorded and recorded.get("content_type") else JSON


def unavailable(error: StateUnavailable) -> ApiError:
    """The answer when the shared state cannot be reached: 503, saying so."""
    return ApiError(STATE_UNAVAILABLE, headers={"Retry-After": "5"})


def log_entry(rt: Runtime, request: LeadsRequest, path: str, status: int, started: float) -> None:
    """Log an answered request. Kept raw (this runs on every request); :func:`shown_log_entry`
    makes the entry ``/__admin/requests`` shows."""
    rt.log.append((time.time(), request, path, status, time.perf_counter() - started))


def shown_log_entry(entry: tuple[float, LeadsRequest, str, int, float]) -> dict[str, Any]:
    at, request, path, status, seconds = entry
    return {
        "at": datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds"),
        "method": request.method[:20],
        "path": path,
        "query": request.query[:300].decode("utf-8", "replace"),
        "key": mask(request.key) if request.key else None,
        "status": status,
        "ms": round(seconds * 1000, 2),
    }


def crash(rt: Runtime, path: str) -> ApiError:
    """The documented 500 for an unexpected error, logged with its traceback."""
    rt.logger.exception("unexpected error answering %s", path)
    return ApiError(spec.ERRORS["INTERNAL_ERROR"])


@dataclass(slots=True)
class CatchUp:
    """Catch up with a change another worker made to the shared state; send back nothing."""


@dataclass(slots=True)
class Wait:
    """Wait this long before going on (``Prefer: delay``, ``--latency``); send back nothing."""

    seconds: float


@dataclass(slots=True)
class Spend:
    """Count the request against ``key``'s quota; send back the :class:`Quota`, or throw
    :class:`StateUnavailable`."""

    key: ApiKey
    now: datetime


@dataclass(slots=True)
class Read:
    """Read the page of ``query`` from ``store`` (it is not cached); send back its bytes."""

    store: LeadStore
    query: spec.LeadQuery


@dataclass(slots=True)
class Answer:
    """A ``/leads`` answer: status, headers (its content type first) and body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


Step = CatchUp | Wait | Spend | Read
_CATCH_UP: Final = CatchUp()


class LeadsPipeline:
    """Answers ``/leads`` for one runtime, whatever front door the request came through."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.cors = tuple(CORS_HEADERS.items()) if rt.config.cors else ()
        self.content_type = content_type(rt.profile)

    def answer(self, request: LeadsRequest, path: str) -> Generator[Step | Answer, Any, None]:
        """The steps of the answer to ``request`` (the method and ``Prefer``, the wait, the
        scenario and the key, the quota, the parameters, the page), the :class:`Answer` last:
        yielded, not returned, as a ``StopIteration`` would cost as much as the rest of a cached
        page. Never raises: an unexpected error is the documented 500, logged."""
        rt, started = self.rt, time.perf_counter()
        try:
            if rt.behind:
                yield _CATCH_UP
            serving = rt.serving
            code, delay = prepare(serving, request)
            if delay:
                yield Wait(delay)
                serving = rt.serving  # as it stands after the wait, for the rest of the request
            key = authorize(serving, request, code)
            now = datetime.now(UTC)
            headers, query = admit(serving, request, (yield Spend(key, now)), now)
            body = serving.store.cached(query)
            if body is None:
                body = yield Read(serving.store, query)
            status = 200
        except ApiError as error:
            status, headers, body = error.status, error.headers, error.render()
        except StateUnavailable as exc:
            refusal = unavailable(exc)
            status, headers, body = refusal.status, refusal.headers, refusal.render()
        except Exception:  # never a traceback to the client: the documented 500
            failure = crash(rt, path)
            status, headers, body = failure.status, failure.headers, failure.render()
        if rt.profile.headers is not None:
            headers = profiled_headers(rt.profile, status, headers)
        log_entry(rt, request, path, status, started)
        yield Answer(status, [("Content-Type", self.content_type), *headers.items(), *self.cors], body)


class LeadsEndpoint:
    """WSGI middleware: answers ``/leads`` through the pipeline, every other path through ``app``."""

    def __init__(self, rt: Runtime, app: WSGIApp) -> None:
        self.rt = rt
        self.app = app
        self.pipeline = LeadsPipeline(rt)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO")
        if path not in PATHS or environ["REQUEST_METHOD"] == "OPTIONS":
            return self.app(environ, start_response)
        request = LeadsRequest(
            environ["REQUEST_METHOD"],
            environ.get(_KEY_ENV),
            environ.get("HTTP_PREFER"),
            environ.get("QUERY_STRING", "").encode("latin-1"),
        )
        rt, steps = self.rt, self.pipeline.answer(request, path)
        step = next(steps)
        while type(step) is not Answer:
            try:
                if type(step) is Spend:
                    done: Any = rt.state.spend(step.key, step.now)
                elif type(step) is Read:
                    done = step.store.page(step.query)
                elif type(step) is Wait:
                    deferred = environ.get(DELAYS_ENV)
                    if isinstance(deferred, list):
                        deferred.append(step.seconds)
                    else:
                        time.sleep(step.seconds)
                    done = None
                else:
                    rt.sync()
                    done = None
            except Exception as exc:  # the pipeline answers it
                step = steps.throw(exc)
            else:
                step = steps.send(done)
        step.headers.append(("Content-Length", str(len(step.body))))
        start_response(STATUS_LINES[step.status], step.headers)
        return [step.body]
