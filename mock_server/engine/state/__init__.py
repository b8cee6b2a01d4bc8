"""State every worker of a mock shares: daily quota counts, the data set in force and the
server-wide scenario. One small interface, :class:`SharedState`, with a backend per reach:

* :class:`MemoryState` — one process (``create_app()``, tests, the ``rotor_api`` fixture);
* :class:`LocalState` — the worker processes of one host (``rotor-mock serve --workers N``).

A backend is chosen once, at start-up (:func:`open_state`).
"""

from __future__ import annotations

from pathlib import Path

from rotor_leads.mock_server.engine.state._base import Quota, SharedState, StateError, next_midnight
from rotor_leads.mock_server.engine.state._local import LocalState
from rotor_leads.mock_server.engine.state._memory import MemoryState


def open_state(root: str | Path | None) -> SharedState:
    """The backend for a mock: :class:`LocalState` in ``root``, or :class:`MemoryState`."""
    return MemoryState() if root is None else LocalState(root)


__all__ = ["LocalState", "MemoryState", "Quota", "SharedState", "StateError", "next_midnight", "open_state"]
