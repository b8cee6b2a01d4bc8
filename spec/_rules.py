"""The behaviour catalogue: the rules of ``GET /leads`` that no JSON Schema can say.

Each rule is *documented* (the reference page says it; the sentence is quoted) or *assumed*
(the page is silent and this project chose a reading). The mock serves these rules and the
contract suite checks them; neither restates them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

Kind = Literal["documented", "assumed"]

DEFAULT_LIMIT: Final = 50
MAX_LIMIT: Final = 1000
DEFAULT_PAGE: Final = 1
#: The page is silent on a maximum page; the mock accepts up to this one (assumed).
MAX_PAGE: Final = 1_000_000_000
DAILY_REQUEST_LIMIT: Final = 1000
REQUIRED_SCOPE: Final = "leads:read"
API_KEY_HEADER: Final = "x-api-key"
#: The longest value the mock accepts for ``search`` and ``stage`` (``tags``: four times this).
MAX_TEXT_LENGTH: Final = 256


@dataclass(frozen=True)
class Rule:
    """One rule of the contract."""

    id: str
    kind: Kind
    statement: str
    source: str | None = None  # the page's own sentence, for documented rules

    @property
    def documented(self) -> bool:
        return self.kind == "documented"


_RULES: Final = (
    Rule(
        "order.newest_first",
        "documented",
        "Leads are ordered by created_at, newest first.",
        "Results are ordered by creation date (newest first).",
    ),
    Rule(
        "order.stable_tie_break",
        "assumed",
        "Leads with the same created_at keep one order across requests (the mock: id descending),"
        " so pages never overlap or skip.",
    ),
    Rule(
        "filter.archived",
        "documented",
        "Archived leads are returned only with archived=true; archived=true adds them to the rest.",
        "archived: optional boolean Include archived leads (default false)",
    ),
    Rule(
        "filter.stage",
        "documented",
        "stage returns only the leads in that pipeline stage.",
        "stage: optional string Filter by pipeline stage",
    ),
    Rule(
        "filter.stage.exact",
        "assumed",
        "stage matches the lead's stage exactly (case-sensitive).",
    ),
    Rule(
        "filter.tags.any",
        "documented",
        "tags returns the leads that have any of the comma-separated tags.",
        "tags: optional string Filter by tags (comma-separated)."
        " Returns leads that have any of the specified tags.",
    ),
    Rule(
        "filter.tags.split",
        "assumed",
        "Each comma-separated tag is trimmed of white space, empty items are ignored, and tags"
        " match exactly (case-sensitive).",
    ),
    Rule(
        "filter.search",
        "documented",
        "search returns leads whose name, email or phone contains the term; a lead that"
        " contains it verbatim is found.",
        "Search by name, email, or phone",
    ),
    Rule(
        "filter.search.case_insensitive",
        "assumed",
        "search is a case-insensitive substring match on name, email and phone, and nothing else.",
    ),
    Rule(
        "page.limit_max",
        "documented",
        "A page holds at most limit leads; limit is at most 1000.",
        "limit: optional number Number of results per page (max 1000) minimum1 maximum1000",
    ),
    Rule(
        "page.one_based",
        "documented",
        "Pages are numbered from 1: page=1 is the first page; the response echoes page and limit.",
        "page: optional number Page number (1-based) minimum1",
    ),
    Rule(
        "page.total",
        "documented",
        "total counts all records matching the filters, whatever the page and limit.",
        "Total number of matching records",
    ),
    Rule(
        "page.has_more",
        "documented",
        "has_more is true exactly when a later page has leads: page * limit < total.",
        "Whether more pages are available",
    ),
    Rule(
        "page.past_end",
        "documented",
        "A page past the last one is empty, with has_more false and the same total.",
        "Page number (1-based)",
    ),
    Rule(
        "page.walk",
        "documented",
        "Walking the pages of one query from page 1 lists every matching lead exactly once, newest"
        " first, and asking for the same page again gives the same leads.",
        "Returns a paginated list of leads for the authenticated company.",
    ),
    Rule(
        "data.consistent",
        "documented",
        "A lead reads the same in every answer that lists it, whatever the filters and page.",
        "Returns a paginated list of leads for the authenticated company.",
    ),
    Rule("page.default_limit", "assumed", f"Without limit, a page holds {DEFAULT_LIMIT} leads."),
    Rule("page.default_page", "assumed", "Without page, the first page is returned."),
    Rule(
        "error.missing_key",
        "documented",
        "No x-api-key header: 401 AUTHENTICATION_REQUIRED with the page's message.",
        "Authentication required. Provide x-api-key header.",
    ),
    Rule(
        "error.unknown_key",
        "assumed",
        "An unknown key: 401 INVALID_API_KEY (the page shows no body for it).",
    ),
    Rule(
        "error.scope",
        "documented",
        f"A key without scope {REQUIRED_SCOPE}: 403 INSUFFICIENT_SCOPE with the page's message.",
        "Forbidden: required scope 'leads:read' not granted for this API key",
    ),
    Rule(
        "error.daily_limit",
        "documented",
        f"A key past its daily request limit ({DAILY_REQUEST_LIMIT} on the real API):"
        " 429 RATE_LIMIT_EXCEEDED naming the limit.",
        "Daily API key request limit of 1000 exceeded",
    ),
    Rule(
        "error.server",
        "documented",
        "A server error is a 500 with the error body and no error_code; bad input never is.",
        "Internal server error",
    ),
    Rule(
        "error.bad_parameter",
        "assumed",
        "A bad parameter value (limit outside 1..1000, page < 1, a non-integer number, archived"
        " not true/false, a value too long or with control characters, a parameter given twice):"
        " 400 VALIDATION_ERROR naming the parameter and what it accepts.",
    ),
    Rule(
        "request.unknown_parameters",
        "assumed",
        "Query parameters the page does not document are ignored (a cache-buster such as _=123"
        " does not break a request). Schemathesis' negative mode reads them as invalid; we do not.",
    ),
    Rule(
        "error.order",
        "assumed",
        "Checks run in this order: key present, key known, scope, daily quota, parameters."
        " Every request that passes the scope check counts against the daily quota.",
    ),
    Rule(
        "schema.shape",
        "documented",
        "Every body has the documented shape for its status, and JSON content.",
        "data: optional array of object { id, archived, archived_at, 21 more }",
    ),
    Rule(
        "schema.no_extra_fields",
        "assumed",
        "Bodies carry no fields beyond the documented ones.",
    ),
    Rule(
        "convention.fields",
        "assumed",
        "Each documented lead field is present, absent or null as the behaviour profile recorded"
        " (checked only against a profile, --profile; the mock sends every field, null when empty).",
    ),
    Rule(
        "convention.headers",
        "assumed",
        "Answers carry the Content-Type and rate-limit headers the behaviour profile recorded"
        " (checked only against a profile, --profile).",
    ),
)

#: Every rule by id: these, and the rule of each extension filter (see ``_parameters``).
RULES: Final[dict[str, Rule]] = {r.id: r for r in _RULES}


def add_rules(rules: Iterable[Rule]) -> None:
    """Add the rules a declaration makes (an extension filter's); raises ``ValueError`` for an id
    already taken, naming it."""
    for r in rules:
        if r.id in RULES:
            raise ValueError(f"rule {r.id!r} is declared twice: give the filter another name")
        RULES[r.id] = r


def rule(rule_id: str) -> Rule:
    """Return the rule ``rule_id``; raises ``KeyError`` naming the known ids if there is none."""
    try:
        return RULES[rule_id]
    except KeyError:
        raise KeyError(f"no rule {rule_id!r}; known rules: {', '.join(RULES)}") from None


@dataclass(frozen=True)
class ErrorSpec:
    """Which status, ``error_code`` and message answer one kind of error."""

    status: int
    error_code: str | None
    message: str
    rule_id: str

    def body(self, **fields: object) -> dict[str, object]:
        """The error body, with ``message`` formatted with ``fields``."""
        out: dict[str, object] = {"status": "error", "message": self.message.format(**fields)}
        if self.error_code is not None:
            out["error_code"] = self.error_code
        return out

    def message_pattern(self) -> re.Pattern[str]:
        """A pattern matching every message this error may carry (placeholders are numbers)."""
        parts = re.split(r"\{[a-z_]+\}", self.message)
        return re.compile("^" + r"\d+".join(re.escape(p) for p in parts) + "$")


ERRORS: Final[dict[str, ErrorSpec]] = {
    "AUTHENTICATION_REQUIRED": ErrorSpec(
        401,
        "AUTHENTICATION_REQUIRED",
        "Authentication required. Provide x-api-key header.",
        "error.missing_key",
    ),
    "INVALID_API_KEY": ErrorSpec(
        401,
        "INVALID_API_KEY",
        "Invalid API key. Check the x-api-key header.",
        "error.unknown_key",
    ),
    "INSUFFICIENT_SCOPE": ErrorSpec(
        403,
        "INSUFFICIENT_SCOPE",
        "Forbidden: required scope 'leads:read' not granted for this API key",
        "error.scope",
    ),
    "RATE_LIMIT_EXCEEDED": ErrorSpec(
        429,
        "RATE_LIMIT_EXCEEDED",
        "Daily API key request limit of {limit} exceeded",
        "error.daily_limit",
    ),
    "INTERNAL_ERROR": ErrorSpec(500, None, "Internal server error", "error.server"),
    "VALIDATION_ERROR": ErrorSpec(400, "VALIDATION_ERROR", "{detail}", "error.bad_parameter"),
}
