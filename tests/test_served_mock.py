"""The mock as users run it: `rotor-mock serve` on granian, over real sockets on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from rotor_leads import contract_tests
from tests import loopback
from tests.served import DEMO_KEY_ARGS, serve

pytest_plugins = ["pytester"]


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve(tmp_path_factory.mktemp("served"), "--workers", "2", "--leads", "1300", "--seed", "5") as mock:
        yield mock.url


def test_served__banner_and_open_api_prefix(server: str) -> None:
    answer = loopback.get(
        f"{server}/open-api/leads?limit=2", headers={"x-api-key": "demo-key-unlimited"}, timeout=5
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert len(answer.json()["data"]) == 2


def test_served__cors_preflight(server: str) -> None:
    answer = httpx.options(
        f"{server}/leads",
        headers={
            "Origin": "http://localhost:5173",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "x-api-key,prefer",
        },
        timeout=5,
    )
    assert answer.status_code == 204
    assert answer.headers["access-control-allow-origin"] == "*"


def test_served__quota_is_exact_across_workers_and_clients(server: str) -> None:
    loopback.post(f"{server}/__admin/reset?only=quotas", timeout=5)
    limit = 1000

    with loopback.client(timeout=10, limits=httpx.Limits(max_connections=16)) as client:

        def call(_: int) -> int:
            return client.get(f"{server}/leads?limit=1", headers={"x-api-key": "demo-key"}).status_code

        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(call, range(limit + 60)))
    assert statuses.count(200) == limit
    assert statuses.count(429) == 60


def test_served__contract_suite_passes(server: str, pytester: pytest.Pytester) -> None:
    suite = str(Path(contract_tests.__file__).parent)
    result = pytester.runpytest_subprocess(
        suite,
        "-p",
        "no:cacheprovider",
        "--base-url",
        server,
        *DEMO_KEY_ARGS,
        "--strict-contract",
        timeout=300,
    )
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()[-3000:]
    result.stdout.fnmatch_lines(["*Spec gaps: none*", "*requests used: * of a budget of 150*"])
