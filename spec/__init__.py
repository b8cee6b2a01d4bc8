"""The contract of the Rotor open API's ``GET /leads``: the single source of truth.

* the OpenAPI 3.1 document (:func:`load_document`, :func:`response_schema`…);
* response validation (:func:`validate_response`, :class:`ContractViolation`);
* the behaviour catalogue (:data:`RULES`, :data:`ERRORS`);
* the query parameters, one row each (:data:`PARAMETERS`, :data:`FILTERS`), and the query they
  make (:func:`parse_query`, :class:`LeadQuery`);
* a plain-Python model of the rules (:func:`apply`, :func:`matches`), and the page envelope
  (:func:`page_window`, :func:`pagination`, :func:`page_body`);
* Hypothesis strategies from the schemas (:func:`from_schema`, loaded on first use: the
  contract itself needs no Hypothesis, which the ``[suite]`` extra brings);
* behaviour profiles: a server's choices where the page is silent (:class:`Profile`,
  :data:`ASSUMED` for this project's, :func:`load_profile`, :func:`profile_drift`);
* the distribution's extras: :func:`check_extra` and :func:`requires_extra` turn a missing one
  into :class:`MissingExtra`, one line naming what to install.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rotor_leads.spec._document import (
    DocumentError,
    component_schema,
    document_path,
    documented_fields,
    documented_statuses,
    load_document,
    parameter,
    response_examples,
    response_schema,
)
from rotor_leads.spec._extras import MissingExtra, check_extra, requires_extra
from rotor_leads.spec._model import (
    TIE_ORDERS,
    Page,
    Window,
    apply,
    matches,
    newest_first,
    order_key,
    page_body,
    page_window,
    pagination,
    parse_timestamp,
)
from rotor_leads.spec._parameters import (
    BAD_VALUE_KINDS,
    FILTERS,
    PARAMETERS,
    SEARCH_FIELDS,
    DeclarationError,
    Filter,
    Lead,
    Parameter,
    ParameterError,
    Predicate,
    equals,
    is_archived,
    lead_tags,
    search_texts,
    split_tags,
)
from rotor_leads.spec._profile import (
    ASSUMED,
    BAD_VALUE_PROBES,
    PRESENCE,
    UNKNOWN_PARAMETER_PROBE,
    Choice,
    Drift,
    Outcome,
    Profile,
    ProfileError,
    left_out,
    load_profile,
    map_strings,
)
from rotor_leads.spec._profile import CHOICES as PROFILE_CHOICES
from rotor_leads.spec._profile import drift as profile_drift
from rotor_leads.spec._query import LeadQuery, decode_pairs, parse_query, parse_query_string
from rotor_leads.spec._rules import (
    API_KEY_HEADER,
    DAILY_REQUEST_LIMIT,
    DEFAULT_LIMIT,
    DEFAULT_PAGE,
    ERRORS,
    MAX_LIMIT,
    MAX_PAGE,
    MAX_TEXT_LENGTH,
    REQUIRED_SCOPE,
    RULES,
    ErrorSpec,
    Rule,
    rule,
)
from rotor_leads.spec._validation import (
    ContractViolation,
    Violation,
    body_violations,
    header_violations,
    validate_response,
)

if TYPE_CHECKING:
    from rotor_leads.spec._strategies import from_schema

__all__ = [
    "DeclarationError",
    "DocumentError",
    "MissingExtra",
    "check_extra",
    "requires_extra",
    "API_KEY_HEADER",
    "ASSUMED",
    "BAD_VALUE_KINDS",
    "BAD_VALUE_PROBES",
    "PRESENCE",
    "PROFILE_CHOICES",
    "TIE_ORDERS",
    "UNKNOWN_PARAMETER_PROBE",
    "Choice",
    "Drift",
    "Outcome",
    "Profile",
    "ProfileError",
    "decode_pairs",
    "left_out",
    "load_profile",
    "map_strings",
    "profile_drift",
    "DAILY_REQUEST_LIMIT",
    "DEFAULT_LIMIT",
    "DEFAULT_PAGE",
    "ERRORS",
    "FILTERS",
    "MAX_LIMIT",
    "MAX_PAGE",
    "MAX_TEXT_LENGTH",
    "PARAMETERS",
    "REQUIRED_SCOPE",
    "RULES",
    "SEARCH_FIELDS",
    "ContractViolation",
    "ErrorSpec",
    "Filter",
    "Lead",
    "LeadQuery",
    "Page",
    "Parameter",
    "ParameterError",
    "Predicate",
    "Rule",
    "Violation",
    "Window",
    "apply",
    "body_violations",
    "component_schema",
    "document_path",
    "documented_fields",
    "documented_statuses",
    "equals",
    "from_schema",
    "header_violations",
    "is_archived",
    "lead_tags",
    "load_document",
    "matches",
    "newest_first",
    "order_key",
    "page_body",
    "page_window",
    "pagination",
    "parameter",
    "parse_query",
    "parse_query_string",
    "parse_timestamp",
    "response_examples",
    "response_schema",
    "rule",
    "search_texts",
    "split_tags",
    "validate_response",
]


def __getattr__(name: str) -> Any:
    if name != "from_schema":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    with requires_extra("suite", what="rotor_leads.spec.from_schema"):
        from rotor_leads.spec._strategies import from_schema
    globals()[name] = from_schema
    return from_schema


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
