"""The `rotor_api` fixture, as a team would use it: through pytester, with the example client."""

from __future__ import annotations

from pathlib import Path

import pytest

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
