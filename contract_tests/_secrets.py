"""API keys that cannot print themselves, and a redactor that removes them from any text.

A key is held as a :class:`Secret` (its ``repr`` and ``str`` are masked; the value comes out
only through :meth:`Secret.get_secret_value`). That protects the places that hold a key; the
:class:`Redactor` protects every other place a key could reach: a server that echoes it back in
a body or a header, a traceback's locals, a captured log, a report. It replaces each key by
value, in any rendering a server may echo it in: as is, in another letter case, percent-encoded
(either hex case), JSON-escaped (``\\/``, ``\u002f``), or any mix of these, character by
character.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any, Final

import orjson

from rotor_leads.contract_tests._privacy import PersonalData

#: Keys shorter than this are not redacted from text (a one-letter "key" would rewrite every
#: word that contains the letter); no real key is that short.
MIN_REDACTED_LENGTH: Final = 3
_SHOWN: Final = re.compile(r"[^A-Za-z0-9._-]")


def mask(value: str) -> str:
    """Enough of a key to recognise it, never all of it: ``abc…yz`` (``…`` if it is short)."""
    return _SHOWN.sub("*", value[:3]) + "…" + _SHOWN.sub("*", value[-2:]) if len(value) >= 12 else "…"


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


#: The letters beyond ASCII that ``re.IGNORECASE`` matches to ASCII ones ("K" to "k"): text
#: holding one may hold a key that no lower-cased search finds.
_FOLDS_TO_ASCII_TEXT: Final = "\u0130\u0131\u017f\u212a"
_FOLDS_TO_ASCII: Final = tuple(c.encode("utf-8") for c in _FOLDS_TO_ASCII_TEXT)


def _renderings(char: str) -> str:
    """A pattern for one character of a key as a server may render it: as is (any letter case,
    by the pattern's flag), percent-encoded, JSON-escaped."""
    forms = [re.escape(char)]
    forms.append("".join(f"%{byte:02x}" for byte in char.encode("utf-8")))
    # A JSON escape's backslash may come escaped again, any number of times: a JSON text inside
    # a JSON text, or the repr of one (as in -l's locals).
    if ord(char) < 0x10000:
        forms.append(rf"\\+u{ord(char):04x}")
    if char == "/":
        forms.append(r"\\+/")
    return "(?:" + "|".join(forms) + ")"


def key_pattern(value: str) -> str:
    """A pattern (to compile with ``re.IGNORECASE``) for ``value`` in any rendering."""
    return "".join(_renderings(char) for char in value)


class Redactor:
    """Replaces every given key in text, bytes and JSON values by its masked form."""

    def __init__(self, secrets: Iterable[Secret] = (), personal: PersonalData | None = None) -> None:
        #: A live target's leads' personal values, masked in what is shown (None: none masked).
        self.personal = personal
        values = {s.get_secret_value() for s in secrets if len(s.get_secret_value()) >= MIN_REDACTED_LENGTH}
        # Longest first, so that a key containing another key is replaced whole.
        ordered = sorted(values, key=len, reverse=True)
        self._masks = [f"[key {mask(value)} redacted]" for value in ordered]
        source = "|".join(f"({key_pattern(value)})" for value in ordered)
        self._text = re.compile(source, re.IGNORECASE) if ordered else None
        self._bytes = re.compile(source.encode("utf-8"), re.IGNORECASE) if ordered else None
        # Text that holds no key as is (in any case) and no escape cannot hold one escaped
        # either: it skips the pattern, a character-by-character scan of a megabyte page.
        self._plain = [value.lower() for value in ordered]
        self._plain_bytes = [value.lower().encode("utf-8") for value in ordered]

    def __bool__(self) -> bool:
        return self._text is not None or self.personal is not None

    def shown(self, text: str) -> str:
        """``text`` as the suite may show or write it: no key, and (for a live target's leads,
        once learnt) no personal value."""
        text = self.text(text)
        return self.personal.mask(text) if self.personal is not None else text

    def shown_value(self, value: Any) -> Any:
        """A JSON-like value as the suite may write it (see :meth:`shown`)."""
        return _each_string(value, self.shown)

    def _mask_of(self, match: re.Match[Any]) -> str:
        return self._masks[(match.lastindex or 1) - 1]

    def _may_hold_a_key(self, text: str) -> bool:
        """False when no spelling of a key can be in ``text``: each needs the key as it is (in
        any letter case), an escape (``%``, ``\\``) or a letter Unicode folds to ASCII."""
        if "%" in text or "\\" in text or any(c in text for c in _FOLDS_TO_ASCII_TEXT):
            return True
        lowered = text.lower()
        return any(p in lowered for p in self._plain)

    def text(self, text: str) -> str:
        if self._text is None or not self._may_hold_a_key(text):
            return text
        return self._text.sub(self._mask_of, text)

    def decoded(self, raw: bytes) -> Any:
        """The JSON value of ``raw`` (bytes :meth:`bytes` gave), with every key redacted however
        it was spelled; raises ``orjson.JSONDecodeError``."""
        value = orjson.loads(raw)
        if self._text is None or not (
            b"\\" in raw
            or any(c in raw for c in _FOLDS_TO_ASCII)
            or not all(p.isascii() for p in self._plain)
        ):
            # No escape: each decoded string is its bytes, already redacted (for an ASCII key,
            # the any-case pattern matches the same on bytes as on text).
            return value
        # An escape ("\\/", "\\u00e9") may have hidden a key from the bytes' pattern. The strings
        # as decoded, written plainly: orjson escapes only quotes, backslashes and control
        # characters, and any of them sends the value the slow way, string by string.
        if not self._may_hold_a_key(orjson.dumps(value).decode("utf-8")):
            return value
        return self.value(value)

    def bytes(self, data: bytes) -> bytes:
        if self._bytes is None:
            return data
        if not (b"%" in data or b"\\" in data):
            lowered = data.lower()
            if not any(p in lowered for p in self._plain_bytes):
                return data
        return self._bytes.sub(lambda match: self._mask_of(match).encode("utf-8"), data)

    def value(self, value: Any) -> Any:
        """A JSON-like value with every string redacted (dictionary keys too)."""
        return _each_string(value, self.text)


def _each_string(value: Any, change: Callable[[str], str]) -> Any:
    """A JSON-like value with ``change`` applied to every string in it, dictionary keys too."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {_each_string(k, change): _each_string(v, change) for k, v in value.items()}
    if isinstance(value, list):
        return [_each_string(v, change) for v in value]
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
        redacted = self.redactor.shown(message)
        if redacted != message or record.args:
            record.msg, record.args = redacted, ()
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when it is set: the traceback is redacted once, here.
            record.exc_text = self.redactor.shown(logging.Formatter().formatException(record.exc_info))
        return record
