"""What a store remembers between requests: pages within a byte budget, totals by filters."""

from __future__ import annotations

import threading
from typing import Any, Final

CACHE_BYTES: Final = 32 << 20  # cached pages, per process: their bodies plus ENTRY_BYTES each
ENTRY_BYTES: Final = 256  # about what a cached page's key and dictionary slot take
COUNTS: Final = 2048  # cached totals


class PageCache:
    """Page bodies by query, the oldest forgotten beyond the byte budget (1000-lead pages are a
    megabyte each: a count alone would not bound the memory). Reads take no lock."""

    def __init__(self, budget: int | None = None) -> None:
        self.budget = CACHE_BYTES if budget is None else budget
        self._pages: dict[tuple[Any, ...], bytes] = {}
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> bytes | None:
        return self._pages.get(key)

    def put(self, key: tuple[Any, ...], body: bytes) -> None:
        with self._lock:
            if key in self._pages:
                return
            self._pages[key] = body
            self._bytes += len(body) + ENTRY_BYTES
            while self._bytes > self.budget:
                oldest = next(iter(self._pages))
                self._bytes -= len(self._pages.pop(oldest)) + ENTRY_BYTES

    @property
    def size(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._pages)


class Counts(dict[tuple[Any, ...], int]):
    """Totals by the filters' values: forgotten all at once when full."""

    def __setitem__(self, key: tuple[Any, ...], value: int) -> None:
        if len(self) >= COUNTS:
            self.clear()
        super().__setitem__(key, value)
