from __future__ import annotations

import time
from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient

from rotor_leads import spec
from rotor_leads.mock_server import create_app
from rotor_leads.mock_server.engine._data import generate_leads

KEY = {"x-api-key": "demo-key"}


def _get(client: FlaskClient, url: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    response = client.get(url, headers=KEY if headers is None else headers)
    assert response.content_type == "application/json"
    return response.status_code, orjson.loads(response.get_data())


def _all_leads() -> list[dict[str, Any]]:
    return list(generate_leads(120, seed=7))


def test_leads__default_page(client: FlaskClient) -> None:
    status, body = _get(client, "/leads")
    expected = spec.apply(spec.LeadQuery(), _all_leads())
    assert status == 200
    assert body["data"] == expected.data
    assert body["pagination"] == {"has_more": True, "limit": 50, "page": 1, "total": expected.total}


def test_leads__also_under_open_api_prefix(client: FlaskClient) -> None:
    assert _get(client, "/open-api/leads?limit=3") == _get(client, "/leads?limit=3")


@pytest.mark.parametrize(
    "query",
    [
        "archived=true",
        "stage=won",
        "tags=vip",
        "tags=vip,solar",
        "tags=%20vip%20,,solar",
        "search=son",
        "search=SON",
        "search=55",
        "stage=new&tags=hvac,roofing&archived=true&limit=7&page=2",
        "limit=1000",
        "page=99",
    ],
)
def test_leads__answers_as_the_spec_model(client: FlaskClient, query: str) -> None:
    status, body = _get(client, f"/leads?{query}")
    expected = spec.apply(spec.parse_query_string(query), _all_leads())
    assert status == 200
    assert [lead["id"] for lead in body["data"]] == [lead["id"] for lead in expected.data]
    assert (body["pagination"]["total"], body["pagination"]["has_more"]) == (
        expected.total,
        expected.has_more,
    )


def test_leads__filters_hit_the_seeded_data(client: FlaskClient) -> None:
    for query in ("stage=won", "tags=vip", "search=son", "archived=true"):
        assert _get(client, f"/leads?{query}")[1]["data"], query


def test_leads__archived_hidden_by_default(client: FlaskClient) -> None:
    _, default = _get(client, "/leads?limit=1000")
    _, everything = _get(client, "/leads?limit=1000&archived=true")
    assert not any(lead["archived"] for lead in default["data"])
    assert any(lead["archived"] for lead in everything["data"])
    assert {lead["id"] for lead in default["data"]} < {lead["id"] for lead in everything["data"]}


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 401, "AUTHENTICATION_REQUIRED"),
        ({"x-api-key": ""}, 401, "AUTHENTICATION_REQUIRED"),
        ({"x-api-key": "wrong"}, 401, "INVALID_API_KEY"),
        ({"x-api-key": "demo-key-no-scope"}, 403, "INSUFFICIENT_SCOPE"),
        ({"x-api-key": "demo-key-exhausted"}, 429, "RATE_LIMIT_EXCEEDED"),
    ],
)
def test_leads__auth_errors_are_the_documented_bodies(
    client: FlaskClient, headers: dict[str, str], status: int, code: str
) -> None:
    got_status, body = _get(client, "/leads", headers)
    assert (got_status, body) == (status, spec.ERRORS[code].body(limit=1000))


def test_leads__auth_comes_before_parameter_checks(client: FlaskClient) -> None:
    assert _get(client, "/leads?limit=0", {})[0] == 401


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=abc", "limit"),
        ("page=0", "page"),
        ("page=-3", "page"),
        ("archived=maybe", "archived"),
        ("search=" + "x" * 300, "search"),
        ("search=%ff%fe", "search"),
        ("stage=a%00b", "stage"),
        ("limit=5&limit=6", "limit"),
    ],
)
def test_leads__bad_values_are_400_naming_the_parameter(
    client: FlaskClient, query: str, parameter: str
) -> None:
    status, body = _get(client, f"/leads?{query}")
    assert status == 400
    assert body["error_code"] == "VALIDATION_ERROR"
    assert f"'{parameter}'" in body["message"]


@pytest.mark.parametrize(
    "search", ["'", '"', "%", "_", "\\", "🙂", "' OR 1=1 --", '"a" NEAR b', "*", "x" * 256]
)
def test_leads__hostile_search_is_never_a_server_error(client: FlaskClient, search: str) -> None:
    response = client.get("/leads", query_string={"search": search}, headers=KEY)
    assert response.status_code == 200


@pytest.mark.parametrize(("path", "method", "status"), [("/nope", "GET", 404), ("/leads", "POST", 405)])
def test_unknown_routes_answer_json(client: FlaskClient, path: str, method: str, status: int) -> None:
    response = client.open(path, method=method, headers=KEY)
    assert response.status_code == status
    assert spec.body_violations(status, orjson.loads(response.get_data())) == []


def test_leads__sdk_headers_are_accepted(client: FlaskClient) -> None:
    headers = {
        **KEY,
        "rotor-api-version": "1.1.0",
        "X-Stainless-Lang": "python",
        "X-Stainless-Retry-Count": "0",
    }
    assert _get(client, "/leads?limit=1", headers)[0] == 200


def test_leads__rate_limit_headers(client: FlaskClient) -> None:
    first = client.get("/leads", headers=KEY)
    second = client.get("/leads", headers=KEY)
    assert first.headers["X-RateLimit-Limit"] == "1000"
    assert int(first.headers["X-RateLimit-Remaining"]) - int(second.headers["X-RateLimit-Remaining"]) == 1
    assert int(second.headers["X-RateLimit-Reset"]) % 86400 == 0  # UTC midnight


def test_leads__429_has_retry_after_within_a_minute(client: FlaskClient) -> None:
    response = client.get("/leads", headers={"x-api-key": "demo-key-exhausted"})
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert response.headers["X-RateLimit-Remaining"] == "0"


def test_leads__quota_is_spent_then_429_naming_the_limit() -> None:
    from rotor_leads.mock_server import ApiKey

    app = create_app(leads=5, keys={"k": ApiKey("k", daily_limit=3)})
    client = app.test_client()
    statuses = [client.get("/leads", headers={"x-api-key": "k"}).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    body = orjson.loads(client.get("/leads", headers={"x-api-key": "k"}).get_data())
    assert body["message"] == "Daily API key request limit of 3 exceeded"


def test_cors__preflight_and_headers(client: FlaskClient) -> None:
    preflight = client.options(
        "/leads", headers={"Origin": "http://localhost:5173", "Access-Control-Request-Headers": "x-api-key"}
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert preflight.headers["Access-Control-Allow-Headers"] == "x-api-key"
    plain = client.options("/leads", headers={"Origin": "http://localhost:5173"})
    assert "prefer" in plain.headers["Access-Control-Allow-Headers"]
    assert client.get("/leads", headers=KEY).headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize(
    ("prefer", "status"), [("code=401", 401), ("code=403", 403), ("code=429", 429), ("code=500", 500)]
)
def test_prefer_code__returns_the_documented_error(client: FlaskClient, prefer: str, status: int) -> None:
    code, body = _get(client, "/leads", {**KEY, "Prefer": prefer})
    assert code == status
    assert body == next(
        e for e in spec.ERRORS.values() if e.status == status and e.rule_id != "error.unknown_key"
    ).body(limit=1000)


def test_prefer_delay__is_accepted(client: FlaskClient) -> None:
    assert _get(client, "/leads?limit=1", {**KEY, "Prefer": "delay=5, example=page"})[0] == 200


@pytest.mark.parametrize("prefer", ["code=418", "delay=soon", "code", "delay=999999", "code=²", "delay=١٢"])
def test_prefer__malformed_is_a_400(client: FlaskClient, prefer: str) -> None:
    code, body = _get(client, "/leads", {**KEY, "Prefer": prefer})
    assert code == 400
    assert "Prefer" in body["message"]


def test_fail_rate__is_seeded_and_reproducible() -> None:
    def run() -> list[int]:
        client = create_app(leads=3, fail_rate=0.5, seed=11).test_client()
        return [client.get("/leads", headers=KEY).status_code for _ in range(20)]

    first = run()
    assert first == run()
    assert set(first) == {200, 500}


@pytest.mark.parametrize("where", ["pipeline", "front_door"])
def test_crash__is_the_documented_500(app: Flask, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    """An unexpected error in a step of the pipeline, or in one the front door does for it (the
    quota count), is the documented 500."""
    rt = app.extensions["rotor_mock"]

    def boom(*args: object) -> None:
        raise RuntimeError("boom")

    if where == "pipeline":
        monkeypatch.setattr(rt.store, "cached", boom)
    else:
        monkeypatch.setattr(rt.state, "spend", boom)
    response = app.test_client().get("/leads", headers=KEY)
    assert (response.status_code, orjson.loads(response.get_data())) == (
        500,
        spec.ERRORS["INTERNAL_ERROR"].body(),
    )


def test_cors__a_preflight_gets_the_headers_it_asks_for(client: FlaskClient) -> None:
    asked = "x-api-key, x-stainless-lang, x-stainless-retry-count, x-stainless-package-version"
    preflight = client.options(
        "/leads",
        headers={
            "Origin": "http://localhost:5173",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": asked,
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Headers"] == asked
    bad = client.options("/leads", headers={"Access-Control-Request-Headers": "x-api-key, bad header;"})
    assert bad.headers["Access-Control-Allow-Headers"] == "x-api-key, rotor-api-version, prefer, content-type"


@pytest.mark.parametrize(
    ("headers", "limit"),
    [
        ({"x-api-key": "demo-key-exhausted"}, "1000"),
        ({"x-api-key": "demo-key", "Prefer": "code=429"}, "1000"),
        ({"x-api-key": "demo-key-unlimited", "Prefer": "code=429"}, "1000"),
    ],
)
def test_429__one_shape_whatever_caused_it(client: FlaskClient, headers: dict[str, str], limit: str) -> None:
    answer = client.get("/leads", headers=headers)
    assert answer.status_code == 429
    assert answer.headers["X-RateLimit-Limit"] == limit and answer.headers["X-RateLimit-Remaining"] == "0"
    assert int(answer.headers["X-RateLimit-Reset"]) % 86400 == 0
    assert 0 < int(answer.headers["Retry-After"]) <= 60


def test_429__retry_after_until_the_reset_when_asked() -> None:
    client = create_app(leads=3, retry_after=None).test_client()
    answer = client.get("/leads", headers={"x-api-key": "demo-key-exhausted"})
    until_reset = int(answer.headers["X-RateLimit-Reset"]) - time.time()
    assert abs(int(answer.headers["Retry-After"]) - until_reset) <= 2
