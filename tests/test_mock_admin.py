from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from flask.testing import FlaskClient

from rotor_leads.mock_server import MockConfig, create_app

KEY = {"x-api-key": "demo-key"}


def _json(response: object) -> dict:  # type: ignore[type-arg]
    return orjson.loads(response.get_data())  # type: ignore[attr-defined,no-any-return]


def test_health(client: FlaskClient) -> None:
    body = _json(client.get("/__admin/health"))
    assert body == {"status": "ok", "leads": 120, "seed": 7, "data": "seeded", "scenario": None}


def test_fixtures__replace_the_data(client: FlaskClient) -> None:
    leads = [{"id": "a", "created_at": "2026-01-01T00:00:00Z", "name": "Ann"}]
    assert _json(client.post("/__admin/fixtures", json=leads))["leads"] == 1
    assert [lead["id"] for lead in _json(client.get("/leads", headers=KEY))["data"]] == ["a"]
    client.post("/__admin/reset?only=data", json={})
    assert _json(client.get("/leads", headers=KEY))["pagination"]["total"] > 1


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"[{", "not valid JSON"),
        (b"{}", "expected a JSON array"),
        (b'[{"id": "a"}]', "record 0, field created_at"),
        (b'[{"id": "a", "created_at": "2026-01-01T00:00:00Z", "priority": "urgent"}]', "field priority"),
    ],
)
def test_fixtures__bad_body_is_a_400_and_nothing_changes(client: FlaskClient, body: bytes, says: str) -> None:
    response = client.post("/__admin/fixtures", data=body, content_type="application/json")
    assert response.status_code == 400
    assert says in _json(response)["message"]
    assert _json(client.get("/__admin/health"))["data"] == "seeded"


def test_reset__quotas(client: FlaskClient) -> None:
    client.get("/leads", headers=KEY)
    assert client.get("/leads", headers=KEY).headers["X-RateLimit-Remaining"] == "998"
    client.post("/__admin/reset?only=quotas", json={})
    assert client.get("/leads", headers=KEY).headers["X-RateLimit-Remaining"] == "999"


def test_reset__bad_choice_is_a_400(client: FlaskClient) -> None:
    assert client.post("/__admin/reset?only=everything", json={}).status_code == 400


def test_scenario__server_wide_then_off(client: FlaskClient) -> None:
    assert client.put("/__admin/scenario", json={"code": 429}).status_code == 200
    assert client.get("/leads", headers=KEY).status_code == 429
    assert client.get("/leads", headers={**KEY, "Prefer": "code=200"}).status_code == 200
    client.delete("/__admin/scenario")
    assert client.get("/leads", headers=KEY).status_code == 200


def test_scenario__reaches_every_worker(tmp_path: Path) -> None:
    config = MockConfig(leads=3, state_dir=tmp_path / "state")
    one, two = create_app(config).test_client(), create_app(config).test_client()
    one.put("/__admin/scenario", json={"code": 500})
    assert two.get("/leads", headers=KEY).status_code == 500
    two.delete("/__admin/scenario")
    assert one.get("/leads", headers=KEY).status_code == 200


def test_fixtures__reach_every_worker_and_reset_brings_every_worker_back(tmp_path: Path) -> None:
    config = MockConfig(leads=3, state_dir=tmp_path / "state")
    one, two = create_app(config).test_client(), create_app(config).test_client()
    seeded = _json(one.get("/leads", headers=KEY))["data"]
    leads = [{"id": "a", "created_at": "2026-01-01T00:00:00Z", "name": "Ann"}]
    one.post("/__admin/fixtures", json=leads)
    assert [lead["id"] for lead in _json(two.get("/leads", headers=KEY))["data"]] == ["a"]
    two.post("/__admin/reset", json={})
    assert _json(one.get("/leads", headers=KEY))["data"] == seeded


def test_requests_log__masks_keys(tmp_path: Path) -> None:
    from rotor_leads.mock_server import ApiKey

    client = create_app(leads=3, keys={"secret-key-123456": ApiKey("secret-key-123456")}).test_client()
    client.get("/leads?limit=2", headers={"x-api-key": "secret-key-123456"})
    entry = _json(client.get("/__admin/requests"))["data"][0]
    assert entry["query"] == "limit=2" and entry["status"] == 200
    assert "secret-key-123456" not in orjson.dumps(entry).decode()


def test_quotas__report_each_key(client: FlaskClient) -> None:
    client.get("/leads", headers=KEY)
    report = {row["key"]: row for row in _json(client.get("/__admin/quotas"))["data"]}
    assert (report["demo-key"]["used"], report["demo-key"]["left"]) == (1, 999)
    assert report["demo-key-exhausted"]["left"] == 0


def test_scenario__switching_keeps_the_data_set(client: FlaskClient) -> None:
    rt = client.application.extensions["rotor_mock"]
    store = rt.store
    client.put("/__admin/scenario", json={"code": 500})
    client.delete("/__admin/scenario")
    assert rt.store is store  # a scenario is not a reason to rebuild the leads
    client.post("/__admin/reset?only=data", json={})
    assert rt.store is not store


# -- no web page can drive the admin API ----------------------------------------------------------

EVIL = {"Origin": "http://evil.example"}


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("POST", "/__admin/fixtures", {**EVIL, "Content-Type": "text/plain"}, 403),
        ("POST", "/__admin/fixtures", {"Content-Type": "text/plain"}, 415),
        ("POST", "/__admin/fixtures", {"Content-Type": "application/x-www-form-urlencoded"}, 415),
        ("POST", "/__admin/reset", {**EVIL, "Content-Type": "application/json"}, 403),
        ("POST", "/__admin/reset", {"Sec-Fetch-Site": "cross-site", "Content-Type": "application/json"}, 403),
        ("PUT", "/__admin/scenario", {"Host": "evil.example", "Content-Type": "application/json"}, 403),
        ("GET", "/__admin/requests", {"Host": "rebound.evil.example:8080"}, 403),
    ],
)
def test_admin__refuses_what_a_web_page_could_send(
    client: FlaskClient, method: str, path: str, headers: dict[str, str], status: int
) -> None:
    body = b'[{"id": "x", "created_at": "2026-01-01T00:00:00Z"}]' if "fixtures" in path else b'{"code": 500}'
    response = client.open(path, method=method, headers=headers, data=body)
    assert response.status_code == status
    assert "Access-Control-Allow-Origin" not in response.headers
    assert _json(client.get("/__admin/health")) == {
        "status": "ok",
        "leads": 120,
        "seed": 7,
        "data": "seeded",
        "scenario": None,
    }


def test_admin__answers_no_cors_preflight(client: FlaskClient) -> None:
    preflight = client.options(
        "/__admin/fixtures",
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers
    assert client.options("/leads").headers["Access-Control-Allow-Origin"] == "*"  # /leads keeps its CORS


def test_admin__no_page_may_frame_it_and_options_says_what_a_path_allows(client: FlaskClient) -> None:
    for path in ("/__admin", "/__admin/health", "/__admin/nothing-here"):
        answer = client.get(path)
        assert answer.headers["X-Frame-Options"] == "DENY", path
        assert answer.headers["Content-Security-Policy"] == "frame-ancestors 'none'", path
        assert answer.headers["X-Content-Type-Options"] == "nosniff", path
    options = client.options("/__admin/reset")
    assert (options.status_code, options.data, options.headers["Allow"]) == (204, b"", "OPTIONS, POST")
    assert "Content-Type" not in options.headers and "Access-Control-Allow-Origin" not in options.headers
    assert client.options("/__admin/nothing-here").status_code == 404
    assert "Content-Type" not in client.options("/leads").headers  # a preflight has no body either
    assert "X-Frame-Options" not in client.get("/leads", headers=KEY).headers  # the API is left as it is


def test_admin__same_origin_and_loopback_names_are_served(client: FlaskClient) -> None:
    for host in ("localhost:8080", "127.0.0.1:9000", "[::1]:8080", "app.localhost"):
        headers = {"Host": host, "Origin": f"http://{host}", "Content-Type": "application/json"}
        assert client.post("/__admin/reset?only=quotas", headers=headers, data=b"{}").status_code == 200


def test_admin__a_token_is_required_when_set() -> None:
    client = create_app(leads=3, admin_token="t" * 20, loopback=False).test_client()
    assert client.get("/__admin/health").status_code == 401
    assert client.get("/__admin/health", headers={"X-Admin-Token": "wrong" * 4}).status_code == 401
    assert client.get("/__admin/health", headers={"X-Admin-Token": "t" * 20}).status_code == 200
    assert client.get("/__admin/health", headers={"Authorization": "Bearer " + "t" * 20}).status_code == 200
    assert (
        client.get(
            "/__admin/health", headers={"Host": "mock.example.com", "X-Admin-Token": "t" * 20}
        ).status_code
        == 200
    )
    assert client.get("/leads", headers=KEY).status_code == 200  # /leads needs only its API key
    assert "beyond this machine" in client.get("/__admin/health").get_json()["message"]


def test_admin__a_token_on_loopback_is_not_said_to_listen_beyond_it() -> None:
    client = create_app(leads=3, admin_token="t" * 20, loopback=True).test_client()
    answer = client.get("/__admin/health")
    assert answer.status_code == 401
    assert answer.get_json()["message"] == (
        "This mock was started with --admin-token: send its admin token in the X-Admin-Token header."
    )
