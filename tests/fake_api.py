"""A fake Rotor API for respx, built on spec's model, whose every step can be broken on purpose.

``FakeApi`` answers exactly as the contract says. A mutant overrides one step (ordering, a
filter, the page arithmetic, an error) to break exactly one rule, or to make a different
choice where the page is silent. The contract suite must fail the first kind and pass the
second.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl

import httpx

from rotor_leads import spec
from rotor_leads.mock_server.engine._data import generate_leads
from tests.paths import locate

Lead = dict[str, Any]
KEYS = {"good-key-0123456789": "ok", "scopeless-key-0123456": "no-scope", "spent-key-0123456789": "exhausted"}
BASE_URL = "https://rotor.test/open-api"


class FakeApi:
    """A correct fake. Subclass a mutant, or patch a method with :func:`mutant`."""

    def __init__(self, leads: list[Lead]) -> None:
        self.leads = leads

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path != "/open-api/leads":
            return self.respond(404, {"status": "error", "message": "not found"})
        error = self.authenticate(request.headers.get("x-api-key"))
        if error is not None:
            return error
        try:
            query = self.parse(request.url.query.decode())
        except spec.ParameterError as exc:
            return self.bad_parameter(exc)
        hits = [lead for lead in self.leads if self.matches(query, lead)]
        ordered = self.order(hits)
        total = self.total(query, ordered)
        start, stop = self.window(query, len(ordered))
        body = {
            "data": self.present([dict(lead) for lead in ordered[start:stop]]),  # mutants may edit them
            "pagination": {
                "has_more": self.has_more(query, total),
                "limit": self.echo_limit(query),
                "page": query.page,
                "total": total,
            },
            "status": "success",
        }
        return self.respond(200, self.finish(query, body))

    # -- steps a mutant may override ---------------------------------------------------------

    def authenticate(self, key: str | None) -> httpx.Response | None:
        if not key:
            return self.error("AUTHENTICATION_REQUIRED")
        kind = KEYS.get(key)
        if kind is None:
            return self.error("INVALID_API_KEY")
        if kind == "no-scope":
            return self.error("INSUFFICIENT_SCOPE")
        if kind == "exhausted":
            return self.error("RATE_LIMIT_EXCEEDED")
        return None

    def parse(self, raw: str) -> spec.LeadQuery:
        return spec.parse_query_string(raw)

    def bad_parameter(self, exc: spec.ParameterError) -> httpx.Response:
        return self.error("VALIDATION_ERROR", detail=str(exc))

    def matches(self, query: spec.LeadQuery, lead: Lead) -> bool:
        return spec.matches(query, lead)

    def order(self, leads: list[Lead]) -> list[Lead]:
        return spec.newest_first(leads)

    def total(self, query: spec.LeadQuery, ordered: list[Lead]) -> int:
        return len(ordered)

    def window(self, query: spec.LeadQuery, total: int) -> tuple[int, int]:
        w = spec.page_window(total, page=query.page, limit=query.limit)
        return w.start, w.stop

    def has_more(self, query: spec.LeadQuery, total: int) -> bool:
        return spec.page_window(total, page=query.page, limit=query.limit).has_more

    def echo_limit(self, query: spec.LeadQuery) -> int:
        return query.limit

    def present(self, leads: list[Lead]) -> list[Lead]:
        return leads

    def finish(self, query: spec.LeadQuery, body: dict[str, Any]) -> Any:
        return body

    def error(self, code: str, **fields: Any) -> httpx.Response:
        error = spec.ERRORS[code]
        return self.respond(error.status, error.body(limit=1000, **fields))

    def respond(self, status: int, body: Any) -> httpx.Response:
        return httpx.Response(
            status, content=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        )


def mutant(**steps: Callable[..., Any]) -> type[FakeApi]:
    """A FakeApi with the given steps replaced."""
    return type("Mutant", (FakeApi,), steps)


def _defaulting(query_string: str, default_limit: int) -> spec.LeadQuery:
    pairs = parse_qsl(query_string, keep_blank_values=True)
    query = spec.parse_query(pairs)
    return query if "limit" in query.given else query.with_(limit=default_limit)


#: The filters whose value is text (every declared one but the listing's boolean).
_TEXT_FILTERS: Final = frozenset(f.name for f in spec.FILTERS if f.kind != "listing")


def _clamping(raw: str) -> spec.LeadQuery:
    """Where the page is silent, a server may clamp bad values instead of refusing them."""
    values: dict[str, Any] = {}
    for name, value in parse_qsl(raw, keep_blank_values=True):
        if name in ("limit", "page"):
            number = int(value) if value.lstrip("-").isdigit() else 1
            values[name] = max(1, min(number, spec.MAX_LIMIT if name == "limit" else 10**6))
        elif name == "archived":
            values[name] = value == "true"
        elif name in _TEXT_FILTERS:
            values[name] = value or None
    return spec.LeadQuery().with_(**values)


def _case_sensitive(query: spec.LeadQuery, lead: Lead) -> bool:
    needle = query.search
    other = spec.matches(query.with_(search=None), lead)
    return other and (needle is None or any(needle in t for t in spec.search_texts(lead)))


def _stage_ignoring_case(query: spec.LeadQuery, lead: Lead) -> bool:
    stage = lead.get("stage")
    wanted = query.stage
    same = wanted is None or (isinstance(stage, str) and stage.lower() == wanted.lower())
    return same and spec.matches(query.with_(stage=None), lead)


def _nulls(leads: list[Lead]) -> list[Lead]:
    out = []
    for lead in leads:
        lead = dict(lead)
        for name in ("notes", "assigned_to", "follow_up_date", "property_street2", "archived_at"):
            lead[name] = None
        lead.pop("lead_source", None)
        out.append(lead)
    return out


def _error_with(code: str, status: int) -> Callable[..., httpx.Response | None]:
    def authenticate(self: FakeApi, key: str | None) -> httpx.Response | None:
        if key and key not in KEYS:
            return self.respond(status, {"status": "error", "message": "Invalid API key", "error_code": code})
        return FakeApi.authenticate(self, key)

    return authenticate


#: Servers that keep every documented rule but choose differently where the page is silent.
VARIANTS: dict[str, type[FakeApi]] = {
    "correct": FakeApi,
    "default_limit_20": mutant(parse=lambda self, raw: _defaulting(raw, 20)),
    "default_limit_100": mutant(parse=lambda self, raw: _defaulting(raw, 100)),
    "clamps_bad_values": mutant(parse=lambda self, raw: _clamping(raw)),
    "search_case_sensitive": mutant(matches=lambda self, q, lead: _case_sensitive(q, lead)),
    "stage_ignoring_case": mutant(matches=lambda self, q, lead: _stage_ignoring_case(q, lead)),
    "unknown_key_403": mutant(authenticate=_error_with("FORBIDDEN", 403)),
    "unknown_key_401_unauthorized": mutant(authenticate=_error_with("UNAUTHORIZED", 401)),
    "null_and_absent_fields": mutant(present=lambda self, leads: _nulls(leads)),
    "ties_by_id_ascending": mutant(
        order=lambda self, leads: sorted(
            sorted(leads, key=lambda lead: lead["id"]),
            key=lambda lead: spec.order_key(lead)[0],
            reverse=True,
        )
    ),
    "extra_fields": mutant(present=lambda self, leads: [{**lead, "score_v2": 1} for lead in leads]),
    "validation_code_differs": mutant(
        bad_parameter=lambda self, exc: self.respond(
            422, {"status": "error", "message": str(exc), "error_code": "INVALID_PARAMETER"}
        )
    ),
}


class _ManyChoices(FakeApi):
    """A correct server that chooses otherwise than this project wherever the page allows, all
    at once: default limit 25; numbers clamped, other bad values refused with 422 INVALID_REQUEST
    (a repeated parameter: the last one wins; archived=maybe: false; a long search: accepted);
    undocumented parameters refused; parameters checked before the key; an unknown key 403;
    case-sensitive search, stage in any case, tags in any case; ties by id ascending; null
    fields left out; an undocumented field on leads and in the pagination; its own headers."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/open-api/leads":
            try:
                self.parse(request.url.query.decode())
            except spec.ParameterError as exc:
                return self.bad_parameter(exc)
        return super().__call__(request)

    def parse(self, raw: str) -> spec.LeadQuery:
        values: dict[str, Any] = {}
        for name, value in parse_qsl(raw, keep_blank_values=True):
            if name not in spec.PARAMETERS:
                raise spec.ParameterError(name, f"Unknown query parameter '{name}'.")
            if name in ("limit", "page"):
                if not re.fullmatch(r"-?[0-9]{1,9}", value):
                    raise spec.ParameterError(name, f"{name} must be a whole number, got '{value}'")
                values[name] = max(1, min(int(value), spec.MAX_LIMIT if name == "limit" else 10**6))
            elif name == "archived":
                values[name] = value.lower() == "true"
            else:
                values[name] = value or None
        query = spec.LeadQuery().with_(**values)
        return query if "limit" in values else query.with_(limit=25)

    def bad_parameter(self, exc: spec.ParameterError) -> httpx.Response:
        body = {"status": "error", "message": str(exc), "error_code": "INVALID_REQUEST"}
        return self.respond(422, body)

    def authenticate(self, key: str | None) -> httpx.Response | None:
        if key and key not in KEYS:
            return self.respond(
                403, {"status": "error", "message": "Invalid API key", "error_code": "FORBIDDEN"}
            )
        return FakeApi.authenticate(self, key)

    def matches(self, query: spec.LeadQuery, lead: Lead) -> bool:
        readings = {"search": "case_sensitive", "stage": "case_insensitive", "tags": "trimmed_any_case"}
        return spec.matches(query, lead, readings)

    def order(self, leads: list[Lead]) -> list[Lead]:
        return spec.newest_first(leads, "id_ascending")

    def present(self, leads: list[Lead]) -> list[Lead]:
        return [
            {
                **{k: v for k, v in lead.items() if v is not None},
                "team": ("east", "west")[int(lead["id"][-1], 16) % 2],
            }
            for lead in leads
        ]

    def finish(self, query: spec.LeadQuery, body: dict[str, Any]) -> Any:
        body["pagination"]["pages"] = -(-body["pagination"]["total"] // query.limit)
        return body

    def respond(self, status: int, body: Any) -> httpx.Response:
        return httpx.Response(
            status,
            content=json.dumps(body).encode(),
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "X-Rate-Limit-Limit": "1000",
                "X-Rate-Limit-Remaining": "998",
                "X-Request-Id": "req-0001",
            },
        )


VARIANTS["many_choices_at_once"] = _ManyChoices


def _reverse(leads: list[Lead]) -> list[Lead]:
    return list(reversed(spec.newest_first(leads)))


def _all_tags(query: spec.LeadQuery, lead: Lead) -> bool:
    wanted = query.tag_list
    return spec.matches(query.with_(tags=None), lead) and all(t in (lead.get("tags") or []) for t in wanted)


def _first_tag(query: spec.LeadQuery, lead: Lead) -> bool:
    first = query.tag_list[:1]
    return spec.matches(query.with_(tags=",".join(first) or None), lead)


def _name_only(query: spec.LeadQuery, lead: Lead) -> bool:
    needle = (query.search or "").lower()
    name = lead.get("name") or ""
    return spec.matches(query.with_(search=None), lead) and needle in name.lower()


def _prefix(query: spec.LeadQuery, lead: Lead) -> bool:
    needle = (query.search or "").lower()
    return spec.matches(query.with_(search=None), lead) and any(
        t.lower().startswith(needle) for t in spec.search_texts(lead)
    )


def _like(query: spec.LeadQuery, lead: Lead) -> bool:
    """search as an unescaped SQL LIKE: % and _ are wildcards."""
    import re

    if query.search is None:
        return spec.matches(query, lead)
    pattern = re.escape(query.search.lower()).replace("%", ".*").replace("_", ".")
    rest = spec.matches(query.with_(search=None), lead)
    return rest and any(re.search(pattern, t.lower()) for t in spec.search_texts(lead))


def _set_field(path: str, value: Any) -> Callable[..., Any]:
    def finish(self: FakeApi, query: spec.LeadQuery, body: dict[str, Any]) -> Any:
        try:
            node, key = locate(body, path)
        except IndexError:  # an empty page has no lead to break
            return body
        node[key] = value
        return body

    return finish


def _crash_on(condition: Callable[[str], bool]) -> Callable[..., spec.LeadQuery]:
    def parse(self: FakeApi, raw: str) -> spec.LeadQuery:
        if condition(raw):
            raise RuntimeError("boom")
        return spec.parse_query_string(raw)

    return parse


class _Crashing(FakeApi):
    def __call__(self, request: httpx.Request) -> httpx.Response:
        try:
            return super().__call__(request)
        except RuntimeError:
            return httpx.Response(
                500, content=b"<html>Internal Server Error</html>", headers={"Content-Type": "text/html"}
            )


def _crashing(condition: Callable[[str], bool]) -> type[FakeApi]:
    return type("Mutant", (_Crashing,), {"parse": _crash_on(condition)})


@dataclass(frozen=True)
class Broken:
    """A server that breaks one documented rule, and the rule the suite must name."""

    api: type[FakeApi]
    rule: str


#: Servers that each break one documented rule.
MUTANTS: dict[str, Broken] = {
    "oldest_first": Broken(mutant(order=lambda self, leads: _reverse(leads)), "order.newest_first"),
    "ordered_by_id": Broken(
        mutant(order=lambda self, leads: sorted(leads, key=lambda x: x["id"])), "order.newest_first"
    ),
    "archived_always_shown": Broken(
        mutant(matches=lambda self, q, lead: spec.matches(q.with_(archived=True), lead)), "filter.archived"
    ),
    "stage_ignored": Broken(
        mutant(matches=lambda self, q, lead: spec.matches(q.with_(stage=None), lead)), "filter.stage"
    ),
    "tags_ignored": Broken(
        mutant(matches=lambda self, q, lead: spec.matches(q.with_(tags=None), lead)), "filter.tags.any"
    ),
    "tags_all_of": Broken(mutant(matches=lambda self, q, lead: _all_tags(q, lead)), "filter.tags.any"),
    "tags_first_only": Broken(mutant(matches=lambda self, q, lead: _first_tag(q, lead)), "filter.tags.any"),
    "search_ignored": Broken(
        mutant(matches=lambda self, q, lead: spec.matches(q.with_(search=None), lead)), "filter.search"
    ),
    "search_name_only": Broken(mutant(matches=lambda self, q, lead: _name_only(q, lead)), "filter.search"),
    "search_prefix_only": Broken(mutant(matches=lambda self, q, lead: _prefix(q, lead)), "filter.search"),
    "search_unescaped_like": Broken(mutant(matches=lambda self, q, lead: _like(q, lead)), "filter.search"),
    "limit_ignored": Broken(
        mutant(parse=lambda self, raw: _defaulting(raw.replace("limit=", "x="), 50)), "page.limit_max"
    ),
    "limit_capped_at_100": Broken(
        mutant(
            parse=lambda self, raw: (lambda q: q.with_(limit=min(q.limit, 100)))(spec.parse_query_string(raw))
        ),
        "page.limit_max",
    ),
    "page_zero_based": Broken(
        mutant(window=lambda self, q, total: FakeApi.window(self, q.with_(page=q.page + 1), total)),
        "page.one_based",
    ),
    "page_ignored": Broken(mutant(window=lambda self, q, total: (0, min(q.limit, total))), "page.one_based"),
    "total_is_page_size": Broken(
        mutant(total=lambda self, q, ordered: len(ordered[q.offset : q.offset + q.limit])), "page.total"
    ),
    "total_off_by_one": Broken(mutant(total=lambda self, q, ordered: len(ordered) + 1), "page.total"),
    "has_more_always_false": Broken(mutant(has_more=lambda self, q, total: False), "page.has_more"),
    "has_more_off_by_one": Broken(
        mutant(has_more=lambda self, q, total: q.page * q.limit <= total), "page.has_more"
    ),
    "echoes_default_limit": Broken(mutant(echo_limit=lambda self, q: 50), "page.limit_max"),
    "past_end_repeats_last_page": Broken(
        mutant(
            window=lambda self, q, total: FakeApi.window(
                self, q.with_(page=min(q.page, max(1, -(-total // q.limit)))), total
            )
        ),
        "page.past_end",
    ),
    "status_missing": Broken(
        mutant(finish=lambda self, q, body: {k: v for k, v in body.items() if k != "status"}), "schema.shape"
    ),
    "priority_outside_enum": Broken(mutant(finish=_set_field("data.0.priority", "urgent")), "schema.shape"),
    "created_at_as_epoch": Broken(mutant(finish=_set_field("data.0.created_at", 1767225600)), "schema.shape"),
    "total_as_string": Broken(
        mutant(
            finish=lambda self, q, body: {
                **body,
                "pagination": {**body["pagination"], "total": str(body["pagination"]["total"])},
            }
        ),
        "schema.shape",
    ),
    "data_null_when_empty": Broken(
        mutant(finish=lambda self, q, body: {**body, "data": body["data"] or None}), "schema.shape"
    ),
    "html_content_type": Broken(
        mutant(
            respond=lambda self, status, body: httpx.Response(
                status, content=json.dumps(body).encode(), headers={"Content-Type": "text/html"}
            )
        ),
        "schema.shape",
    ),
    "missing_key_without_code": Broken(
        mutant(
            authenticate=lambda self, key: (
                self.respond(401, {"status": "error", "message": "Unauthorized"})
                if not key
                else FakeApi.authenticate(self, key)
            )
        ),
        "error.missing_key",
    ),
    "missing_key_accepted": Broken(
        mutant(authenticate=lambda self, key: None if not key else FakeApi.authenticate(self, key)),
        "error.missing_key",
    ),
    "no_scope_is_401": Broken(
        mutant(
            authenticate=lambda self, key: (
                self.error("AUTHENTICATION_REQUIRED")
                if KEYS.get(key or "") == "no-scope"
                else FakeApi.authenticate(self, key)
            )
        ),
        "error.scope",
    ),
    "quota_not_enforced": Broken(
        mutant(
            authenticate=lambda self, key: (
                None if KEYS.get(key or "") == "exhausted" else FakeApi.authenticate(self, key)
            )
        ),
        "error.daily_limit",
    ),
    "bad_limit_crashes": Broken(
        _crashing(lambda raw: "limit=abc" in raw or "limit=0" in raw), "error.server"
    ),
    "quote_in_search_crashes": Broken(_crashing(lambda raw: "%27" in raw), "error.server"),
}


def leads(count: int, *, seed: int = 3) -> list[Lead]:
    return list(generate_leads(count, seed=seed))


MUTANTS["window_one_too_long"] = Broken(
    mutant(window=lambda self, q, total: (q.offset, min(q.offset + q.limit + 1, total))), "page.limit_max"
)
