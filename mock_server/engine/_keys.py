"""API keys the mock accepts: the demo keys, or a keys file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

from rotor_leads import spec


@dataclass(frozen=True)
class ApiKey:
    """A key, its scopes and its daily request limit (``None``: no limit)."""

    key: str
    scopes: frozenset[str] = field(default=frozenset({spec.REQUIRED_SCOPE}))
    daily_limit: int | None = spec.DAILY_REQUEST_LIMIT
    exhausted: bool = False  # the day's quota is already spent, whatever the counter says

    def to_json(self) -> dict[str, Any]:
        return {"scopes": sorted(self.scopes), "daily_limit": self.daily_limit, "exhausted": self.exhausted}


DEMO_KEYS: Final[Mapping[str, ApiKey]] = {
    k.key: k
    for k in (
        ApiKey("demo-key"),
        ApiKey("demo-key-unlimited", daily_limit=None),
        ApiKey("demo-key-no-scope", scopes=frozenset()),
        ApiKey("demo-key-exhausted", exhausted=True),
    )
}
DEMO_KEY_NOTES: Final = {
    "demo-key": f"{spec.REQUIRED_SCOPE}, {spec.DAILY_REQUEST_LIMIT} requests/day like the real API",
    "demo-key-unlimited": f"{spec.REQUIRED_SCOPE}, no daily limit (load tests)",
    "demo-key-no-scope": "no scopes: every request is a 403",
    "demo-key-exhausted": "today's quota already spent: every request is a 429",
}


class KeysFileError(ValueError):
    """A keys file is unreadable or malformed; the message names the key and the field."""


def mask(secret: str) -> str:
    """Enough of a key to recognise it in a log, never all of it (the public demo keys are
    shown as they are: the README prints them)."""
    if secret in DEMO_KEYS:
        return secret
    return secret[:4] + "…" + secret[-2:] if len(secret) >= 12 else "…"


def _parse_key(name: Any, entry: Any, where: str, number: int) -> ApiKey:
    """One entry of a keys file (the ``number``-th, from 1): named in errors by its place and
    its masked key, never the key itself."""
    if not isinstance(name, str) or not name:
        raise KeysFileError(f"{where}: entry {number}: every key must be a non-empty string, got {name!r}")
    entry_name = f"entry {number} (key {mask(name)})"
    if entry is None:
        entry = {}
    if not isinstance(entry, dict):
        raise KeysFileError(f"{where}: {entry_name}: expected a mapping of scopes/daily_limit")
    unknown = set(entry) - {"scopes", "daily_limit", "exhausted"}
    if unknown:
        raise KeysFileError(
            f"{where}: {entry_name}: unknown field(s) {sorted(unknown)}; use scopes, daily_limit, exhausted"
        )
    scopes = entry.get("scopes", [spec.REQUIRED_SCOPE])
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise KeysFileError(f"{where}: {entry_name}, field scopes: expected a list of strings")
    limit = entry.get("daily_limit", spec.DAILY_REQUEST_LIMIT)
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
        raise KeysFileError(
            f"{where}: {entry_name}, field daily_limit: expected a whole number ≥ 0 or null (no limit)"
        )
    exhausted = entry.get("exhausted", False)
    if not isinstance(exhausted, bool):
        raise KeysFileError(f"{where}: {entry_name}, field exhausted: expected true or false")
    if exhausted and limit is None:
        raise KeysFileError(
            f"{where}: {entry_name}: exhausted needs a daily_limit (its 429 names the limit);"
            " give daily_limit or leave exhausted out"
        )
    return ApiKey(name, frozenset(scopes), limit, exhausted)


def load_keys_file(path: str | Path) -> dict[str, ApiKey]:
    """Read a YAML or JSON keys file: ``key → {scopes: [...], daily_limit: N|null}``.

    Raises :class:`KeysFileError` naming what is wrong.
    """
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise KeysFileError(f"{path}: cannot read it ({exc.strerror})") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise KeysFileError(f"{path}: not valid YAML or JSON ({str(exc).splitlines()[0]})") from None
    return keys_from(raw, where=str(path))


def keys_from(raw: Any, *, where: str) -> dict[str, ApiKey]:
    """Keys in the keys file's format, ``key → {scopes, daily_limit, exhausted}`` (an
    :class:`ApiKey` is taken as it is). Raises :class:`KeysFileError` naming ``where``."""
    if not isinstance(raw, dict) or not raw:
        raise KeysFileError(
            f"{where}: expected a mapping of key → {{scopes, daily_limit}} with at least one key"
        )
    return {
        name: entry if isinstance(entry, ApiKey) else _parse_key(name, entry, where, number)
        for number, (name, entry) in enumerate(raw.items(), start=1)
    }
