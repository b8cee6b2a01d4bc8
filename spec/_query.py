"""The query of ``GET /leads``: a validated set of parameter values, read by the table of
parameters (``_parameters.PARAMETERS``). The mock answers a :class:`ParameterError` with
``400 VALIDATION_ERROR``; the contract suite uses :meth:`LeadQuery.to_params` to build requests
and the model in ``_model`` to predict answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_to_bytes

from rotor_leads.spec._parameters import FILTERS, PARAMETERS, Filter, ParameterError, split_tags

_DEFAULTS: tuple[tuple[str, Any], ...] = tuple((name, p.default) for name, p in PARAMETERS.items())
_DEFAULT_KEY: tuple[Any, ...] = tuple(default for _, default in _DEFAULTS)


@dataclass(frozen=True)
class LeadQuery:
    """A validated ``GET /leads`` query: the values of the parameters a request gave.

    A parameter reads as an attribute (``query.limit``, ``query.stage``), its default when it
    was not given. Two queries are equal when every parameter reads the same.
    """

    values: tuple[tuple[str, Any], ...] = ()  # (name, value) of the given parameters, table order
    # Computed once: the mock reads a query's parameters and hashes it on every request.
    _given: dict[str, Any] = field(init=False, repr=False, compare=False)
    _key: tuple[Any, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        given = dict(self.values)
        if not given:
            key = _DEFAULT_KEY
        else:
            if not given.keys() <= PARAMETERS.keys():
                unknown = next(name for name in given if name not in PARAMETERS)
                raise TypeError(f"no query parameter {unknown!r}; known: {', '.join(PARAMETERS)}")
            key = tuple([given.get(name, default) for name, default in _DEFAULTS])
        object.__setattr__(self, "_given", given)
        object.__setattr__(self, "_key", key)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name not in PARAMETERS:
            raise AttributeError(name)
        return self.get(name)

    def get(self, name: str) -> Any:
        """The value of parameter ``name``: as given, or its default."""
        given = self._given
        return given[name] if name in given else PARAMETERS[name].default

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LeadQuery) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    @property
    def key(self) -> tuple[Any, ...]:
        """Every parameter's value, in table order: what an answer depends on."""
        return self._key

    @property
    def given(self) -> frozenset[str]:
        """The parameters the request named explicitly; the suite sends only these."""
        return frozenset(name for name, _ in self.values)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit  # type: ignore[no-any-return]

    @property
    def tag_list(self) -> tuple[str, ...]:
        """The tags to match: split on commas, trimmed, empty items dropped (assumed)."""
        return split_tags(self.get("tags"))

    def filters(self) -> Iterator[tuple[Filter, Any]]:
        """Each filter that applies to this query, with its value."""
        for f in FILTERS:
            value = self.get(f.name)
            if f.applies(value):
                yield f, value

    @property
    def has_filters(self) -> bool:
        """Whether a filter narrows the listing (beyond choosing it with ``archived``)."""
        return any(f.narrows for f, _ in self.filters())

    def with_(self, **changes: Any) -> LeadQuery:
        """A copy with ``changes``; each changed parameter counts as given."""
        merged = dict(self.values)
        merged.update(changes)
        return LeadQuery(tuple((name, merged[name]) for name in PARAMETERS if name in merged))

    def to_params(self) -> dict[str, str]:
        """The query string parameters for this query (only the given ones)."""
        out: dict[str, str] = {}
        for name, value in self.values:
            if value is None:
                continue
            out[name] = ("true" if value else "false") if isinstance(value, bool) else str(value)
        return out

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={value!r}" for name, value in self.values)
        return f"LeadQuery({shown})"


def parse_query(pairs: Iterable[tuple[str, str]]) -> LeadQuery:
    """Validate query parameters given as ``(name, value)`` pairs.

    Unknown parameters are ignored. Raises :class:`ParameterError` for the first bad value, or
    for a documented parameter given more than once.
    """
    values: dict[str, Any] = {}
    for name, raw in pairs:
        parameter = PARAMETERS.get(name)
        if parameter is None:
            continue
        if name in values:
            raise ParameterError(
                name, f"'{name}' is given more than once. Give it once.", kind="repeated", raw=raw
            )
        values[name] = parameter.parse(name, raw)
    return LeadQuery(tuple((name, values[name]) for name in PARAMETERS if name in values))


def parse_query_string(raw: bytes | str) -> LeadQuery:
    """Validate a raw query string, percent-encoded as on the wire (``bytes`` as received;
    a ``str`` is taken as UTF-8 text).

    Raises :class:`ParameterError` as :func:`parse_query` does, and for a value whose bytes
    are not UTF-8.
    """
    if not raw:  # most requests of a page-through: no need to build the empty query again
        return _EMPTY
    return parse_query(decode_pairs(raw))


def decode_pairs(raw: bytes | str) -> list[tuple[str, str]]:
    """The ``(name, value)`` pairs of a raw query string, percent-decoded (``+`` is a space).

    Raises :class:`ParameterError` for a name or value whose bytes are not UTF-8.
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
            raise ParameterError(
                label,
                f"Invalid value for '{label}': it is not valid UTF-8.",
                kind="not_utf8",
                raw=value.decode("utf-8", "replace"),
            ) from None
    return pairs


_EMPTY: LeadQuery = LeadQuery()
