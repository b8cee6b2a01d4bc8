"""Validating a ``GET /leads`` response (status, headers, body) against the document."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from spec._document import response_schema

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
    return [_explain(e) for e in _validator(status, strict).iter_errors(body)]


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
