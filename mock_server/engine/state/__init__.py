"""State every worker of a mock shares: daily quota counts, the data set in force and the
server-wide scenario. One small interface, :class:`SharedState`, with a backend per reach:

* :class:`MemoryState` — one process (``create_app()``, tests, the ``rotor_api`` fixture);
* :class:`LocalState` — the worker processes of one host (``rotor-mock serve --workers N``);
* :class:`RedisState` — instances on several hosts (``--shared-state redis://HOST:PORT/DB``).

A backend is chosen once, at start-up (:func:`open_state`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rotor_leads import spec
from rotor_leads.mock_server.engine.state._base import (
    Quota,
    SharedState,
    StateError,
    StateUnavailable,
    next_midnight,
    parse_shared_state_url,
    shown,
)
from rotor_leads.mock_server.engine.state._local import LocalState
from rotor_leads.mock_server.engine.state._memory import MemoryState

if TYPE_CHECKING:
    from rotor_leads.mock_server.engine.state._redis import RedisState


def open_state(root: str | Path | None, url: str | None = None) -> SharedState:
    """The backend for a mock: :class:`RedisState` at ``url``, :class:`LocalState` in ``root``,
    or :class:`MemoryState`. Raises :class:`StateError` if it cannot be opened, and
    :class:`~rotor_leads.spec.MissingExtra` for a URL without the ``[redis]`` extra."""
    if url is not None:
        return _redis_state()(url)
    return MemoryState() if root is None else LocalState(root)


def _redis_state() -> type[RedisState]:
    # Imported on first use: the redis client comes with the [redis] extra.
    with spec.requires_extra("redis", what="--shared-state"):
        from rotor_leads.mock_server.engine.state._redis import RedisState
    return RedisState


def __getattr__(name: str) -> Any:
    if name != "RedisState":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return _redis_state()


__all__ = [
    "LocalState",
    "MemoryState",
    "Quota",
    "RedisState",
    "SharedState",
    "StateError",
    "StateUnavailable",
    "next_midnight",
    "open_state",
    "parse_shared_state_url",
    "shown",
]
