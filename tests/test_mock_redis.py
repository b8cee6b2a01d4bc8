"""Several mock instances sharing one Redis, as a team's staging fake behind a load balancer
runs them: real ``rotor-mock serve`` processes and a real ``redis-server`` on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.redis_server import need_redis, redis_command, redis_server
from tests.served import Mock, serve
from tests.servers import free_port

JSON = {"Content-Type": "application/json"}
LIMITED = {"x-api-key": "limited-key-0123456789"}
FREE = {"x-api-key": "free-key-0123456789"}


def _keys(tmp: Path, limit: int) -> Path:
    path = tmp / "keys.json"
    path.write_text(
        json.dumps(
            {"limited-key-0123456789": {"daily_limit": limit}, "free-key-0123456789": {"daily_limit": None}}
        )
    )
    return path


@pytest.fixture
def two(tmp_path: Path) -> Iterator[tuple[Mock, Mock, str]]:
    with redis_server(tmp_path) as url:
        args = (
            "--workers",
            "2",
            "--leads",
            "120",
            "--keys",
            str(_keys(tmp_path, 300)),
            "--shared-state",
            url,
        )
        with serve(tmp_path, *args) as first, serve(tmp_path, *args) as second:
            yield first, second, url


def _eventually(check: Callable[[], bool], seconds: float = 3) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.05)
    return check()


def test_two_instances__a_limited_key_gets_exactly_its_limit_across_both(two: tuple[Mock, Mock, str]) -> None:
    first, second, _ = two
    with httpx.Client(timeout=10) as http:

        def call(n: int) -> int | None:
            answer = http.get(f"{(first, second)[n % 2].url}/leads?limit=1", headers=LIMITED)
            return int(answer.headers["X-RateLimit-Remaining"]) if answer.status_code == 200 else None

        with ThreadPoolExecutor(16) as pool:
            remaining = [r for r in pool.map(call, range(380)) if r is not None]
    assert sorted(remaining) == list(range(300))


def test_two_instances__a_scenario_and_a_data_change_on_one_reach_the_other(
    two: tuple[Mock, Mock, str],
) -> None:
    first, second, _ = two
    with httpx.Client(timeout=10) as http:
        assert (
            http.put(f"{first.url}/__admin/scenario", content=b'{"code": 429}', headers=JSON).status_code
            == 200
        )
        assert _eventually(lambda: http.get(f"{second.url}/leads", headers=FREE).status_code == 429)
        assert http.delete(f"{second.url}/__admin/scenario").status_code == 200
        assert _eventually(lambda: http.get(f"{first.url}/leads", headers=FREE).status_code == 200)
        lead = b'[{"id": "only", "created_at": "2026-01-01T00:00:00Z"}]'
        assert http.post(f"{first.url}/__admin/fixtures", content=lead, headers=JSON).status_code == 200
        assert _eventually(
            lambda: http.get(f"{second.url}/leads", headers=FREE).json()["pagination"]["total"] == 1
        )
        assert (
            http.post(f"{second.url}/__admin/reset?only=data", content=b"{}", headers=JSON).status_code == 200
        )
        assert _eventually(
            lambda: http.get(f"{first.url}/leads", headers=FREE).json()["pagination"]["total"] > 1
        )


def test_redis_lost_while_running__limited_keys_get_a_503_and_the_rest_goes_on(tmp_path: Path) -> None:
    need_redis()
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"

    def start_redis() -> subprocess.Popen[bytes]:
        return subprocess.Popen(redis_command(port, tmp_path), stdout=subprocess.DEVNULL)

    redis_process = start_redis()
    try:
        from rotor_leads.mock_server.engine.state._redis import wait_for

        wait_for(url, 10)
        with (
            serve(tmp_path, "--keys", str(_keys(tmp_path, 300)), "--shared-state", url) as mock,
            httpx.Client(timeout=20) as http,
        ):
            assert http.get(f"{mock.url}/leads", headers=LIMITED).status_code == 200
            redis_process.terminate()
            redis_process.wait(10)
            lost = http.get(f"{mock.url}/leads", headers=LIMITED)
            assert lost.status_code == 503 and lost.json()["error_code"] == "SHARED_STATE_UNAVAILABLE"
            assert http.get(f"{mock.url}/leads", headers=FREE).status_code == 200
            admin = http.put(f"{mock.url}/__admin/scenario", content=b'{"code": 500}', headers=JSON)
            assert admin.status_code == 503 and admin.headers["content-type"] == "application/json"
            redis_process = start_redis()
            wait_for(url, 10)
            assert _eventually(lambda: http.get(f"{mock.url}/leads", headers=LIMITED).status_code == 200, 10)
            assert "Traceback" not in mock.output()
    finally:
        redis_process.terminate()
        redis_process.wait(10)


def test_redis_unreachable_at_start__one_line(tmp_path: Path) -> None:
    from tests.served import command

    result = subprocess.run(
        command("--port", str(free_port()), "--shared-state", f"redis://127.0.0.1:{free_port()}/0"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("Error: cannot reach the shared state at redis://127.0.0.1:"), (
        result.stderr
    )
