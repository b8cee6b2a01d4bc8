"""The state the workers of one mock share, as one small interface (:class:`SharedState`),
and the quota rules on top of it.

Counting is one operation per request: add one to the key's count of the day and read the
count after it. Each request gets a count of its own, so a key with limit L gets exactly L
successes, ``X-RateLimit-Remaining`` never repeats, and a worker that dies loses nothing.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any, Final, NamedTuple
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from rotor_leads.mock_server.engine._keys import ApiKey


class Quota(NamedTuple):
    """The outcome of one request against a key's daily limit (``day``: a UTC date ordinal)."""

    allowed: bool
    limit: int | None
    remaining: int | None
    day: int

    @property
    def reset_at(self) -> datetime:
        """When the day's count starts afresh: the next UTC midnight."""
        return _midnight_after(self.day)

    def headers(self, now: datetime, *, retry_after: int | None = None) -> dict[str, str]:
        """``X-RateLimit-*`` (and ``Retry-After`` when refused): the mock's choice of headers.

        ``Retry-After`` is ``retry_after`` seconds, or those until the quota resets if that is
        sooner (``None``: always until it resets, as a daily quota really is).
        """
        if self.limit is None:
            return {}
        out = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": _reset_header(self.day),
        }
        if not self.allowed:
            until_reset = max(0, int((self.reset_at - now).total_seconds()) + 1)
            out["Retry-After"] = str(until_reset if retry_after is None else min(retry_after, until_reset))
        return out


@functools.lru_cache(maxsize=4)
def _midnight_after(day: int) -> datetime:
    return datetime.combine(date.fromordinal(day + 1), datetime.min.time(), tzinfo=UTC)


@functools.lru_cache(maxsize=4)
def _reset_header(day: int) -> str:
    return str(int(_midnight_after(day).timestamp()))


def next_midnight(now: datetime) -> datetime:
    return _midnight_after(now.toordinal())


class StateError(RuntimeError):
    """The shared state cannot be created or written (no space, no permission): the message
    names the place and the reason."""


class StateUnavailable(StateError):
    """The shared state cannot be reached (Redis is down or refuses the connection)."""


def shown(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


#: Seconds a Redis command may take before the request waiting on it gets a 503 (``?timeout=``).
DEFAULT_TIMEOUT: Final = 5.0


class SharedStateUrl(NamedTuple):
    """A ``--shared-state`` URL read: what the Redis client is given, and the mock's own options."""

    client_url: str  # the URL without the mock's options (redis-py reads the rest)
    prefix: str  # every key of this mock starts with it (``?prefix=``; several mocks, one Redis)
    timeout: float  # seconds per command (``?timeout=``)


def parse_shared_state_url(url: str) -> SharedStateUrl:
    """Read a ``redis://HOST:PORT/DB``, ``rediss://…`` or ``unix:///PATH?db=DB`` URL, with the
    mock's own ``prefix`` and ``timeout`` options. Raises ``ValueError`` saying what is wrong."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss", "unix"):
        raise ValueError("give a Redis URL: redis://HOST:PORT/DB, rediss://… or unix:///PATH?db=DB")
    database = parts.path.strip("/") if parts.scheme != "unix" else ""
    if database and not database.isdigit():
        raise ValueError(f"the database is a number (redis://HOST:PORT/0), not {database!r}")
    query = parse_qsl(parts.query, keep_blank_values=True)
    options = dict(query)
    prefix = options.get("prefix", "rotor-mock")
    if not prefix or not prefix.isprintable():
        raise ValueError("?prefix= takes printable characters")
    try:
        timeout = float(options.get("timeout", DEFAULT_TIMEOUT))
    except ValueError:
        timeout = -1.0
    if not 0 < timeout <= 60:
        raise ValueError("?timeout= takes seconds, more than 0 and at most 60")
    rest = [(name, value) for name, value in query if name not in ("prefix", "timeout")]
    # Not urlunsplit: it turns unix:///PATH into unix:/PATH, which no client reads.
    client_url = url.split("?", 1)[0] + (f"?{urlencode(rest)}" if rest else "")
    return SharedStateUrl(client_url, prefix, timeout)


class SharedState(ABC):
    """What the workers of one mock share. Settings are JSON values by name; counts are per
    key and UTC day. Subclasses implement the storage; the quota rules are here, once."""

    # -- settings ---------------------------------------------------------------------------

    @property
    @abstractmethod
    def version(self) -> int:
        """A number that changes whenever a setting does (after the change can be read):
        cheap enough to ask on every request, where :meth:`get` may be a query."""

    @abstractmethod
    def get(self, name: str, default: Any = None) -> Any: ...

    @abstractmethod
    def put(self, name: str, value: Any) -> None: ...

    @abstractmethod
    def put_default(self, name: str, value: Any) -> bool:
        """Set ``name`` unless it is set (another worker was first); whether this call set it."""

    @abstractmethod
    def update_many(self, changes: Mapping[str, Callable[[Any], Any]]) -> dict[str, Any]:
        """Replace each named value with its ``change(value)``, all in one step (all or none, no
        other worker's change in between: a data set and its epoch move together); returns
        the new values."""

    def update(self, name: str, change: Callable[[Any], Any]) -> Any:
        """Replace ``name``'s value with ``change(value)`` atomically; returns the new value."""
        return self.update_many({name: change})[name]

    def health(self) -> dict[str, Any] | None:
        """What a state shared beyond this host says of itself for ``/__admin/health`` (whether
        it can be reached, when it forgot what it held); ``None`` for one kept here."""
        return None

    # -- counts -----------------------------------------------------------------------------

    @abstractmethod
    def add(self, key: str, day: int, n: int = 1) -> int:
        """Add ``n`` to ``key``'s count of ``day`` (a UTC date ordinal); the count after it."""

    @abstractmethod
    def reset_quotas(self) -> None:
        """Every count back to 0."""

    def close(self) -> None:  # noqa: B027 (a backend with nothing to release keeps this)
        """Release files and connections."""

    # -- the quota rules, on top of the counts ------------------------------------------------

    def spend(self, key: ApiKey, now: datetime) -> Quota:
        """Count one request against ``key``'s daily limit (UTC days). Every request counts,
        refused ones too; the ``limit``-th is the last one allowed."""
        day = now.toordinal()
        limit = key.daily_limit
        if limit is None:
            return Quota(True, None, None, day)
        if key.exhausted or limit == 0:
            return Quota(False, limit, 0, day)
        used = self.add(key.key, day)
        if used <= limit:
            return Quota(True, limit, limit - used, day)
        return Quota(False, limit, 0, day)

    async def spend_async(self, key: ApiKey, now: datetime) -> Quota:
        """:meth:`spend`, awaited on an event loop (a backend across hosts may batch there)."""
        return self.spend(key, now)

    def used_today(self, keys: Iterable[ApiKey], now: datetime) -> dict[str, int]:
        """Requests allowed today, per key with a limit."""
        day = now.toordinal()
        return {
            k.key: (k.daily_limit if k.exhausted else min(self.add(k.key, day, 0), k.daily_limit))
            for k in keys
            if k.daily_limit is not None
        }
