"""State shared by mock instances on several hosts, in Redis (``--shared-state redis://…``):
the case of a team's staging fake, several instances behind one load balancer.

* settings in one hash, changed in ``WATCH``/``MULTI`` transactions (a data set and its epoch in
  one) and announced on a channel; each instance counts the announcements in a thread, so that
  asking "did anything change?" on every request costs no round trip;
* quota counts in one key per API key, day and quota reset (``INCRBY`` in a script, which also
  reads the reset number, atomically): every request of every instance gets a count of its
  own, so a key with limit L gets exactly L successes across all of them;
* on the RSGI front door, the counts of concurrent requests go to Redis together, one script
  call per batch (each request still gets its own count), so that a limited key does not pay
  a round trip per request;
* a batch of counts carries an id, under which the script keeps its answer for ten minutes:
  sent again (on a fresh connection, once, when Redis closed the old one: it restarted), it is
  counted once. A batch whose answer did not come within the timeout is answered 503 and
  cancelled when Redis answers again (the script may have run meanwhile): a request answered
  503 counts nothing;
* the settings hold a mark, set once; finding it gone (Redis restarted without persistence, or
  was flushed) is said once in the log and in ``/__admin/health``: the day's counts start again
  from zero and every instance goes back to its start data, as the settings went.

API keys are stored as hashes, never as they are. Every key in Redis starts with the prefix
(``?prefix=…`` in the URL; default ``rotor-mock``), so that several mocks can share one Redis.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

import orjson
import redis
import redis.asyncio

from rotor_leads.mock_server.engine._keys import ApiKey
from rotor_leads.mock_server.engine.state._base import (
    Quota,
    SharedState,
    StateUnavailable,
    parse_shared_state_url,
    shown,
)

DAY_SECONDS: Final = 86_400
#: How long a batch's answer is kept under its id (to answer it again, or to cancel it).
BATCH_SECONDS: Final = 600
#: The settings field whose loss says Redis forgot what it held.
MARK: Final = "born"
_log = logging.getLogger("mock_server")

#: KEYS: the resets counter, the settings, the batch ('' for a read). ARGV: prefix, day, the
#: mark's field, seconds to keep the batch, then (key hash, n) pairs. Returns the mark, then
#: each key's count after it; or {'cancelled'} for a batch cancelled before it ran.
_COUNT: Final = """
local batch = KEYS[3]
if batch ~= '' then
  local done = redis.call('GET', batch)
  if done == 'cancelled' then return {'cancelled'} end
  if done then return cjson.decode(done).out end
end
local mark = redis.call('HGET', KEYS[2], ARGV[3]) or ''
local resets = redis.call('GET', KEYS[1]) or '0'
local out, keys, amounts = {mark}, {}, {}
for i = 5, #ARGV, 2 do
  local key = ARGV[1] .. ':count:' .. resets .. ':' .. ARGV[2] .. ':' .. ARGV[i]
  local n = tonumber(ARGV[i + 1])
  local count = redis.call('INCRBY', key, n)
  if count == n then redis.call('EXPIRE', key, 2 * 86400) end
  out[#out + 1] = count
  keys[#keys + 1] = key
  amounts[#amounts + 1] = n
end
if batch ~= '' then
  redis.call('SET', batch, cjson.encode({out = out, keys = keys, n = amounts}), 'EX', ARGV[4])
end
return out
"""
#: KEYS: the batch. Takes back what the batch counted, if it ran, and makes sure it never will.
_CANCEL: Final = """
local done = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], 'cancelled', 'EX', ARGV[1])
if done and done ~= 'cancelled' then
  local d = cjson.decode(done)
  for i, key in ipairs(d.keys) do redis.call('DECRBY', key, d.n[i]) end
  return 1
end
return 0
"""


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def _text(value: Any) -> str:
    """A reply's text ("" for none): redis-py answers bytes here."""
    return value.decode() if isinstance(value, bytes) else str(value or "")


def _unavailable(url: str, error: BaseException) -> StateUnavailable:
    return StateUnavailable(f"cannot reach the shared state at {shown(url)}: {error}")


class RedisState(SharedState):
    """The state in the Redis at ``url`` (``redis://HOST:PORT/DB``, ``rediss://`` for TLS,
    ``unix:///PATH?db=DB``; ``?prefix=``, ``?timeout=`` seconds per command).

    Raises :class:`StateUnavailable` naming the URL (without its password) if Redis cannot be
    reached, at start and later; ``ValueError`` for a URL that is not one.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        parsed = parse_shared_state_url(url)
        self.prefix = parsed.prefix
        self._clean_url = parsed.client_url
        self._options: dict[str, Any] = {
            "socket_timeout": parsed.timeout,
            "socket_connect_timeout": parsed.timeout,
        }
        try:
            self._redis = redis.Redis.from_url(parsed.client_url, **self._options)
        except ValueError as exc:
            raise _unavailable(url, exc) from None
        self._settings = f"{self.prefix}:settings"
        self._resets = f"{self.prefix}:resets"
        self._channel = f"{self.prefix}:changes"
        #: This instance's own channel, on which close() wakes its listener (see close()).
        self._wake = f"{self.prefix}:wake:{uuid.uuid4().hex}"
        self._count = self._redis.register_script(_COUNT)
        self._cancel = self._redis.register_script(_CANCEL)
        self._version = 0
        self._mark_lock = threading.Lock()
        self._mark = ""
        self.forgotten: list[str] = []  # when this process found Redis had forgotten its state
        #: Batches answered 503: cancelled when Redis answers again.
        self._unsettled: list[str] = []
        self._unsettled_lock = threading.Lock()
        try:
            self._adopt_mark()
        except redis.RedisError as exc:
            self._redis.close()
            raise _unavailable(url, exc) from None
        self._closing = threading.Event()
        self._listener = threading.Thread(target=self._listen, name="rotor-mock-redis-changes", daemon=True)
        self._listener.start()
        self._batchers: dict[asyncio.AbstractEventLoop, _Batcher] = {}

    def _call(self, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except redis.RedisError as exc:
            raise _unavailable(self.url, exc) from None

    # -- forgetting ---------------------------------------------------------------------------

    def _adopt_mark(self) -> None:
        """The state's mark, set now if it has none."""
        self._redis.hsetnx(self._settings, MARK, uuid.uuid4().hex)
        self._mark = _text(self._redis.hget(self._settings, MARK))

    def _seen(self, mark: str) -> None:
        """The mark a command just read: another than this process knew means Redis forgot."""
        if mark == self._mark:
            return
        with self._mark_lock:
            if mark != self._mark:
                self._adopt_mark()
                self.forgotten.append(datetime.now(UTC).isoformat(timespec="seconds"))
                self._version += 1  # the settings went with it: read them again
                _log.warning(
                    "the shared state at %s forgot what it held (a Redis restart without persistence,"
                    " or a flush): today's quota counts start again from zero, and the data set and"
                    " scenario are back to their start",
                    shown(self.url),
                )

    def health(self) -> dict[str, Any]:
        try:
            self._redis.ping()
            status = "up"
        except redis.RedisError:
            status = "down"
        return {"url": shown(self.url), "status": status, "forgotten": list(self.forgotten)}

    # -- settings ---------------------------------------------------------------------------

    def _listen(self) -> None:
        """Count the changes other instances announce, and look for the mark twice a second.
        After a lost connection, count one more: a change may have been missed, and reading the
        settings again costs little."""
        while not self._closing.is_set():
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.subscribe(self._channel, self._wake)
                self._version += 1
                while not self._closing.is_set():
                    message = pubsub.get_message(timeout=0.5)
                    if message is not None and _text(message["channel"]) == self._channel:
                        self._version += 1
                    self._seen(_text(self._redis.hget(self._settings, MARK)))
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
        self.update(name, lambda _: value)

    def put_default(self, name: str, value: Any) -> bool:
        added = bool(self._call(lambda: self._redis.hsetnx(self._settings, name, orjson.dumps(value))))
        if added:
            self._call(lambda: self._redis.publish(self._channel, b"1"))
            self._version += 1
        return added

    def update_many(self, changes: Mapping[str, Callable[[Any], Any]]) -> dict[str, Any]:
        names = list(changes)

        def transact() -> dict[str, Any]:
            with self._redis.pipeline() as pipe:
                while True:
                    try:
                        pipe.watch(self._settings)  # type: ignore[no-untyped-call]  # no change in between
                        raws = pipe.hmget(self._settings, names)
                        values = {
                            name: changes[name](None if raw is None else orjson.loads(raw))
                            for name, raw in zip(names, raws, strict=True)
                        }
                        pipe.multi()
                        pipe.hset(self._settings, mapping={n: orjson.dumps(v) for n, v in values.items()})
                        self._changed(pipe)
                        pipe.execute()
                        return values
                    except redis.WatchError:
                        continue

        values: dict[str, Any] = self._call(transact)
        return values

    # -- counts -----------------------------------------------------------------------------

    def _count_args(self, day: int, pairs: list[tuple[str, int]]) -> list[Any]:
        args: list[Any] = [self.prefix, day, MARK, BATCH_SECONDS]
        for key_hash, n in pairs:
            args += [key_hash, n]
        return args

    def new_batch(self) -> str:
        return f"{self.prefix}:batch:{uuid.uuid4().hex}"

    def _answered(self, out: list[Any]) -> list[int]:
        if out and out[0] == b"cancelled":
            raise StateUnavailable(f"the shared state at {shown(self.url)} cancelled a late count")
        self._seen(_text(out[0]))
        return [int(count) for count in out[1:]]

    def add(self, key: str, day: int, n: int = 1) -> int:
        args = self._count_args(day, [(_key_hash(key), n)])
        if n == 0:  # a read: nothing to take back
            return self._answered(
                self._call(lambda: self._count(keys=[self._resets, self._settings, ""], args=args))
            )[0]
        self.settle()
        batch = self.new_batch()
        keys = [self._resets, self._settings, batch]
        try:
            try:
                out = self._count(keys=keys, args=args)
            except redis.ConnectionError:  # Redis closed the connection (it restarted): once more
                out = self._count(keys=keys, args=args)
        except redis.RedisError as exc:
            self.unsettled(batch)
            raise _unavailable(self.url, exc) from None
        return self._answered(out)[0]

    def unsettled(self, batch: str) -> None:
        """A batch answered 503, to cancel when Redis answers again."""
        with self._unsettled_lock:
            self._unsettled.append(batch)

    def settle(self) -> None:
        """Cancel the batches answered 503 (what they counted, if they ran, is taken back)."""
        while self._unsettled:
            with self._unsettled_lock:
                if not self._unsettled:
                    return
                batch = self._unsettled[0]
            try:
                self._cancel(keys=[batch], args=[BATCH_SECONDS])
            except redis.RedisError:
                return  # still unreachable: the next count tries again
            with self._unsettled_lock:
                if batch in self._unsettled:
                    self._unsettled.remove(batch)

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
        """Stops the listener at once: it waits up to half a second for a message, and a mock's
        start (which opens the state to check it) and each worker's stop waited for that. The
        wake-up goes on a connection of its own with a 0.5 s timeout: a stalled Redis holds the
        close at most that much longer than the listener's join, which waits up to 2 s."""
        self._closing.set()
        try:
            waker = redis.Redis.from_url(self._clean_url, socket_timeout=0.5, socket_connect_timeout=0.5)
            try:
                waker.publish(self._wake, b"1")
            finally:
                waker.close()
        except (redis.RedisError, OSError, ValueError):
            pass  # the listener stops after its wait, as it would have
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
        self.shas: dict[str, str] = {}

    async def add(self, key_hash: str, day: int) -> int:
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.pending.append((key_hash, day, future))
        if not self.running:
            self.running = True
            asyncio.get_running_loop().create_task(self._flush())
        return await future

    async def _script(self, source: str, keys: list[str], args: list[Any]) -> Any:
        """One script call over the batcher's connection (made again after an error)."""
        if self.conn is None:
            conn = self.pool.make_connection()  # type: ignore[no-untyped-call]
            await conn.connect()
            self.conn, self.shas = conn, {}
        if source not in self.shas:
            await self.conn.send_command("SCRIPT", "LOAD", source)
            self.shas[source] = (await self.conn.read_response()).decode()
        try:
            await self.conn.send_command("EVALSHA", self.shas[source], len(keys), *keys, *args)
            return await self.conn.read_response()
        except redis.ResponseError as exc:
            if "NOSCRIPT" not in str(exc):  # Redis restarted and forgot the script: load it again
                raise
            del self.shas[source]
            return await self._script(source, keys, args)

    async def _count(self, batch: str, args: list[Any]) -> list[int]:
        keys = [self.state._resets, self.state._settings, batch]
        try:
            out = await self._script(_COUNT, keys, args)
        except redis.TimeoutError:
            raise
        except (redis.ConnectionError, OSError):
            # Redis closed the connection (it restarted): the same batch once more, on a fresh
            # one; counted once, whether or not the first got through.
            await self._drop()
            out = await self._script(_COUNT, keys, args)
        return self.state._answered(out)

    async def _settle(self) -> None:
        """Cancel the batches answered 503, before counting more (see :meth:`RedisState.settle`)."""
        state = self.state
        while state._unsettled:
            batch = state._unsettled[0]
            try:
                await self._script(_CANCEL, [batch], [BATCH_SECONDS])
            except Exception:  # still unreachable: the next batch tries again
                await self._drop()
                return
            with state._unsettled_lock:
                if batch in state._unsettled:
                    state._unsettled.remove(batch)

    async def _flush(self) -> None:
        try:
            await asyncio.sleep(0)  # let the requests already on their way join this batch
            while self.pending:
                batch, self.pending = self.pending, []
                await self._settle()
                for day in {d for _, d, _ in batch}:
                    items = [(k, f) for k, d, f in batch if d == day]
                    batch_id = self.state.new_batch()
                    try:
                        counts = await self._count(
                            batch_id, self.state._count_args(day, [(k, 1) for k, _ in items])
                        )
                    except Exception as exc:  # every waiting request gets an answer, whatever broke
                        await self._drop()
                        self.state.unsettled(batch_id)  # a 503 counts nothing: taken back later
                        error = _unavailable(self.state.url, exc)
                        for _, future in items:
                            if not future.done():
                                future.set_exception(error)
                        continue
                    for (_, future), count in zip(items, counts, strict=True):
                        if not future.done():
                            future.set_result(count)
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
    client = redis.Redis.from_url(parse_shared_state_url(url).client_url, socket_connect_timeout=1)
    while True:
        try:
            client.ping()
            return
        except redis.RedisError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
