"""State in one process: dictionaries under one lock (``create_app()``, tests, the fixture)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from rotor_leads.mock_server.engine.state._base import SharedState


class MemoryState(SharedState):
    """State in this process only: dictionaries under one lock."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._settings: dict[str, bytes] = {}
        self._counts: dict[str, tuple[tuple[int, int], int]] = {}  # key → ((day, resets), count)
        self._resets = 0
        self._version = 0

    @property
    def version(self) -> int:
        return self._version

    def get(self, name: str, default: Any = None) -> Any:
        raw = self._settings.get(name)
        return default if raw is None else orjson.loads(raw)

    def put(self, name: str, value: Any) -> None:
        with self._lock:
            self._settings[name] = orjson.dumps(value)
            self._version += 1

    def put_default(self, name: str, value: Any) -> bool:
        with self._lock:
            if name in self._settings:
                return False
            self._settings[name] = orjson.dumps(value)
            self._version += 1
            return True

    def update_many(self, changes: Mapping[str, Callable[[Any], Any]]) -> dict[str, Any]:
        with self._lock:
            values = {}
            for name, change in changes.items():
                raw = self._settings.get(name)
                values[name] = change(None if raw is None else orjson.loads(raw))
            self._settings.update((name, orjson.dumps(value)) for name, value in values.items())
            self._version += 1
            return values

    def add(self, key: str, day: int, n: int = 1) -> int:
        stamp = (day, self._resets)
        with self._lock:
            was_stamp, count = self._counts.get(key, (stamp, 0))
            count = (count if was_stamp == stamp else 0) + n
            self._counts[key] = (stamp, count)
            return count

    def reset_quotas(self) -> None:
        with self._lock:
            self._counts.clear()
            self._resets += 1
