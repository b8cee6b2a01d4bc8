"""Dotted paths into JSON bodies (``"data.0.priority"``), for tests that break bodies on purpose."""

from __future__ import annotations

from typing import Any


def locate(body: Any, path: str) -> tuple[Any, Any]:
    """The container of ``path`` in ``body`` and the key or index in it.

    Raises ``KeyError`` or ``IndexError`` if a parent on the way is missing.
    """
    node = body
    *parents, last = (int(p) if p.isdigit() else p for p in path.split("."))
    for part in parents:
        node = node[part]
    return node, last
