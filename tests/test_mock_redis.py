"""Several mock instances sharing one Redis, as a team's staging fake behind a load balancer
runs them: real ``rotor-mock serve`` processes and a real ``redis-server`` on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
import pytest
import redis

from tests import loopback
from tests.redis_server import RedisProcess, redis_server
from tests.served import Mock, command, serve
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
    with loopback.client(timeout=10) as http:

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
    with loopback.client(timeout=10) as http:
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


def test_redis_lost_while_running__a_503_then_the_first_request_after_it_is_answered(tmp_path: Path) -> None:
    with (
        RedisProcess(tmp_path) as redis_server_,
        serve(tmp_path, "--keys", str(_keys(tmp_path, 300)), "--shared-state", redis_server_.url) as mock,
        loopback.client(timeout=20) as http,
    ):
        assert http.get(f"{mock.url}/leads", headers=LIMITED).status_code == 200
        redis_server_.stop()
        lost = http.get(f"{mock.url}/leads", headers=LIMITED)
        assert lost.status_code == 503 and lost.json()["error_code"] == "SHARED_STATE_UNAVAILABLE"
        assert http.get(f"{mock.url}/leads", headers=FREE).status_code == 200
        admin = http.put(f"{mock.url}/__admin/scenario", content=b'{"code": 500}', headers=JSON)
        assert admin.status_code == 503 and admin.headers["content-type"] == "application/json"
        health = http.get(f"{mock.url}/__admin/health").json()
        assert health["status"] == "degraded" and health["shared_state"]["status"] == "down"
        redis_server_.start()  # empty, on the same port
        # The first request after Redis is back is counted on a fresh connection, not refused.
        assert http.get(f"{mock.url}/leads", headers=LIMITED).status_code == 200
        assert http.get(f"{mock.url}/__admin/health").json()["shared_state"]["status"] == "up"
        assert "Traceback" not in mock.output()


def test_redis_stalled__a_request_answered_503_counts_nothing(tmp_path: Path) -> None:
    with RedisProcess(tmp_path) as redis_server_:
        url = f"{redis_server_.url}?timeout=0.5"
        with (
            serve(tmp_path, "--keys", str(_keys(tmp_path, 300)), "--shared-state", url) as mock,
            loopback.client(timeout=20) as http,
        ):
            statuses = [http.get(f"{mock.url}/leads", headers=LIMITED).status_code for _ in range(10)]
            redis_server_.freeze()  # commands are taken in, answered when it thaws: too late
            # Four at once: each waits out the 0.5 s timeout, and none of them needs to wait
            # for another's.
            with ThreadPoolExecutor(4) as pool:
                stalled = pool.map(
                    lambda _: http.get(f"{mock.url}/leads", headers=LIMITED).status_code, range(4)
                )
                statuses += list(stalled)
            redis_server_.thaw()
            assert _eventually(lambda: http.get(f"{mock.url}/leads", headers=LIMITED).status_code == 200, 5)
            statuses.append(200)
            used = http.get(f"{mock.url}/__admin/quotas").json()["data"]
        assert statuses.count(503) == 4
        (limited,) = [q for q in used if q["limit"] == 300]
        assert limited["used"] == statuses.count(200)  # the 503s took nothing of the quota


def test_redis_forgets__no_5xx_and_every_instance_on_the_same_data_within_a_second(
    two: tuple[Mock, Mock, str],
) -> None:
    first, second, url = two
    twenty = orjson.dumps(
        [{"id": f"lead-{i:02d}", "created_at": f"2026-11-{i + 1:02d}T09:00:00Z"} for i in range(20)]
    )
    with loopback.client(timeout=10) as http:
        assert http.post(f"{first.url}/__admin/fixtures", content=twenty, headers=JSON).status_code == 200
        redis.Redis.from_url(url).flushall()  # as a restart without persistence leaves it
        # A scenario and a data change right after: no 5xx, each one step.
        scenario = http.put(f"{second.url}/__admin/scenario", content=b'{"code": 429}', headers=JSON)
        assert scenario.status_code == 200, scenario.text
        assert http.delete(f"{second.url}/__admin/scenario").status_code == 200
        assert http.post(f"{first.url}/__admin/fixtures", content=twenty, headers=JSON).status_code == 200

        def same_data() -> bool:
            totals = {
                http.get(f"{mock.url}/leads?archived=true", headers=FREE).json()["pagination"]["total"]
                for mock in (first, second)
                for _ in range(4)  # both workers of each
            }
            return totals == {20}

        assert _eventually(same_data, 1.5)
        for mock in (first, second):
            assert _eventually(
                lambda mock=mock: bool(
                    http.get(f"{mock.url}/__admin/health").json()["shared_state"]["forgotten"]
                ),
                1.5,
            )
            said = mock.output().count("forgot what it held")
            assert 1 <= said <= 2, mock.output()[-2000:]  # once in each worker that saw it
            assert " 500 " not in mock.output() and "Traceback" not in mock.output()


def test_shared_state_urls__a_unix_socket_serves_and_a_database_name_is_refused(tmp_path: Path) -> None:
    socket_path = tmp_path / "redis.sock"
    with (
        RedisProcess(tmp_path, unix_socket=socket_path),
        serve(
            tmp_path, "--keys", str(_keys(tmp_path, 5)), "--shared-state", f"unix://{socket_path}?prefix=sock"
        ) as mock,
    ):
        statuses = [
            loopback.get(f"{mock.url}/leads", headers=LIMITED, timeout=10).status_code for _ in range(6)
        ]
        assert statuses == [200] * 5 + [429]
    refused = subprocess.run(
        command("--port", str(free_port()), "--shared-state", "redis://127.0.0.1:6379/abc"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2
    assert "the database is a number (redis://HOST:PORT/0), not 'abc'" in refused.stderr


def test_redis_unreachable_at_start__one_line(tmp_path: Path) -> None:
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
