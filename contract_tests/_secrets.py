"""API keys that cannot print themselves, and a redactor that removes them from any text.

A key is held as a :class:`Secret` (its ``repr`` and ``str`` are masked; the value comes out
only through :meth:`Secret.get_secret_value`). That protects the places that hold a key; the
:class:`Redactor` protects every other place a key could reach: a server that echoes it back in
a body or a header, a traceback's locals, a captured log, a report. It replaces each key by
value, wherever it appears and however it is written (as is, percent-encoded, JSON-escaped).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any, Final
from urllib.parse import quote

#: Keys shorter than this are not redacted from text (a one-letter "key" would rewrite every
#: word that contains the letter); no real key is that short.
MIN_REDACTED_LENGTH: Final = 3


def mask(value: str) -> str:
    """Enough of a key to recognise it, never all of it: ``abc…yz`` (``…`` if it is short)."""
    return value[:3] + "…" + value[-2:] if len(value) >= 12 else "…"


class Secret:
    """An API key that never shows itself: not in ``repr``, ``str``, logs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({self})"

    def __str__(self) -> str:
        return mask(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class Redactor:
    """Replaces every given key in text, bytes and JSON values by its masked form."""

    def __init__(self, secrets: Iterable[Secret] = ()) -> None:
        pairs: dict[str, str] = {}
        for secret in secrets:
            value = secret.get_secret_value()
            if len(value) < MIN_REDACTED_LENGTH:
                continue
            shown = f"[key {mask(value)} redacted]"
            for form in (value, quote(value, safe=""), json.dumps(value)[1:-1]):
                pairs[form] = shown
        # Longest first, so that a key containing another key is replaced whole.
        self._pairs = sorted(pairs.items(), key=lambda p: -len(p[0]))
        self._byte_pairs = [(k.encode(), v.encode()) for k, v in self._pairs]

    def __bool__(self) -> bool:
        return bool(self._pairs)

    def text(self, text: str) -> str:
        for value, shown in self._pairs:
            if value in text:
                text = text.replace(value, shown)
        return text

    def bytes(self, data: bytes) -> bytes:
        for value, shown in self._byte_pairs:
            if value in data:
                data = data.replace(value, shown)
        return data

    def value(self, value: Any) -> Any:
        """A JSON-like value with every string redacted (dictionary keys too)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.value(k): self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value


class RedactingRecords:
    """A log record factory that redacts every record's message as it is made, so that no
    handler (pytest's captured logs, ``--log-cli-level``, ``--log-file``) ever sees a key.

    ``install()`` wraps the current factory; ``uninstall()`` puts it back.
    """

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        self._previous: Callable[..., logging.LogRecord] | None = None

    def install(self) -> None:
        self._previous = logging.getLogRecordFactory()
        logging.setLogRecordFactory(self._make)

    def uninstall(self) -> None:
        if self._previous is not None:
            logging.setLogRecordFactory(self._previous)
            self._previous = None

    def _make(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        assert self._previous is not None
        record = self._previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to logging to report
            return record
        redacted = self.redactor.text(message)
        if redacted != message or record.args:
            record.msg, record.args = redacted, ()
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when it is set: the traceback is redacted once, here.
            record.exc_text = self.redactor.text(logging.Formatter().formatException(record.exc_info))
        return record
