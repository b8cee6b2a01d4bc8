"""The query of ``GET /leads``: parsing and validating its parameters.

One small parser per parameter, wired up in one table (``PARAMETERS``). The mock answers a
:class:`ParameterError` with ``400 VALIDATION_ERROR``; the contract suite uses
:meth:`LeadQuery.to_params` to build requests and the model in ``_model`` to predict answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Final
from urllib.parse import unquote_to_bytes

from rotor_leads.spec._rules import DEFAULT_LIMIT, DEFAULT_PAGE, MAX_LIMIT, MAX_PAGE, MAX_TEXT_LENGTH

_INTEGER = re.compile(r"[0-9]{1,10}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ParameterError(ValueError):
    """A query parameter has a value the API does not accept.

    ``parameter`` names it; ``str(error)`` says what was given and what is accepted.
    """

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


@dataclass(frozen=True)
class LeadQuery:
    """A validated ``GET /leads`` query. ``None`` and ``()`` mean "not given"."""

    archived: bool = False
    limit: int = DEFAULT_LIMIT
    page: int = DEFAULT_PAGE
    search: str | None = None
    stage: str | None = None
    tags: str | None = None  # as sent: the comma-separated text
    #: Parameters the request named explicitly; the suite sends only these.
    given: frozenset[str] = field(default=frozenset(), compare=False)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit

    @property
    def tag_list(self) -> tuple[str, ...]:
        """The tags to match: split on commas, trimmed, empty items dropped (assumed)."""
        return split_tags(self.tags)

    @property
    def has_filters(self) -> bool:
        return bool(self.search or self.stage or self.tag_list)

    def with_(self, **changes: Any) -> LeadQuery:
        """A copy with ``changes``; each changed parameter counts as given."""
        return replace(self, given=self.given | frozenset(changes), **changes)

    def to_params(self) -> dict[str, str]:
        """The query string parameters for this query (only the given ones)."""
        out: dict[str, str] = {}
        for name in PARAMETERS:
            if name in self.given:
                value = getattr(self, name)
                if value is None:
                    continue
                out[name] = ("true" if value else "false") if isinstance(value, bool) else str(value)
        return out


def split_tags(raw: str | None) -> tuple[str, ...]:
    """``"a, b,,c"`` → ``("a", "b", "c")``: the assumed reading of a comma-separated list."""
    if not raw:
        return ()
    return tuple(t for t in (part.strip() for part in raw.split(",")) if t)


def _boolean(name: str, raw: str) -> bool:
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise ParameterError(name, f"Invalid value for '{name}': {_show(raw)}. Give true or false.")


def _integer(name: str, raw: str, *, low: int, high: int) -> int:
    if _INTEGER.fullmatch(raw) and low <= int(raw) <= high:
        return int(raw)
    raise ParameterError(
        name, f"Invalid value for '{name}': {_show(raw)}. Give an integer from {low} to {high}."
    )


def _text(name: str, raw: str, *, max_length: int) -> str | None:
    if len(raw) > max_length:
        raise ParameterError(
            name,
            f"Invalid value for '{name}': {len(raw)} characters long. Give at most {max_length}.",
        )
    if _CONTROL.search(raw):
        raise ParameterError(
            name, f"Invalid value for '{name}': {_show(raw)}. Control characters are not allowed."
        )
    return raw or None


def _show(raw: str) -> str:
    return repr(raw if len(raw) <= 40 else raw[:40] + "…")


_Parser = Callable[[str, str], object]

#: Parameter name → parser of its raw text. The order is the documented order.
PARAMETERS: Final[dict[str, _Parser]] = {
    "archived": _boolean,
    "limit": lambda n, r: _integer(n, r, low=1, high=MAX_LIMIT),
    "page": lambda n, r: _integer(n, r, low=1, high=MAX_PAGE),
    "search": lambda n, r: _text(n, r, max_length=MAX_TEXT_LENGTH),
    "stage": lambda n, r: _text(n, r, max_length=MAX_TEXT_LENGTH),
    "tags": lambda n, r: _text(n, r, max_length=4 * MAX_TEXT_LENGTH),
}


def parse_query(pairs: Iterable[tuple[str, str]]) -> LeadQuery:
    """Validate query parameters given as ``(name, value)`` pairs.

    Unknown parameters are ignored. Raises :class:`ParameterError` for the first bad value, or
    for a documented parameter given more than once.
    """
    values: dict[str, object] = {}
    for name, raw in pairs:
        parser = PARAMETERS.get(name)
        if parser is None:
            continue
        if name in values:
            raise ParameterError(name, f"'{name}' is given more than once. Give it once.")
        values[name] = parser(name, raw)
    return LeadQuery(given=frozenset(values), **values)  # type: ignore[arg-type]


def parse_query_string(raw: bytes | str) -> LeadQuery:
    """Validate a raw query string, percent-encoded as on the wire (``bytes`` as received;
    a ``str`` is taken as UTF-8 text).

    Raises :class:`ParameterError` as :func:`parse_query` does, and for a value whose bytes
    are not UTF-8.
    """
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    pairs: list[tuple[str, str]] = []
    for item in data.split(b"&"):
        if not item:
            continue
        raw_name, _, raw_value = item.partition(b"=")
        name, value = (unquote_to_bytes(part.replace(b"+", b" ")) for part in (raw_name, raw_value))
        label = name.decode("utf-8", "replace")
        try:
            pairs.append((name.decode("utf-8"), value.decode("utf-8")))
        except UnicodeDecodeError:
            raise ParameterError(label, f"Invalid value for '{label}': it is not valid UTF-8.") from None
    return parse_query(pairs)
