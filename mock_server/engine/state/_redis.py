"""State shared by mock instances on several hosts, in Redis (``--shared-state redis://…``):
the case of a team's staging fake, several instances behind one load balancer.

* settings in one hash, changed in ``WATCH``/``MULTI`` transactions and announced on a channel;
  each instance counts the announcements in a thread, so that asking "did anything change?"
  on every request costs no round trip;
* quota counts in one key per API key, day and quota reset (``INCRBY`` in a script, which also
  reads the reset number, atomically): every request of every instance gets a count of its
  own, so a key with limit L gets exactly L successes across all of them;
* on the RSGI front door, the counts of concurrent requests go to Redis together, one script
  call per batch (each request still gets its own count), so that a limited key does not pay
  a round trip per request.

API keys are stored as hashes, never as they are. Every key in Redis starts with the prefix
(``?prefix=…`` in the URL; default ``rotor-mock``), so that several mocks can share one Redis.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections.abc import Callable
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit, urlunsplit

import orjson
import redis
import redis.asyncio

from rotor_leads.mock_server.engine._keys import ApiKey
from rotor_leads.mock_server.engine.state._base import Quota, SharedState, StateUnavailable, shown

DAY_SECONDS: Final = 86_400
_COUNT: Final = """
local resets = redis.call('GET', KEYS[1]) or '0'
local out = {}
for i = 3, #ARGV, 2 do
  local key = ARGV[1] .. ':count:' .. resets .. ':' .. ARGV[2] .. ':' .. ARGV[i]
  local n = tonumber(ARGV[i + 1])
  local count = redis.call('INCRBY', key, n)
  if count == n then redis.call('EXPIRE', key, 2 * 86400) end
  out[#out + 1] = count
end
return out
"""


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:32]


class RedisState(SharedState):
    """The state in the Redis at ``url`` (``redis://HOST:PORT/DB``, ``rediss://`` for TLS).

    Raises :class:`StateUnavailable` naming the URL (without its password) if Redis cannot be
    reached, at start and later.
    """

    def __init__(self, url: str, *, timeout: float = 5.0) -> None:
        self.url = url
        query = parse_qs(urlsplit(url).query)
        self.prefix = (query.pop("prefix", ["rotor-mock"]))[0]
        clean = urlunsplit(urlsplit(url)._replace(query=""))
        self._options: dict[str, Any] = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
        self._clean_url = clean
        try:
            self._redis = redis.Redis.from_url(clean, **self._options)
        except ValueError as exc:
            raise StateUnavailable(f"cannot reach the shared state at {shown(url)}: {exc}") from None
        try:
            self._redis.ping()
        except redis.RedisError as exc:
            self._redis.close()
            raise StateUnavailable(f"cannot reach the shared state at {shown(url)}: {exc}") from None
        self._count = self._redis.register_script(_COUNT)
        self._settings = f"{self.prefix}:settings"
        self._resets = f"{self.prefix}:resets"
        self._channel = f"{self.prefix}:changes"
        self._version = 0
        self._closing = threading.Event()
        self._listener = threading.Thread(target=self._listen, name="rotor-mock-redis-changes", daemon=True)
        self._listener.start()
        self._batchers: dict[asyncio.AbstractEventLoop, _Batcher] = {}

    def _call(self, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except redis.RedisError as exc:
            raise StateUnavailable(f"cannot reach the shared state at {shown(self.url)}: {exc}") from None

    # -- settings ---------------------------------------------------------------------------

    def _listen(self) -> None:
        """Count the changes other instances announce. After a lost connection, count one more:
        a change may have been missed, and reading the settings again costs little."""
        while not self._closing.is_set():
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(self._channel)
                self._version += 1
                while not self._closing.is_set():
                    if pubsub.get_message(timeout=0.5) is not None:
                        self._version += 1
            except (redis.RedisError, OSError, ValueError):
                self._version += 1
                self._closing.wait(0.5)
            finally:
                pubsub.close()

    def _changed(self, pipe: Any) -> None:
        pipe.publish(self._channel, b"1")
        self._version += 1  # this instance sees its own change at once

    @property
    def version(self) -> int:
        return self._version

    def get(self, name: str, default: Any = None) -> Any:
        raw = self._call(lambda: self._redis.hget(self._settings, name))
        return default if raw is None else orjson.loads(raw)

    def put(self, name: str, value: Any) -> None:
        def write() -> None:
            with self._redis.pipeline() as pipe:
                pipe.hset(self._settings, name, orjson.dumps(value))
                self._changed(pipe)
                pipe.execute()

        self._call(write)

    def put_default(self, name: str, value: Any) -> bool:
        added = bool(self._call(lambda: self._redis.hsetnx(self._settings, name, orjson.dumps(value))))
        if added:
            self._call(lambda: self._redis.publish(self._channel, b"1"))
            self._version += 1
        return added

    def update(self, name: str, change: Callable[[Any], Any]) -> Any:
        def transact() -> Any:
            with self._redis.pipeline() as pipe:
                while True:
                    try:
                        pipe.watch(self._settings)  # type: ignore[no-untyped-call]  # no change in between
                        raw = pipe.hget(self._settings, name)
                        value = change(None if raw is None else orjson.loads(raw))
                        pipe.multi()
                        pipe.hset(self._settings, name, orjson.dumps(value))
                        self._changed(pipe)
                        pipe.execute()
                        return value
                    except redis.WatchError:
                        continue

        return self._call(transact)

    # -- counts -----------------------------------------------------------------------------

    def add(self, key: str, day: int, n: int = 1) -> int:
        counts = self._call(
            lambda: self._count(keys=[self._resets], args=[self.prefix, day, _key_hash(key), n])
        )
        return int(counts[0])

    def reset_quotas(self) -> None:
        self._call(lambda: self._redis.incr(self._resets))

    async def spend_async(self, key: ApiKey, now: Any) -> Quota:
        """:meth:`spend`, for an event loop: the counts of concurrent requests go together."""
        day = now.toordinal()
        limit = key.daily_limit
        if limit is None or key.exhausted or limit == 0:
            return self.spend(key, now)
        loop = asyncio.get_running_loop()
        batcher = self._batchers.get(loop)
        if batcher is None:
            batcher = self._batchers[loop] = _Batcher(self)
        used = await batcher.add(_key_hash(key.key), day)
        return Quota(True, limit, limit - used, day) if used <= limit else Quota(False, limit, 0, day)

    async def aclose(self) -> None:
        """Close this event loop's connections (before the loop ends)."""
        batcher = self._batchers.pop(asyncio.get_running_loop(), None)
        if batcher is not None:
            await batcher.close()

    def close(self) -> None:
        self._closing.set()
        self._listener.join(2)
        self._redis.close()


class _Batcher:
    """Counts requests of one event loop in batches: while one batch is on its way to Redis,
    the next gathers. It talks over one connection of redis-py's own (no pool, no client
    object: a round trip through those cost three times as much CPU here)."""

    def __init__(self, state: RedisState) -> None:
        self.state = state
        self.pending: list[tuple[str, int, asyncio.Future[int]]] = []
        self.running = False
        self.pool = redis.asyncio.ConnectionPool.from_url(state._clean_url, **state._options)
        self.conn: Any = None
        self.sha: str | None = None

    async def add(self, key_hash: str, day: int) -> int:
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.pending.append((key_hash, day, future))
        if not self.running:
            self.running = True
            asyncio.get_running_loop().create_task(self._flush())
        return await future

    async def _count(self, args: list[Any]) -> list[int]:
        """One script call over the batcher's connection (made again after an error)."""
        if self.conn is None:
            conn = self.pool.make_connection()  # type: ignore[no-untyped-call]
            await conn.connect()
            self.conn, self.sha = conn, None
        if self.sha is None:
            await self.conn.send_command("SCRIPT", "LOAD", _COUNT)
            self.sha = (await self.conn.read_response()).decode()
        try:
            await self.conn.send_command("EVALSHA", self.sha, 1, self.state._resets, *args)
            counts: list[int] = await self.conn.read_response()
        except redis.ResponseError as exc:
            if "NOSCRIPT" not in str(exc):  # Redis restarted and forgot the script: load it again
                raise
            self.sha = None
            return await self._count(args)
        return counts

    async def _flush(self) -> None:
        try:
            await asyncio.sleep(0)  # let the requests already on their way join this batch
            while self.pending:
                batch, self.pending = self.pending, []
                for day in {d for _, d, _ in batch}:
                    items = [(k, f) for k, d, f in batch if d == day]
                    args: list[Any] = [self.state.prefix, day]
                    for key_hash, _ in items:
                        args += [key_hash, 1]
                    try:
                        counts = await self._count(args)
                    except Exception as exc:  # every waiting request gets an answer, whatever broke
                        await self._drop()
                        error = StateUnavailable(
                            f"cannot reach the shared state at {shown(self.state.url)}: {exc}"
                        )
                        for _, future in items:
                            if not future.done():
                                future.set_exception(error)
                        continue
                    for (_, future), count in zip(items, counts, strict=True):
                        if not future.done():
                            future.set_result(int(count))
        finally:
            self.running = False

    async def _drop(self) -> None:
        if self.conn is not None:
            conn, self.conn = self.conn, None
            try:
                await conn.disconnect()
            except Exception:  # the connection is being thrown away
                pass

    async def close(self) -> None:
        await self._drop()
        await self.pool.disconnect()


def wait_for(url: str, seconds: float) -> None:
    """Wait until the Redis at ``url`` answers (for tests and start-up)."""
    deadline = time.monotonic() + seconds
    client = redis.Redis.from_url(urlunsplit(urlsplit(url)._replace(query="")), socket_connect_timeout=1)
    while True:
        try:
            client.ping()
            return
        except redis.RedisError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
