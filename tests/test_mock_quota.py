"""Quotas: exact and unique under threads and processes, on every backend and counting path."""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from rotor_leads.mock_server import ApiKey, MockConfig, create_app
from rotor_leads.mock_server.engine.state import (
    LocalState,
    MemoryState,
    RedisState,
    SharedState,
    StateError,
    StateUnavailable,
    next_midnight,
)
from rotor_leads.mock_server.engine.state import _local as _state
from tests.redis_server import redis_server
from tests.servers import free_port

LIMITS = [40, 300]


@pytest.fixture(params=["c", "python"])
def counting(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Both ways a request is counted: the C accelerator's atomic add, and the file lock."""
    if request.param == "python":
        monkeypatch.setattr(_state, "accelerated_add", None)
    elif _state.accelerated_add is None:
        pytest.fail("the C accelerator is not built: `make install` builds it where a compiler is")
    yield request.param


def _spend_many(root: str, limit: int, count: int, python: bool) -> list[int]:
    if python:
        _state.accelerated_add = None
    state = LocalState(root)
    key = ApiKey("k", daily_limit=limit)
    now = datetime.now(UTC)
    return [q.remaining for q in (state.spend(key, now) for _ in range(count)) if q.allowed]  # type: ignore[misc]


@pytest.mark.parametrize("limit", LIMITS)
def test_quota__exact_under_concurrent_threads(limit: int, counting: str, tmp_path: Path) -> None:
    app = create_app(leads=10, keys={"k": ApiKey("k", daily_limit=limit)}, state_dir=tmp_path / "state")

    def call(_: int) -> str | None:
        response = app.test_client().get("/leads?limit=1", headers={"x-api-key": "k"})
        return response.headers.get("X-RateLimit-Remaining") if response.status_code == 200 else None

    with ThreadPoolExecutor(max_workers=16) as pool:
        remaining = list(pool.map(call, range(2 * limit)))
    allowed = [int(r) for r in remaining if r is not None]
    assert sorted(allowed) == list(range(limit))  # each value once: none repeated, none skipped


@pytest.mark.parametrize("context", ["spawn", "fork"])
def test_quota__exact_and_unique_across_processes(tmp_path: Path, counting: str, context: str) -> None:
    root, limit = str(tmp_path / "state"), 300
    LocalState(root).close()  # create the files before the workers race
    with multiprocessing.get_context(context).Pool(4) as pool:
        granted = pool.starmap(_spend_many, [(root, limit, limit, counting == "python")] * 4)
    remaining = sorted(r for worker in granted for r in worker)
    assert remaining == list(range(limit))


def test_quota__workers_of_one_server_share_the_count(tmp_path: Path) -> None:
    config = MockConfig(leads=3, keys={"k": ApiKey("k", daily_limit=3)}, state_dir=tmp_path / "state")
    workers = [create_app(config).test_client() for _ in range(2)]
    statuses = [workers[i % 2].get("/leads", headers={"x-api-key": "k"}).status_code for i in range(5)]
    assert statuses == [200, 200, 200, 429, 429]


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture(params=["memory", "local", "redis"])
def state(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SharedState]:
    if request.param == "redis":
        url = request.getfixturevalue("redis_url")
        made: SharedState = RedisState(f"{url}?prefix={tmp_path.name}")  # a namespace per test
    elif request.param == "local":
        made = LocalState(tmp_path / "state")
    else:
        made = MemoryState()
    yield made
    made.close()


def _spend_in_redis(url: str, limit: int, count: int) -> list[int]:
    state = RedisState(url)
    key = ApiKey("k", daily_limit=limit)
    now = datetime.now(UTC)
    return [q.remaining for q in (state.spend(key, now) for _ in range(count)) if q.allowed]  # type: ignore[misc]


def test_quota__exact_and_unique_across_processes_sharing_a_redis(redis_url: str) -> None:
    url, limit = f"{redis_url}?prefix=processes", 300
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        granted = pool.starmap(_spend_in_redis, [(url, limit, limit)] * 4)
    assert sorted(r for worker in granted for r in worker) == list(range(limit))


def test_quota__redis_batches_of_an_event_loop_are_exact(redis_url: str) -> None:
    state, key, now = (
        RedisState(f"{redis_url}?prefix=batches"),
        ApiKey("k", daily_limit=100),
        datetime.now(UTC),
    )

    async def many() -> list[Any]:
        quotas = await asyncio.gather(*(state.spend_async(key, now) for _ in range(160)))
        await state.aclose()
        return quotas

    quotas = asyncio.run(many())
    assert sorted(q.remaining for q in quotas if q.allowed) == list(range(100))
    assert sum(not q.allowed for q in quotas) == 60
    state.close()


def test_quota__an_unreachable_redis_is_a_clear_error() -> None:
    with pytest.raises(StateUnavailable, match=r"cannot reach the shared state at redis://127.0.0.1:\d+/0"):
        RedisState(f"redis://127.0.0.1:{free_port()}/0")


def test_quota__a_redis_password_is_never_shown() -> None:
    with pytest.raises(StateUnavailable) as caught:
        RedisState(f"redis://user:s3cret-pass@127.0.0.1:{free_port()}/0")
    assert "s3cret-pass" not in str(caught.value) and "***" in str(caught.value)


def test_quota__resets_on_a_new_utc_day(state: SharedState) -> None:
    key = ApiKey("k", daily_limit=1)
    today = datetime(2026, 11, 26, 23, 59, tzinfo=UTC)
    assert state.spend(key, today).allowed
    assert not state.spend(key, today).allowed
    assert state.spend(key, next_midnight(today)).allowed


def test_quota__reset_clears_every_count(state: SharedState) -> None:
    key, now = ApiKey("k", daily_limit=2), datetime.now(UTC)
    assert [state.spend(key, now).allowed for _ in range(3)] == [True, True, False]
    state.reset_quotas()
    assert state.spend(key, now).remaining == 1
    assert state.used_today([key], now) == {"k": 1}


def test_quota__refused_requests_leave_the_count_at_the_limit(state: SharedState) -> None:
    key, now = ApiKey("k", daily_limit=2), datetime.now(UTC)
    for _ in range(5):
        state.spend(key, now)
    assert state.used_today([key], now) == {"k": 2}


def test_quota__unlimited_key_has_no_headers(state: SharedState) -> None:
    quota = state.spend(ApiKey("u", daily_limit=None), datetime.now(UTC))
    assert quota.allowed and quota.headers(datetime.now(UTC)) == {}


def test_quota__settings_update_is_atomic_and_counts_as_a_change(state: SharedState) -> None:
    state.put("epoch", {"data": 0, "scenario": 429})
    before = state.version
    assert state.update("epoch", lambda e: {**e, "data": e["data"] + 1}) == {"data": 1, "scenario": 429}
    assert state.version != before and state.get("epoch") == {"data": 1, "scenario": 429}
    assert not state.put_default("epoch", {"data": 9, "scenario": None})


def test_state__a_change_of_several_settings_is_all_or_none(state: SharedState) -> None:
    state.put("fixtures", ["old"])
    state.put("epoch", {"data": 4, "scenario": None})

    def broken(epoch: object) -> object:
        raise RuntimeError("the second change fails")

    with pytest.raises(RuntimeError):
        state.update_many({"fixtures": lambda _: ["new"], "epoch": broken})
    assert state.get("fixtures") == ["old"] and state.get("epoch") == {"data": 4, "scenario": None}
    before = state.version
    changed = state.update_many(
        {"fixtures": lambda _: ["new"], "epoch": lambda e: {**e, "data": e["data"] + 1}}
    )
    assert changed == {"fixtures": ["new"], "epoch": {"data": 5, "scenario": None}}
    assert state.get("fixtures") == ["new"] and state.version != before


def test_quota__counts_outlive_the_process_in_a_state_directory(tmp_path: Path) -> None:
    key, now = ApiKey("k", daily_limit=10), datetime.now(UTC)
    first = LocalState(tmp_path / "state")
    for _ in range(4):
        first.spend(key, now)
    first.close()  # as a restart of the server does
    assert LocalState(tmp_path / "state").spend(key, now).remaining == 5


def test_quota__counters_grow_for_many_keys_and_every_process_sees_them(tmp_path: Path) -> None:
    first, second = LocalState(tmp_path / "state"), LocalState(tmp_path / "state")
    now = datetime.now(UTC)
    keys = [ApiKey(f"key-{i}", daily_limit=2) for i in range(1500)]  # more words than the file starts with
    assert second.spend(keys[0], now).remaining == 1  # maps the file while it is small
    for key in keys:
        first.spend(key, now)
    assert second.spend(keys[-1], now).remaining == 0  # sees a word beyond its first mapping
    assert (tmp_path / "state" / "counts").stat().st_blocks * 512 >= (8 + 1500) * 8  # written, not sparse


def test_quota__keys_are_not_stored_as_they_are(tmp_path: Path) -> None:
    state = LocalState(tmp_path / "state")
    state.spend(ApiKey("secret-key-0123456789", daily_limit=5), datetime.now(UTC))
    state.close()
    for path in (tmp_path / "state").iterdir():
        assert b"secret-key-0123456789" not in path.read_bytes()


def test_quota__a_state_directory_that_cannot_be_made_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StateError, match=r"cannot keep the mock's state in .*file/state"):
        LocalState(blocker / "state")


def test_quota__the_c_accelerator_checks_its_arguments() -> None:
    from rotor_leads.mock_server.engine.state import _tally

    words = memoryview(bytearray(16)).cast("Q")
    stamp = 5 << _state.COUNT_BITS
    assert _tally.add(words, 1, stamp, 1) == 1
    assert _tally.add(words, 1, stamp, 0) == 1
    assert _tally.add(words, 1, 6 << _state.COUNT_BITS, 0) == 0  # another day counts 0
    with pytest.raises(IndexError):
        _tally.add(words, 2, stamp, 1)
    with pytest.raises(ValueError, match="n must be 0 or more"):
        _tally.add(words, 1, stamp, -1)
    with pytest.raises(ValueError, match="no count bits"):
        _tally.add(words, 1, stamp | 1, 1)
    with pytest.raises(BufferError):
        _tally.add(bytes(16), 0, stamp, 1)  # not writable
