"""The mock as users run it: `rotor-mock serve` on granian, over real sockets on 127.0.0.1."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from rotor_leads import contract_tests
from tests import loopback
from tests.served import DEMO_KEY_ARGS

pytest_plugins = ["pytester"]
STARTUP_SECONDS = 30


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    log = tmp_path_factory.mktemp("served") / "mock.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "rotor_leads.mock_server",
                "serve",
                "--port",
                str(port),
                "--workers",
                "2",
                "--leads",
                "1300",
                "--seed",
                "5",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_SECONDS
    try:
        while True:
            try:
                if loopback.get(f"{url}/__admin/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the mock did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


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
