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
    schema = response_schema(status, strict=strict)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=_FORMATS)


@cache
def _page_validators(strict: bool) -> tuple[Draft202012Validator, Draft202012Validator]:
    """The 200 body's envelope (its leads accepted as they are) and one lead, apart: a lead seen
    on many pages is then checked once (see :func:`_lead_errors`)."""
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


_LEAD_CACHE_SIZE = 50_000
_lead_cache: dict[tuple[bool, bytes], tuple[tuple[str, Any, str], ...]] = {}


def _lead_errors(lead: Any, strict: bool) -> tuple[tuple[str, Any, str], ...]:
    """(path below the lead, value, message) for each way ``lead`` breaks the Lead schema."""
    key = (strict, orjson.dumps(lead, option=orjson.OPT_SORT_KEYS))
    found = _lead_cache.get(key)
    if found is None:
        validator = _page_validators(strict)[1]
        found = tuple(
            (_json_path(e).removeprefix("$"), e.instance, e.message) for e in validator.iter_errors(lead)
        )
        if len(_lead_cache) >= _LEAD_CACHE_SIZE:
            _lead_cache.clear()
        _lead_cache[key] = found
    return found


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
    envelope, _ = _page_validators(strict)
    # The envelope of a page without its leads (checked one by one below): jsonschema would
    # otherwise visit each of a thousand leads just to accept it.
    out = [_explain(e) for e in envelope.iter_errors({**body, "data": []})]
    for index, lead in enumerate(data):
        try:
            errors = _lead_errors(lead, strict)
        except TypeError:  # not serialisable as JSON keys (cannot come from a JSON body)
            errors = tuple(
                (_json_path(e).removeprefix("$"), e.instance, e.message)
                for e in _page_validators(strict)[1].iter_errors(lead)
            )
        out.extend(Violation(f"$.data[{index}]{path}", value, message) for path, value, message in errors)
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
