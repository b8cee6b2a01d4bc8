"""The `rotor_api` fixture, as a team would use it: through pytester, with the example client."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from rotor_leads import spec

pytest_plugins = ["pytester"]
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_example_client__its_tests_pass_with_the_fixture(pytester: pytest.Pytester) -> None:
    for name in ("leads_client.py", "test_leads_client.py"):
        pytester.makepyfile(**{name.removesuffix(".py"): (EXAMPLES / name).read_text()})
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", timeout=120)
    result.assert_outcomes(passed=6)


def test_fixture__answers_like_the_mock_and_logs_calls(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx, pytest

        URL = "https://api.getrotor.com/open-api/leads"
        KEY = {"x-api-key": "demo-key"}

        @pytest.mark.rotor_api(leads=30, seed=2)
        def test_page(rotor_api):
            r = httpx.get(URL + "?limit=5", headers=KEY)
            assert r.status_code == 200
            total = rotor_api.total()
            assert r.json()["pagination"] == {"has_more": True, "limit": 5, "page": 1, "total": total}
            assert r.headers["X-RateLimit-Remaining"] == "999"
            assert rotor_api.calls.last.request.url.params["limit"] == "5"

        def test_errors_and_scenarios(rotor_api):
            url = "https://api.getrotor.com/open-api/leads"
            assert httpx.get(url).json()["error_code"] == "AUTHENTICATION_REQUIRED"
            rotor_api.fail_next(500)
            assert httpx.get(url, headers={"x-api-key": "demo-key"}).json() == {
                "status": "error", "message": "Internal server error"}
            assert httpx.get(url, headers={"x-api-key": "demo-key"}).status_code == 200

        def test_quota_is_enforced(rotor_api):
            from rotor_leads.mock_server import ApiKey
            rotor_api.use(leads=3, keys={"k": ApiKey("k", daily_limit=2)})
            codes = [httpx.get(URL, headers={"x-api-key": "k"}).status_code for _ in range(3)]
            assert codes == [200, 200, 429]

        async def _get(url):
            async with httpx.AsyncClient() as client:
                return await client.get(url, headers={"x-api-key": "demo-key"})

        def test_async_clients_too(rotor_api):
            import asyncio
            assert asyncio.run(_get("https://api.getrotor.com/open-api/leads")).status_code == 200

        def test_other_hosts_never_reach_the_network(rotor_api):
            with pytest.raises(Exception, match="not mocked"):
                httpx.get("https://example.com/")
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", timeout=120)
    result.assert_outcomes(passed=5)


def test_fixture__is_registered_by_the_entry_point(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--fixtures", "-p", "no:cacheprovider", timeout=60)
    result.stdout.fnmatch_lines(["*rotor_api*", "*faked in-process*"])


def test_fixture__takes_keys_as_a_keys_file_does(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import httpx
        import pytest

        URL = "https://api.getrotor.com/open-api/leads"

        def test_keys(rotor_api):
            rotor_api.use(leads=5, keys={"k1": {"scopes": ["leads:read"], "daily_limit": 2}, "k2": None})
            statuses = [httpx.get(URL, headers={"x-api-key": "k1"}).status_code for _ in range(3)]
            assert statuses == [200, 200, 429]
            assert httpx.get(URL, headers={"x-api-key": "k2"}).status_code == 200
            assert httpx.get(URL, headers={"x-api-key": "demo-key"}).status_code == 401

        def test_bad_keys_fail_at_once(rotor_api):
            with pytest.raises(ValueError, match="rotor_api keys: entry 1 .key …., field daily_limit"):
                rotor_api.use(keys={"k1": {"daily_limit": "many"}})

        @pytest.mark.parametrize("status", [418, 200, "429", True])
        def test_fail_next_takes_the_documented_errors_only(rotor_api, status):
            with pytest.raises(ValueError, match="give one of 401, 403, 429, 500"):
                rotor_api.fail_next(status)

        def test_a_429_asked_for_looks_as_a_spent_quota(rotor_api):
            rotor_api.fail_next(429)
            answer = httpx.get(URL, headers={"x-api-key": "demo-key"})
            assert answer.status_code == 429
            assert answer.headers["X-RateLimit-Limit"] == "1000"
            assert answer.headers["X-RateLimit-Remaining"] == "0"
            assert 0 < int(answer.headers["Retry-After"]) <= 60
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=7)


def test_fixture__serves_a_behaviour_profile(pytester: pytest.Pytester) -> None:
    choices = {
        "page.default_limit": spec.Choice(25, "GET /leads (main key) → 200"),
        "error.unknown_key": spec.Choice(
            {"status": 403, "body": {"status": "error", "message": "Forbidden", "error_code": "FORBIDDEN"}},
            "GET /leads (unknown key) → 403",
        ),
    }
    (pytester.path / "profile.json").write_bytes(
        json.dumps(spec.Profile(choices, {"target": "https://staging.example"}, {}).to_json()).encode()
    )
    pytester.makepyfile(
        """
        import httpx
        import pytest

        URL = "https://api.getrotor.com/open-api/leads"

        @pytest.mark.rotor_api(profile="profile.json")
        def test_profiled(rotor_api):
            assert httpx.get(URL, headers={"x-api-key": "demo-key"}).json()["pagination"]["limit"] == 25
            refused = httpx.get(URL, headers={"x-api-key": "nope"})
            assert refused.status_code == 403 and refused.json()["error_code"] == "FORBIDDEN"

        def test_a_bad_profile_fails_at_once(rotor_api, tmp_path):
            bad = tmp_path / "bad.json"
            bad.write_text("{}")
            with pytest.raises(ValueError, match="not a rotor-leads profile"):
                rotor_api.use(profile=bad)
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


URL = "https://api.getrotor.com/open-api/leads"
DEMO_KEY = {"x-api-key": "demo-key"}


def test_fixture__a_delay_past_the_read_timeout_times_the_client_out(rotor_api: Any) -> None:
    rotor_api.delay_next(300, times=2)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(URL, headers=DEMO_KEY, timeout=0.1)

    async def get() -> httpx.Response:
        async with httpx.AsyncClient(timeout=0.1) as client:
            return await client.get(URL, headers=DEMO_KEY)

    with pytest.raises(httpx.ReadTimeout):
        asyncio.run(get())
    assert [call.has_response for call in rotor_api.calls] == [False, False]  # no answer reached them


def test_fixture__a_delay_within_the_read_timeout_is_waited_for(rotor_api: Any) -> None:
    rotor_api.delay_next(150)
    started = time.monotonic()
    answer = httpx.get(URL, headers=DEMO_KEY, timeout=5)
    assert answer.status_code == 200 and time.monotonic() - started >= 0.15
    assert httpx.get(URL, headers=DEMO_KEY, timeout=None).status_code == 200  # the next: no delay
