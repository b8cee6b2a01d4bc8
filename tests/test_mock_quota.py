from __future__ import annotations

import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mock_server import ApiKey, MockConfig, _tally, create_app
from mock_server._state import _SHARDS, SharedState, next_midnight

# Below the last _SHARDS requests every request is counted under the shared lock; above, the
# first ones are counted without it.
LIMITS = [40, 300]


def _spend_many(state_path: str, limit: int, count: int) -> int:
    state = SharedState(state_path)
    key = ApiKey("k", daily_limit=limit)
    now = datetime.now(UTC)
    return sum(state.spend(key, now).allowed for _ in range(count))


@pytest.mark.parametrize("limit", LIMITS)
def test_quota__exact_under_concurrent_threads(limit: int) -> None:
    app = create_app(leads=10, keys={"k": ApiKey("k", daily_limit=limit)})

    def call(_: int) -> int:
        return app.test_client().get("/leads?limit=1", headers={"x-api-key": "k"}).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(call, range(2 * limit)))
    assert statuses.count(200) == limit
    assert statuses.count(429) == limit


@pytest.mark.parametrize("limit", LIMITS)
def test_quota__exact_across_processes(tmp_path: Path, limit: int) -> None:
    path = str(tmp_path / "state.sqlite")
    SharedState(path)  # create the tables before the workers race
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(4) as pool:
        granted = pool.starmap(_spend_many, [(path, limit, limit)] * 4)
    assert sum(granted) == limit


_INHERITED: list[SharedState] = []


def _spend_inherited(count: int) -> int:
    key, now = ApiKey("k", daily_limit=10**6), datetime.now(UTC)
    return sum(_INHERITED[0].spend(key, now).allowed for _ in range(count))


def test_quota__forked_children_count_apart_from_their_parent(tmp_path: Path) -> None:
    state = SharedState(tmp_path / "state.sqlite")
    assert state.spend(ApiKey("k", daily_limit=10**6), datetime.now(UTC)).allowed
    _INHERITED[:] = [state]
    try:
        with multiprocessing.get_context("fork").Pool(2) as pool:  # children that inherit `state`
            granted = pool.map(_spend_inherited, [3000, 3000])
    finally:
        _INHERITED.clear()
    assert granted == [3000, 3000]
    assert state.used_today(datetime.now(UTC)) == {"k": 6001}  # none lost to a counter they shared


def test_quota__a_closed_worker_leaves_its_count_and_its_counter_to_the_next(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    key, now = ApiKey("k", daily_limit=1000), datetime.now(UTC)
    first = SharedState(path)
    for _ in range(5):
        first.spend(key, now)
    del first  # its process ends: its counter is free
    second, third = SharedState(path), SharedState(path)
    shards = sorted(p.name for p in tmp_path.glob("*.shard*"))
    assert shards == ["s.sqlite.counts.shard0", "s.sqlite.counts.shard1"]  # the first is reused
    assert second.spend(key, now).remaining == 1000 - 6
    assert third.spend(key, now).remaining == 1000 - 7
    assert third.used_today(now) == {"k": 7}


def test_quota__too_many_processes_on_one_state_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    states = [SharedState(path) for _ in range(_SHARDS)]
    with pytest.raises(RuntimeError, match=f"{_SHARDS} processes already count quotas .* use fewer workers"):
        SharedState(path)
    assert len(states) == _SHARDS


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


def test_tally_add__counts_the_words_of_one_stamp_and_checks_its_arguments() -> None:
    words = memoryview(bytearray(8 * 4)).cast("Q")
    stamp, yesterday = 5 << _tally.COUNT_BITS, 4 << _tally.COUNT_BITS
    words[1], words[2] = yesterday + 7, stamp + 3
    assert _tally.add(words, 0, 4, 1, stamp, 1) == 1 + 3  # yesterday's count restarts at 0
    assert words[1] == stamp + 1
    assert _tally.add(words, 0, 4, 1, stamp, -1) == 3
    with pytest.raises(IndexError, match="outside the words"):
        _tally.add(words, 2, 4, 2, stamp, 1)
    with pytest.raises(BufferError):
        _tally.add(bytes(32), 0, 4, 1, stamp, 1)
