"""A fuzz pass over the whole mock, both front doors (the in-process WSGI app and the RSGI server
of ``rotor-mock serve``): 5,000 generated requests, good and bad, with what Schemathesis does
not send (other methods and paths, invalid UTF-8, repeated and unknown parameters, odd
headers, admin calls with any body). No answer is a 5xx unless it was asked for, and every
answer but the HTML pages is JSON."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_from_bytes, unquote_to_bytes

import httpx
import orjson
import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rotor_leads.mock_server import create_app
from rotor_leads.mock_server.engine._data import generate_leads
from tests import loopback
from tests.fuzz_scale import examples
from tests.served import serve

PATHS = [
    "/leads",
    "/open-api/leads",
    "/leads/",
    "/__admin/health",
    "/__admin/quotas",
    "/__admin/requests",
    "/__admin/reset",
    "/__admin/fixtures",
    "/__admin/scenario",
    "/docs",
    "/openapi.json",
    "/nope",
]
HTML = ("/docs", "/__admin")
PARAMETERS = ["archived", "limit", "page", "search", "stage", "tags", "x", "_"]
KEYS = ["demo-key", "demo-key-unlimited", "demo-key-no-scope", "demo-key-exhausted", "wrong", ""]
GOOD_FIXTURES = orjson.dumps(list(generate_leads(5, seed=3)))

_bytes = st.binary(max_size=12)
_text = st.text(max_size=12)
_value = st.one_of(
    st.sampled_from(["true", "false", "1", "0", "1000", "1001", "-1", "abc", "", "won", "vip,solar", "%"]),
    _text.map(lambda t: quote_from_bytes(t.encode("utf-8"))),
    _bytes.map(quote_from_bytes),  # invalid UTF-8 too
)


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @property
    def asked_for_500(self) -> bool:
        return "code=500" in self.headers.get("Prefer", "").replace(" ", "")


@st.composite
def requests(draw: st.DrawFn) -> Request:
    method = draw(
        st.sampled_from(["GET"] * 6 + ["POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE"])
    )
    path = draw(st.sampled_from(PATHS) | _text.map(lambda t: "/" + quote_from_bytes(t.encode("utf-8"))))
    pairs = draw(st.lists(st.tuples(st.sampled_from(PARAMETERS), _value), max_size=4))
    query = "&".join(f"{k}={v}" for k, v in pairs)
    headers: dict[str, str] = {}
    if draw(st.integers(0, 4)):
        headers["x-api-key"] = draw(st.sampled_from(KEYS))
    if draw(st.integers(0, 3)) == 0:
        headers["Prefer"] = draw(
            st.sampled_from(
                ["code=401", "code=429", "code=500", "code=200", "delay=1", "code=418", "x", "delay=abc"]
            )
        )
    if draw(st.integers(0, 3)) == 0:
        headers["Content-Type"] = draw(
            st.sampled_from(["application/json", "text/plain", "multipart/form-data"])
        )
    if draw(st.integers(0, 5)) == 0:
        headers["Origin"] = draw(st.sampled_from(["http://evil.example", "http://localhost"]))
    body = b""
    if method in ("POST", "PUT", "PATCH"):
        body = draw(
            st.sampled_from([b"", b"{}", b"[]", b'{"code": 500}', b'{"code": 429}', b"[{", GOOD_FIXTURES])
            | _bytes
        )
    return Request(method, path, query, headers, body)


@dataclass
class Watch:
    """What the fuzz has switched on so far: a server-wide 500 is an asked-for 500."""

    scenario_500: bool = False
    seen: int = 0

    def check(self, request: Request, status: int, headers: Any, body: bytes) -> None:
        self.seen += 1
        if request.method in ("PUT",) and request.path == "/__admin/scenario" and status == 200:
            self.scenario_500 = orjson.loads(body).get("scenario") == 500
        if status == 200 and (request.path == "/__admin/reset" or request.method == "DELETE"):
            if request.path in ("/__admin/reset", "/__admin/scenario") and "only=quotas" not in request.query:
                self.scenario_500 = False
        leads = request.path in ("/leads", "/open-api/leads")
        if status >= 500:
            assert status == 500 and leads and (request.asked_for_500 or self.scenario_500), (
                request,
                status,
                body,
            )
        if request.method in ("HEAD", "OPTIONS") or status == 204:
            return
        kind = headers.get("content-type", "")
        # Flask's routing merges slashes: "//docs" is the docs page.
        if re.sub("/{2,}", "/", request.path) in HTML and status == 200:
            assert kind.startswith("text/html"), (request, kind)
            return
        assert kind == "application/json", (request, status, kind, body[:200])
        orjson.loads(body)


@pytest.fixture(scope="session")
def app() -> Flask:
    return create_app(leads=60, seed=4)


@settings(max_examples=examples(800), deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(request=requests())
def test_fuzz__in_process(app: Flask, request: Request) -> None:
    # Werkzeug's test client reads a path that starts with "//" as a host name: the path goes
    # into the environ as a server would put it there, decoded to latin-1 per PEP 3333.
    response = app.test_client().open(
        "/",
        environ_overrides={"PATH_INFO": unquote_to_bytes(request.path).decode("latin-1")},
        method=request.method,
        query_string=request.query,
        headers=request.headers,
        data=request.body,
    )
    _watch_in_process.check(request, response.status_code, response.headers, response.get_data())


_watch_in_process = Watch()


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, Watch]]:
    with serve(tmp_path_factory.mktemp("fuzz"), "--leads", "60", "--workers", "2") as mock:
        with loopback.client(base_url=mock.url, timeout=10) as client:
            yield client, Watch()
        assert "Traceback" not in mock.output()


@settings(max_examples=examples(800), deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(request=requests())
def test_fuzz__served(served: tuple[httpx.Client, Watch], request: Request) -> None:
    client, watch = served
    url = request.path + ("?" + request.query if request.query else "")
    headers = {k: v if v.isascii() else v.encode("latin-1") for k, v in request.headers.items()}
    response = client.request(request.method, url, headers=headers, content=request.body)
    watch.check(request, response.status_code, response.headers, response.content)
