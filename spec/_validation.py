"""Validating a ``GET /leads`` response (status, headers, body) against the document."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import orjson
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from rotor_leads.spec._document import component_schema, response_schema

_FORMATS = FormatChecker()


@dataclass(frozen=True)
class Violation:
    """One way a response breaks the contract."""

    path: str  # a JSON path such as ``$.data[3].priority``
    value: Any
    rule: str  # what the contract says, in words

    def __str__(self) -> str:
        shown = repr(self.value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        return f"{self.path}: {shown} — {self.rule}"


class ContractViolation(AssertionError):
    """A response breaks the documented shape; ``violations`` lists every way it does."""

    def __init__(self, violations: list[Violation], *, status: int) -> None:
        self.violations = violations
        self.status = status
        lines = "\n  ".join(str(v) for v in violations)
        super().__init__(f"The {status} response breaks the documented shape:\n  {lines}")


@cache
def _validator(status: int, strict: bool) -> Draft202012Validator:
    # The schemas are checked against the 2020-12 metaschema by the tests
    # (tests/test_spec_document.py), not here: that took 0.15 s of every process's first checks.
    return Draft202012Validator(response_schema(status, strict=strict), format_checker=_FORMATS)


@cache
def _page_validators(strict: bool) -> tuple[Draft202012Validator, Draft202012Validator]:
    """The 200 body's envelope (its leads accepted as they are) and one lead, apart: a lead seen
    on many pages is then checked once (see :func:`_page_errors`)."""
    envelope = copy.deepcopy(response_schema(200, strict=strict))
    data = envelope["$defs"]["LeadList"]["properties"]["data"]
    if set(data) - {"type", "items", "description"}:  # then a page's length would matter
        raise RuntimeError(f"the envelope check assumes no rule on the data array but its items: {data}")
    data["items"] = True
    lead = component_schema("Lead", strict=strict)
    return (
        Draft202012Validator(envelope, format_checker=_FORMATS),
        Draft202012Validator(lead, format_checker=_FORMATS),
    )


#: (path below the instance, value, message) of each way an instance breaks its schema.
Errors = tuple[tuple[str, Any, str], ...]
_CACHE_SIZE = 50_000
#: (part, strict, the JSON of the instance) → its errors; part 0: a page's envelope, 1: a lead.
_cache: dict[tuple[int, bool, bytes], Errors] = {}


def _page_errors(part: int, instance: Any, strict: bool) -> Errors:
    """(path below the instance, value, message) for each way a page's envelope (``part`` 0) or
    a lead (1) breaks its schema. Each is checked once per strictness; and since the strict
    schema is the other with no undocumented field allowed, an instance that passes the strict
    one passes the other too: a lenient check looks at the strict one first (the suite makes
    both, lenient first)."""
    data = orjson.dumps(instance, option=orjson.OPT_SORT_KEYS)
    known = _cache.get((part, strict, data))
    if known is not None:
        return known
    if len(_cache) >= _CACHE_SIZE:
        _cache.clear()
    if strict:
        found = _errors(part, instance, True)
    else:
        strict_errors = _cache.get((part, True, data))
        if strict_errors is None:
            strict_errors = _cache[part, True, data] = _errors(part, instance, True)
        found = _errors(part, instance, False) if strict_errors else ()
    _cache[part, strict, data] = found
    return found


def _errors(part: int, instance: Any, strict: bool) -> Errors:
    validator = _page_validators(strict)[part]
    return tuple(
        (_json_path(e).removeprefix("$"), e.instance, e.message) for e in validator.iter_errors(instance)
    )


def _json_path(error: ValidationError) -> str:
    out = "$"
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _explain(error: ValidationError) -> Violation:
    return Violation(_json_path(error), error.instance, error.message)


def body_violations(status: int, body: Any, *, strict: bool = False) -> list[Violation]:
    """Every way ``body`` breaks the schema of a ``status`` answer, in document order.

    ``strict=True`` also rejects fields the document does not name.
    """
    data = body.get("data") if isinstance(body, dict) else None
    if status != 200 or not isinstance(data, list):
        return [_explain(e) for e in _validator(status, strict).iter_errors(body)]
    # The envelope of a page without its leads (checked one by one below): jsonschema would
    # otherwise visit each of a thousand leads just to accept it.
    parts = [("$", 0, {**body, "data": []}), *((f"$.data[{i}]", 1, lead) for i, lead in enumerate(data))]
    out: list[Violation] = []
    for where, part, instance in parts:
        try:
            errors = _page_errors(part, instance, strict)
        except TypeError:  # not serialisable as JSON keys (cannot come from a JSON body)
            errors = _errors(part, instance, strict)
        out.extend(Violation(f"{where}{path}", value, message) for path, value, message in errors)
    return out


def header_violations(headers: Mapping[str, str]) -> list[Violation]:
    """Every way the headers break the contract: the body must be declared JSON."""
    lowered = {k.lower(): v for k, v in headers.items()}
    content_type = lowered.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/json":
        return [Violation("headers.content-type", content_type or None, "must be application/json")]
    return []


def validate_response(status: int, headers: Mapping[str, str], body: Any, *, strict: bool = False) -> None:
    """Check a whole response; raises :class:`ContractViolation` listing each violation."""
    violations = header_violations(headers) + body_violations(status, body, strict=strict)
    if violations:
        raise ContractViolation(violations, status=status)
