"""Hypothesis strategies from the document's JSON Schemas: one small strategy per JSON type.

Covers the keywords this document uses (``type`` and type lists, ``const``, ``enum``,
``properties``/``required``, ``items``, bounds, ``maxLength``, ``format: date-time``, local
``$ref``). hypothesis-jsonschema would be the obvious choice, but its object strategy relies on
Hypothesis internals that current Hypothesis no longer has.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final

from hypothesis import strategies as st

Schema = dict[str, Any]
_Builder = Callable[[Schema, Schema], st.SearchStrategy[Any]]

_DATETIMES: Final = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
).map(lambda d: d.isoformat(timespec="milliseconds").replace("+00:00", "Z"))


def _string(schema: Schema, root: Schema) -> st.SearchStrategy[Any]:
    if schema.get("format") == "date-time":
        return _DATETIMES
    return st.text(max_size=min(schema.get("maxLength", 30), 30))


def _integer(schema: Schema, root: Schema) -> st.SearchStrategy[Any]:
    return st.integers(schema.get("minimum"), schema.get("maximum"))


def _number(schema: Schema, root: Schema) -> st.SearchStrategy[Any]:
    low, high = schema.get("minimum"), schema.get("maximum")
    return _integer(schema, root) | st.floats(low, high, allow_nan=False, allow_infinity=False)


def _array(schema: Schema, root: Schema) -> st.SearchStrategy[Any]:
    return st.lists(from_schema(schema.get("items", {}), root=root), max_size=4)


def _object(schema: Schema, root: Schema) -> st.SearchStrategy[Any]:
    properties: dict[str, Schema] = schema.get("properties", {})
    required = set(schema.get("required", ()))
    return st.fixed_dictionaries(
        {k: from_schema(v, root=root) for k, v in properties.items() if k in required},
        optional={k: from_schema(v, root=root) for k, v in properties.items() if k not in required},
    )


_BY_TYPE: Final[dict[str, _Builder]] = {
    "null": lambda s, r: st.none(),
    "boolean": lambda s, r: st.booleans(),
    "integer": _integer,
    "number": _number,
    "string": _string,
    "array": _array,
    "object": _object,
}


def from_schema(schema: Schema, *, root: Schema | None = None) -> st.SearchStrategy[Any]:
    """A strategy of JSON values that ``schema`` accepts.

    Raises ``ValueError`` for a keyword it does not cover, rather than generating wrong values.
    """
    root = schema if root is None else root
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        return st.deferred(lambda: from_schema(root["$defs"][name], root=root))
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    types = schema.get("type", list(_BY_TYPE))
    types = [types] if isinstance(types, str) else types
    unknown = [t for t in types if t not in _BY_TYPE]
    if unknown:
        raise ValueError(f"no strategy for JSON type(s) {unknown}")
    return st.one_of([_BY_TYPE[t](schema, root) for t in types])
