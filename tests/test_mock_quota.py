from __future__ import annotations

import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from mock_server import ApiKey, MockConfig, create_app
from mock_server._state import SharedState, next_midnight

LIMIT = 40


def _spend_many(state_path: str, count: int) -> int:
    state = SharedState(state_path)
    key = ApiKey("k", daily_limit=LIMIT)
    now = datetime.now(UTC)
    return sum(state.spend(key, now).allowed for _ in range(count))


def test_quota__exact_under_concurrent_threads() -> None:
    app = create_app(leads=10, keys={"k": ApiKey("k", daily_limit=LIMIT)})

    def call(_: int) -> int:
        return app.test_client().get("/leads?limit=1", headers={"x-api-key": "k"}).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(call, range(3 * LIMIT)))
    assert statuses.count(200) == LIMIT
    assert statuses.count(429) == 2 * LIMIT


def test_quota__exact_across_processes(tmp_path: Path) -> None:
    path = str(tmp_path / "state.sqlite")
    SharedState(path)  # create the tables before the workers race
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        granted = pool.starmap(_spend_many, [(path, LIMIT)] * 4)
    assert sum(granted) == LIMIT


def test_quota__workers_of_one_server_share_the_count(tmp_path: Path) -> None:
    config = MockConfig(leads=3, keys={"k": ApiKey("k", daily_limit=3)}, state_path=tmp_path / "s.sqlite")
    workers = [create_app(config).test_client() for _ in range(2)]
    statuses = [workers[i % 2].get("/leads", headers={"x-api-key": "k"}).status_code for i in range(5)]
    assert statuses == [200, 200, 200, 429, 429]


def test_quota__resets_on_a_new_utc_day(tmp_path: Path) -> None:
    state = SharedState(tmp_path / "s.sqlite")
    key = ApiKey("k", daily_limit=1)
    today = datetime(2026, 11, 26, 23, 59, tzinfo=UTC)
    assert state.spend(key, today).allowed
    assert not state.spend(key, today).allowed
    assert state.spend(key, next_midnight(today)).allowed


def test_quota__unlimited_key_has_no_headers(tmp_path: Path) -> None:
    quota = SharedState(tmp_path / "s.sqlite").spend(ApiKey("u", daily_limit=None), datetime.now(UTC))
    assert quota.allowed and quota.headers(datetime.now(UTC)) == {}


def test_quota__counters_grow_for_many_keys_and_every_worker_sees_them(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    first, second = SharedState(path), SharedState(path)
    now = datetime.now(UTC)
    keys = [ApiKey(f"key-{i}", daily_limit=2) for i in range(1500)]  # more slots than the file starts with
    assert second.spend(keys[0], now).remaining == 1  # maps the file while it is small
    for key in keys:
        first.spend(key, now)
    assert second.spend(keys[-1], now).remaining == 0  # a slot beyond its first mapping
    assert not second.spend(keys[-1], now).allowed
    used = second.used_today(now)
    assert len(used) == 1500 and used["key-0"] == 2 and used["key-1499"] == 2 and used["key-7"] == 1
    second.reset_quotas()
    assert set(first.used_today(now).values()) == {0}
    assert first.spend(keys[0], now).remaining == 1
