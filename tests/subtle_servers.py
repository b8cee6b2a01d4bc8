"""Servers that break one documented rule in a subtle, realistic way (only in some filter
combinations, only on later pages or at a boundary, only for rare records, only on a repeated
request), and correct servers that differ where the contract allows. Built on ``FakeApi``.

The suite must fail every server of :data:`SUBTLE` and pass every server of :data:`CORRECT`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl, unquote

import httpx

from rotor_leads import spec
from tests.fake_api import KEYS, FakeApi, leads, mutant

Lead = dict[str, Any]


# -- data with rare records ---------------------------------------------------------------------


def rare_leads(count: int = 120, *, seed: int = 3) -> list[Lead]:
    """Generated leads with a few rare records: punctuation and non-ASCII in names, a phone with
    a leading +, an email with a +, a lead with four tags, leads without tags or stage."""
    out = leads(count, seed=seed)
    edits: dict[int, dict[str, Any]] = {
        5: {"name": "Mary O'Brien"},
        17: {"name": "José Núñez-Peña"},
        23: {"phone": "+1 415-555-0134"},
        31: {"email": "ann.lee+crm@example.com"},
        40: {"tags": ["vip", "solar", "insurance", "financing"]},
        44: {"tags": ["hvac", "insurance"]},
        52: {"tags": None, "stage": None},
        60: {"name": "D'Angelo St. James"},
    }
    for index, fields in edits.items():
        if index < len(out):
            out[index] = {**out[index], **fields}
    return out


def _params(request: httpx.Request) -> list[tuple[str, str]]:
    return parse_qsl(request.url.query.decode(), keep_blank_values=True)


def _only(query: spec.LeadQuery, **kept: Any) -> spec.LeadQuery:
    return query.with_(**kept)


# -- ordering -----------------------------------------------------------------------------------


class _UnstableTies(FakeApi):
    """Ties in created_at come back in a new order on every request (no tie-break in the SQL)."""

    def __init__(self, data: list[Lead]) -> None:
        super().__init__(data)
        self.rng = random.Random(7)

    def order(self, leads: list[Lead]) -> list[Lead]:
        shuffled = list(leads)
        self.rng.shuffle(shuffled)
        return sorted(shuffled, key=lambda lead: spec.order_key(lead)[0], reverse=True)


def _with_offsets(data: list[Lead]) -> list[Lead]:
    """The same instants, written with other UTC offsets (RFC 3339 allows any)."""
    zones = [timezone(timedelta(hours=h)) for h in (-8, -5, 0, 2, 5, 9)]
    out = []
    for i, lead in enumerate(data):
        moment = spec.parse_timestamp(lead["created_at"])
        assert moment is not None
        local = moment.astimezone(zones[i % len(zones)]).isoformat(timespec="milliseconds")
        out.append({**lead, "created_at": local})
    return out


class _SortsText(FakeApi):
    """Orders created_at as text, which is right only while every offset is the same."""

    def order(self, leads: list[Lead]) -> list[Lead]:
        return sorted(leads, key=lambda lead: (lead["created_at"], lead["id"]), reverse=True)


class _SortsAfterSlicing(FakeApi):
    """Slices the page out of the stored order, then sorts only the page."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        response = super().__call__(request)
        return response

    def order(self, leads: list[Lead]) -> list[Lead]:
        return sorted(leads, key=lambda lead: lead["id"])  # storage order

    def present(self, leads: list[Lead]) -> list[Lead]:
        return spec.newest_first(leads)


class _LaterPagesReversed(FakeApi):
    def finish(self, query: spec.LeadQuery, body: dict[str, Any]) -> Any:
        if query.page >= 2:
            body["data"] = list(reversed(body["data"]))
        return body


class _DayThenName(FakeApi):
    """ORDER BY date(created_at) DESC, name: leads of one day are ordered by name."""

    def order(self, leads: list[Lead]) -> list[Lead]:
        by_name = sorted(leads, key=lambda lead: str(lead.get("name") or ""))
        return sorted(by_name, key=lambda lead: spec.order_key(lead)[0].date(), reverse=True)


# -- pagination ---------------------------------------------------------------------------------


def _window(
    rule: Callable[[spec.LeadQuery, int, int, int], tuple[int, int]],
) -> Callable[..., tuple[int, int]]:
    def window(self: FakeApi, query: spec.LeadQuery, total: int) -> tuple[int, int]:
        start, stop = FakeApi.window(self, query, total)
        return rule(query, total, start, stop)

    return window


def _offset_from_page_3(q: spec.LeadQuery, total: int, start: int, stop: int) -> tuple[int, int]:
    if q.page >= 3:
        return max(0, start - 1), max(0, stop - 1)
    return start, stop


def _drops_last_lead(q: spec.LeadQuery, total: int, start: int, stop: int) -> tuple[int, int]:
    return (start, stop - 1) if stop == total and stop > start + 1 else (start, stop)


def _has_more_by_length(self: FakeApi, query: spec.LeadQuery, total: int) -> bool:
    start, stop = FakeApi.window(self, query, total)
    return stop - start == query.limit


def _total_remaining(self: FakeApi, query: spec.LeadQuery, ordered: list[Lead]) -> int:
    return len(ordered) - query.offset if query.page > 1 else len(ordered)


class _FarPageCrashes(FakeApi):
    def __call__(self, request: httpx.Request) -> httpx.Response:
        page = dict(_params(request)).get("page", "1")
        if page.isdigit() and int(page) > 10_000:
            return self.respond(500, {"status": "error", "message": "Internal server error"})
        return super().__call__(request)


class _PastEnd404(FakeApi):
    def window(self, query: spec.LeadQuery, total: int) -> tuple[int, int]:
        return FakeApi.window(self, query, total)

    def finish(self, query: spec.LeadQuery, body: dict[str, Any]) -> Any:
        if not body["data"] and query.page > 1:
            return {"status": "error", "message": "Page not found", "error_code": "NOT_FOUND"}
        return body


class _PastEnd404Status(_PastEnd404):
    def respond(self, status: int, body: Any) -> httpx.Response:
        if isinstance(body, dict) and body.get("error_code") == "NOT_FOUND":
            status = 404
        return super().respond(status, body)


class _LimitMaxRefused(FakeApi):
    def parse(self, raw: str) -> spec.LeadQuery:
        query = spec.parse_query_string(raw)
        if query.limit >= spec.MAX_LIMIT:
            raise spec.ParameterError("limit", "Invalid value for 'limit'. Give an integer from 1 to 999.")
        return query


def _echo_default_limit_later(self: FakeApi, query: spec.LeadQuery) -> int:
    return spec.DEFAULT_LIMIT if query.page > 1 else query.limit


class _PageEchoClamped(FakeApi):
    def finish(self, query: spec.LeadQuery, body: dict[str, Any]) -> Any:
        total = body["pagination"]["total"]
        last = max(1, -(-total // query.limit))
        body["pagination"]["page"] = min(query.page, last)
        return body


# -- filters ------------------------------------------------------------------------------------


def _archived_truthy_text(self: FakeApi, raw: str) -> spec.LeadQuery:
    query = spec.parse_query_string(raw)
    if "archived" in query.given:
        return query.with_(archived=True)  # if params.get("archived"): any text is true
    return query


def _archived_only(self: FakeApi, q: spec.LeadQuery, lead: Lead) -> bool:
    if q.archived:
        return spec.matches(q, lead) and spec.is_archived(lead)
    return spec.matches(q, lead)


def _archived_ignored_with(parameter: str) -> Callable[..., bool]:
    def matches(self: FakeApi, q: spec.LeadQuery, lead: Lead) -> bool:
        if getattr(q, parameter) is not None:
            return spec.matches(q.with_(archived=False), lead)
        return spec.matches(q, lead)

    return matches


def _stage_or_tags(self: FakeApi, q: spec.LeadQuery, lead: Lead) -> bool:
    if q.stage is not None and q.tag_list:
        rest = q.with_(stage=None, tags=None)
        either = spec.matches(q.with_(tags=None), lead) or spec.matches(q.with_(stage=None), lead)
        return either and spec.matches(rest, lead)
    return spec.matches(q, lead)


def _all_of_from_three(self: FakeApi, q: spec.LeadQuery, lead: Lead) -> bool:
    if len(q.tag_list) >= 3:
        tags = lead.get("tags") or []
        return spec.matches(q.with_(tags=None), lead) and all(t in tags for t in q.tag_list)
    return spec.matches(q, lead)


def _first_tag_of_lead(self: FakeApi, q: spec.LeadQuery, lead: Lead) -> bool:
    tags = (lead.get("tags") or [])[:1]
    return spec.matches(q.with_(tags=None), lead) and (not q.tag_list or any(t in q.tag_list for t in tags))


class _TagJoinDuplicates(FakeApi):
    """A JOIN on lead_tags without DISTINCT: a lead with two of the tags comes twice."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        try:
            self._query_tags = spec.parse_query_string(request.url.query.decode()).tag_list
        except spec.ParameterError:  # the base answers it: 400
            self._query_tags = ()
        return super().__call__(request)

    def order(self, leads: list[Lead]) -> list[Lead]:
        ordered = spec.newest_first(leads)
        out: list[Lead] = []
        for lead in ordered:
            hits = [t for t in (lead.get("tags") or []) if t in self._query_tags]
            out.extend([lead] * max(1, len(hits)))
        return out


class _TagsOnlyMatching(FakeApi):
    """The tags array of a lead in a tags-filtered answer lists only the tags that matched."""

    def finish(self, query: spec.LeadQuery, body: dict[str, Any]) -> Any:
        if query.tag_list:
            for lead in body["data"]:
                lead["tags"] = [t for t in lead.get("tags") or [] if t in query.tag_list]
        return body


def _search_fields(*fields: str) -> Callable[..., bool]:
    def matches(self: FakeApi, q: spec.LeadQuery, lead: Lead) -> bool:
        if q.search is None:
            return spec.matches(q, lead)
        needle = q.search.lower()
        texts = [lead.get(f) for f in fields]
        hit = any(isinstance(t, str) and needle in t.lower() for t in texts)
        return hit and spec.matches(q.with_(search=None), lead)

    return matches


def _short_search_empty(self: FakeApi, q: spec.LeadQuery, lead: Lead) -> bool:
    if q.search is not None and len(q.search) < 3:
        return False  # a trigram index finds nothing shorter than three characters
    return spec.matches(q, lead)


def _search_truncated(self: FakeApi, q: spec.LeadQuery, lead: Lead) -> bool:
    if q.search is not None and len(q.search) > 12:
        return spec.matches(q.with_(search=q.search[:12]), lead)
    return spec.matches(q, lead)


def _plus_as_space(self: FakeApi, raw: str) -> spec.LeadQuery:
    # Decodes the query string once too often: %2B becomes +, then + becomes a space.
    return spec.parse_query_string(unquote(raw))


def _apostrophe_stripped(self: FakeApi, q: spec.LeadQuery, lead: Lead) -> bool:
    if q.search is not None and "'" in q.search:
        return spec.matches(q.with_(search=q.search.replace("'", "")), lead)
    return spec.matches(q, lead)


def _search_notes_too(self: FakeApi, q: spec.LeadQuery, lead: Lead) -> bool:
    if q.search is not None:
        notes = lead.get("notes")
        if isinstance(notes, str) and q.search.lower() in notes.lower():
            return spec.matches(q.with_(search=None), lead)
    return spec.matches(q, lead)


def _search_total_counts_archived(self: FakeApi, q: spec.LeadQuery, ordered: list[Lead]) -> int:
    if q.search is not None and not q.archived:
        return sum(1 for lead in self.leads if spec.matches(q.with_(archived=True), lead))
    return len(ordered)


def _search_dot_wildcard(self: FakeApi, q: spec.LeadQuery, lead: Lead) -> bool:
    import re

    if q.search is None or "." not in q.search:
        return spec.matches(q, lead)
    pattern = re.escape(q.search.lower()).replace(r"\.", ".")
    rest = spec.matches(q.with_(search=None), lead)
    return rest and any(re.search(pattern, t.lower()) for t in spec.search_texts(lead))


def _non_ascii_case(self: FakeApi, q: spec.LeadQuery, lead: Lead) -> bool:
    # Folds ASCII only (SQLite's lower()): an upper-case É does not find é, and é finds nothing.
    if q.search is not None and any(ord(c) > 127 for c in q.search):
        return False
    return spec.matches(q, lead)


# -- leads that read differently ------------------------------------------------------------------


class _StageFilterNullsTags(FakeApi):
    def finish(self, query: spec.LeadQuery, body: dict[str, Any]) -> Any:
        if query.stage is not None:
            for lead in body["data"]:
                lead["tags"] = None
        return body


def _rare_field(path: str, value: Any, every: int = 97) -> Callable[..., list[Lead]]:
    def present(self: FakeApi, leads: list[Lead]) -> list[Lead]:
        for lead in leads:
            if int(str(lead["id"]).replace("-", "")[:6], 16) % every == 0:
                lead[path] = value
        return leads

    return present


# -- auth and errors ------------------------------------------------------------------------------


class _CachesByUrl(FakeApi):
    """A response cache in front of the API, keyed by URL only: a URL served with a key is
    served again without one."""

    def __init__(self, data: list[Lead]) -> None:
        super().__init__(data)
        self.cache: dict[str, httpx.Response] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        if url in self.cache and request.url.query:
            cached = self.cache[url]
            return httpx.Response(cached.status_code, content=cached.content, headers=cached.headers)
        response = super().__call__(request)
        if response.status_code == 200:
            self.cache[url] = response
        return response


class _ScopeOnlyWithoutParameters(FakeApi):
    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.query and KEYS.get(request.headers.get("x-api-key", "")) == "no-scope":
            request.headers["x-api-key"] = "good-key-0123456789"
        return super().__call__(request)


class _QuotaOnlyWithoutParameters(FakeApi):
    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.query and KEYS.get(request.headers.get("x-api-key", "")) == "exhausted":
            request.headers["x-api-key"] = "good-key-0123456789"
        return super().__call__(request)


class _ErrorsAsText(FakeApi):
    def respond(self, status: int, body: Any) -> httpx.Response:
        response = super().respond(status, body)
        if status >= 400:
            response.headers["Content-Type"] = "text/plain"
        return response


def _message(code: str, text: str) -> Callable[..., httpx.Response]:
    def error(self: FakeApi, error_code: str, **fields: Any) -> httpx.Response:
        response = FakeApi.error(self, error_code, **fields)
        if error_code == code:
            body = spec.ERRORS[code].body(limit=1000, **fields)
            body["message"] = text
            return self.respond(response.status_code, body)
        return response

    return error


# -- repeated requests ----------------------------------------------------------------------------


class _CacheIgnoresPage(FakeApi):
    def __init__(self, data: list[Lead]) -> None:
        super().__init__(data)
        self.cache: dict[tuple[Any, ...], bytes] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        query = dict(_params(request))
        key = (
            request.headers.get("x-api-key"),
            tuple(sorted((k, v) for k, v in query.items() if k != "page")),
        )
        response = super().__call__(request)
        if response.status_code != 200:
            return response
        if key in self.cache and query.get("page", "1") != "1":
            return httpx.Response(200, content=self.cache[key], headers=response.headers)
        self.cache[key] = response.content
        return response


class _SecondCallLosesOne(FakeApi):
    """The second identical request is answered from a stale count (one lead fewer)."""

    def __init__(self, data: list[Lead]) -> None:
        super().__init__(data)
        self.seen: set[str] = set()

    def total(self, query: spec.LeadQuery, ordered: list[Lead]) -> int:
        key = repr(query)
        again = key in self.seen
        self.seen.add(key)
        return len(ordered) - 1 if again and ordered else len(ordered)


#: Servers that each break one documented rule, subtly; the rule the suite should name.
SUBTLE: dict[str, tuple[type[FakeApi], list[Lead] | None]] = {
    "ties_unstable": (_UnstableTies, None),
    "orders_timestamps_as_text": (_SortsText, "offsets"),  # type: ignore[dict-item]
    "sorts_after_slicing": (_SortsAfterSlicing, None),
    "later_pages_reversed": (_LaterPagesReversed, None),
    "day_then_name_order": (_DayThenName, None),
    "offset_off_by_one_from_page_3": (mutant(window=_window(_offset_from_page_3)), None),
    "last_page_drops_last_lead": (mutant(window=_window(_drops_last_lead)), None),
    "has_more_by_page_length": (mutant(has_more=_has_more_by_length), None),
    "total_is_remaining_on_later_pages": (mutant(total=_total_remaining), None),
    "far_page_crashes": (_FarPageCrashes, None),
    "past_end_is_an_error_body": (_PastEnd404, None),
    "past_end_is_404": (_PastEnd404Status, None),
    "limit_1000_refused": (_LimitMaxRefused, None),
    "limit_echo_default_on_later_pages": (mutant(echo_limit=_echo_default_limit_later), None),
    "page_echo_clamped_past_end": (_PageEchoClamped, None),
    "archived_false_is_true": (mutant(parse=_archived_truthy_text), None),
    "archived_true_only_archived": (mutant(matches=_archived_only), None),
    "archived_ignored_with_search": (mutant(matches=_archived_ignored_with("search")), None),
    "archived_ignored_with_stage": (mutant(matches=_archived_ignored_with("stage")), None),
    "stage_or_tags": (mutant(matches=_stage_or_tags), None),
    "tags_all_of_from_three": (mutant(matches=_all_of_from_three), None),
    "tags_first_tag_of_lead_only": (mutant(matches=_first_tag_of_lead), None),
    "tags_join_duplicates": (_TagJoinDuplicates, None),
    "tags_only_matching_listed": (_TagsOnlyMatching, None),
    "search_not_phone": (mutant(matches=_search_fields("name", "email")), None),
    "search_not_email": (mutant(matches=_search_fields("name", "phone")), None),
    "search_short_terms_find_nothing": (mutant(matches=_short_search_empty), None),
    # Found by a long term whose first 12 characters other leads share: it takes more leads.
    "search_truncated_to_12": (mutant(matches=_search_truncated), "more"),
    "search_plus_decoded_twice": (mutant(parse=_plus_as_space), "rare"),  # type: ignore[dict-item]
    "search_apostrophe_stripped": (mutant(matches=_apostrophe_stripped), "rare"),  # type: ignore[dict-item]
    "search_also_notes": (mutant(matches=_search_notes_too), None),
    "search_total_counts_archived": (mutant(total=_search_total_counts_archived), None),
    "search_dot_is_a_wildcard": (mutant(matches=_search_dot_wildcard), "rare"),  # type: ignore[dict-item]
    "search_non_ascii_finds_nothing": (mutant(matches=_non_ascii_case), "rare"),  # type: ignore[dict-item]
    "stage_filter_nulls_tags": (_StageFilterNullsTags, None),
    "rare_lead_priority_urgent": (mutant(present=_rare_field("priority", "urgent")), None),
    "rare_lead_created_at_without_offset": (
        mutant(present=_rare_field("created_at", "2026-01-01T10:00:00")),
        None,
    ),
    "cache_by_url_ignores_key": (_CachesByUrl, None),
    "scope_checked_only_without_parameters": (_ScopeOnlyWithoutParameters, None),
    "quota_checked_only_without_parameters": (_QuotaOnlyWithoutParameters, None),
    "errors_as_text_plain": (_ErrorsAsText, None),
    "missing_key_message_differs": (
        mutant(error=_message("AUTHENTICATION_REQUIRED", "Authentication required.")),
        None,
    ),
    "cache_ignores_page": (_CacheIgnoresPage, None),
    "second_identical_request_loses_a_lead": (_SecondCallLosesOne, None),
}


def data_for(kind: Any) -> list[Lead]:
    if kind == "big":
        return rare_leads(1500, seed=12)
    if kind == "rare":
        return rare_leads()
    if kind == "more":
        return rare_leads(260)
    if kind == "offsets":
        return _with_offsets(rare_leads())
    return rare_leads()


# -- correct servers that choose differently ------------------------------------------------------


def _drop_nulls(leads_: list[Lead]) -> list[Lead]:
    return [{k: v for k, v in lead.items() if v is not None} for lead in leads_]


def _micro(data: list[Lead]) -> list[Lead]:
    out = []
    for lead in data:
        moment = spec.parse_timestamp(lead["created_at"])
        assert moment is not None
        out.append({**lead, "created_at": moment.isoformat(timespec="microseconds").replace("+00:00", "Z")})
    return out


class _TiesByPosition(FakeApi):
    """Ties in the order they were stored (a stable sort), not by id."""

    def order(self, leads: list[Lead]) -> list[Lead]:
        return sorted(leads, key=lambda lead: spec.order_key(lead)[0], reverse=True)


class _CharsetAndHeaders(FakeApi):
    def respond(self, status: int, body: Any) -> httpx.Response:
        response = super().respond(status, body)
        response.headers["Content-Type"] = "application/json; charset=utf-8"
        response.headers["X-RateLimit-Limit"] = "1000"
        return response


CORRECT: dict[str, tuple[type[FakeApi], Callable[[list[Lead]], list[Lead]]]] = {
    "other_offsets_ordered_by_instant": (FakeApi, _with_offsets),
    "ties_in_stored_order": (_TiesByPosition, lambda d: d),
    "null_fields_omitted": (mutant(present=lambda self, leads_: _drop_nulls(leads_)), lambda d: d),
    "microsecond_timestamps": (FakeApi, _micro),
    "charset_and_rate_limit_headers": (_CharsetAndHeaders, lambda d: d),
    "big_data_set": (FakeApi, lambda d: leads(1100, seed=11)),  # two pages at limit=1000
}


# -- a second batch, written after the suite, to check it does not fit only the first ------------


def _has_more_full_first_page(self: FakeApi, query: spec.LeadQuery, total: int) -> bool:
    if query.page == 1 and total == query.limit:
        return True
    return FakeApi.has_more(self, query, total)


def _archived_tags_total(self: FakeApi, q: spec.LeadQuery, ordered: list[Lead]) -> int:
    if q.archived and q.tag_list:
        return sum(1 for lead in self.leads if spec.matches(q.with_(archived=False), lead))
    return len(ordered)


def _search_or_stage(self: FakeApi, q: spec.LeadQuery, lead: Lead) -> bool:
    if q.search is not None and q.stage is not None:
        rest = spec.matches(q.with_(search=None, stage=None), lead)
        return rest and (spec.matches(q.with_(stage=None), lead) or spec.matches(q.with_(search=None), lead))
    return spec.matches(q, lead)


def _all_of_for_two(self: FakeApi, q: spec.LeadQuery, lead: Lead) -> bool:
    if len(q.tag_list) == 2:
        tags = lead.get("tags") or []
        return spec.matches(q.with_(tags=None), lead) and all(t in tags for t in q.tag_list)
    return spec.matches(q, lead)


def _offset_by_default_limit(q: spec.LeadQuery, total: int, start: int, stop: int) -> tuple[int, int]:
    begin = min(total, (q.page - 1) * spec.DEFAULT_LIMIT)
    return begin, min(total, begin + q.limit)


def _overlap_at_1000(q: spec.LeadQuery, total: int, start: int, stop: int) -> tuple[int, int]:
    if q.limit == spec.MAX_LIMIT and q.page > 1:
        return start - 1, stop - 1
    return start, stop


def _word_start(self: FakeApi, q: spec.LeadQuery, lead: Lead) -> bool:
    import re

    if q.search is None:
        return spec.matches(q, lead)
    needle = re.escape(q.search.lower())
    hit = any(re.search(r"(^|[\s@.+\-_])" + needle, t.lower()) for t in spec.search_texts(lead))
    return hit and spec.matches(q.with_(search=None), lead)


def _one_char_ignored(self: FakeApi, q: spec.LeadQuery, lead: Lead) -> bool:
    if q.search is not None and len(q.search) == 1:
        return spec.matches(q.with_(search=None), lead)
    return spec.matches(q, lead)


class _PastEndTotalZero(FakeApi):
    def finish(self, query: spec.LeadQuery, body: dict[str, Any]) -> Any:
        if not body["data"] and query.page > 1:
            body["pagination"]["total"] = 0
        return body


class _PastEndHasMore(FakeApi):
    def finish(self, query: spec.LeadQuery, body: dict[str, Any]) -> Any:
        if not body["data"] and query.page > 1:
            body["pagination"]["has_more"] = True
        return body


class _ArchivedAppended(FakeApi):
    """archived=true: a UNION ALL of the active leads, then the archived ones, unordered."""

    def order(self, leads: list[Lead]) -> list[Lead]:
        ordered = spec.newest_first(leads)
        return [lead for lead in ordered if not spec.is_archived(lead)] + [
            lead for lead in ordered if spec.is_archived(lead)
        ]


class _TiesByPageParity(FakeApi):
    """Deterministic, but ties go one way on odd pages and the other way on even ones."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        page = dict(_params(request)).get("page", "1")
        self._reverse_ties = page.isdigit() and int(page) % 2 == 0
        return super().__call__(request)

    def order(self, leads: list[Lead]) -> list[Lead]:
        by_id = sorted(leads, key=lambda lead: lead["id"], reverse=self._reverse_ties)
        return sorted(by_id, key=lambda lead: spec.order_key(lead)[0], reverse=True)


class _ClampsLimitTo500(FakeApi):
    def parse(self, raw: str) -> spec.LeadQuery:
        query = spec.parse_query_string(raw)
        return query.with_(limit=min(query.limit, 500)) if query.limit > 500 else query


class _SecondExhaustedLacksCode(FakeApi):
    def __init__(self, data: list[Lead]) -> None:
        super().__init__(data)
        self.spent = 0

    def error(self, code: str, **fields: Any) -> httpx.Response:
        if code == "RATE_LIMIT_EXCEEDED":
            self.spent += 1
            if self.spent > 1:
                return self.respond(
                    429, {"status": "error", "message": "Daily API key request limit of 1000 exceeded"}
                )
        return FakeApi.error(self, code, **fields)


class _BomBody(FakeApi):
    def respond(self, status: int, body: Any) -> httpx.Response:
        response = super().respond(status, body)
        if status == 200 and isinstance(body, dict) and not body.get("data"):
            return httpx.Response(
                status, content=b"\xef\xbb\xbf" + response.content, headers=response.headers
            )
        return response


SUBTLE_2: dict[str, tuple[type[FakeApi], Any]] = {
    "has_more_on_a_full_first_page": (mutant(has_more=_has_more_full_first_page), None),
    "archived_tags_total_ignores_archived": (mutant(total=_archived_tags_total), None),
    "search_or_stage": (mutant(matches=_search_or_stage), None),
    "tags_all_of_for_two": (mutant(matches=_all_of_for_two), None),
    "offset_by_default_limit": (mutant(window=_window(_offset_by_default_limit)), None),
    "overlap_at_limit_1000": (mutant(window=_window(_overlap_at_1000)), "big"),
    "search_at_word_start_only": (mutant(matches=_word_start), None),
    "search_one_character_ignored": (mutant(matches=_one_char_ignored), None),
    "past_end_total_zero": (_PastEndTotalZero, None),
    "past_end_has_more_true": (_PastEndHasMore, None),
    "archived_appended_unordered": (_ArchivedAppended, None),
    "ties_by_page_parity": (_TiesByPageParity, None),
    "limit_clamped_to_500": (_ClampsLimitTo500, "big"),
    "second_429_lacks_error_code": (_SecondExhaustedLacksCode, None),
    "empty_pages_start_with_a_bom": (_BomBody, None),
}


# -- broken as real implementations break: a serializer, a SQL shortcut, a hand-written check --


def _each_lead(change: Callable[[Lead, int], None]) -> Callable[..., list[Lead]]:
    def present(self: FakeApi, leads_: list[Lead]) -> list[Lead]:
        for n, lead in enumerate(leads_):
            change(lead, n)
        return leads_

    return present


def _decimal_as_text(lead: Lead, n: int) -> None:
    # A DECIMAL column through a JSON encoder that writes Decimal as a string.
    if isinstance(lead.get("projected_value"), (int, float)):
        lead["projected_value"] = f"{lead['projected_value']:.2f}"


def _serial_id(lead: Lead, n: int) -> None:
    # The table's serial primary key sent instead of the public UUID.
    lead["id"] = int(lead["id"].replace("-", "")[:7], 16)


def _across_fields(query: spec.LeadQuery, lead: Lead) -> bool:
    """``CONCAT_WS(' ', name, email, phone) ILIKE '%term%'``: a term may span two fields."""
    rest = spec.matches(query.with_(search=None), lead)
    if query.search is None:
        return rest
    return rest and query.search.lower() in " ".join(spec.search_texts(lead)).lower()


def _phone_digits(query: spec.LeadQuery, lead: Lead) -> bool:
    """The phone searched in a digits-only column, the term as given: "415-555" finds nothing."""
    rest = spec.matches(query.with_(search=None), lead)
    if query.search is None:
        return rest
    needle = query.search.lower()
    texts = [
        lead.get("name"),
        lead.get("email"),
        "".join(c for c in str(lead.get("phone") or "") if c.isdigit()),
    ]
    return rest and any(isinstance(t, str) and needle in t.lower() for t in texts)


def _tags_like(query: spec.LeadQuery, lead: Lead) -> bool:
    """Tags stored as one comma-joined column, filtered with ``LIKE '%tag%'``."""
    rest = spec.matches(query.with_(tags=None), lead)
    wanted = spec.split_tags(query.tags)
    if not wanted:
        return rest
    joined = ",".join(t for t in (lead.get("tags") or []) if isinstance(t, str))
    return rest and any(t in joined for t in wanted)


class _FiltersAfterPaging(FakeApi):
    """The page is cut from the unfiltered listing, then the search applied in code; the total
    comes from a COUNT that applies it (so it is right)."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self._search = dict(_params(request)).get("search")
        return super().__call__(request)

    def matches(self, query: spec.LeadQuery, lead: Lead) -> bool:
        return spec.matches(query.with_(search=None), lead)

    def total(self, query: spec.LeadQuery, ordered: list[Lead]) -> int:
        return sum(1 for lead in ordered if spec.matches(query, lead))

    def present(self, leads_: list[Lead]) -> list[Lead]:
        if not self._search:
            return leads_
        query = spec.LeadQuery().with_(search=self._search, archived=True)
        return [lead for lead in leads_ if spec.matches(query, lead)]


class _TotalCappedAt1000(FakeApi):
    """``SELECT COUNT(*) FROM (SELECT … LIMIT 1000)``: the count shares the page's cap."""

    def total(self, query: spec.LeadQuery, ordered: list[Lead]) -> int:
        return min(len(ordered), spec.MAX_LIMIT)


class _PageAsOffset(FakeApi):
    """``page`` handed to the ORM's ``offset()``: page 2 skips two leads, not one page."""

    def window(self, query: spec.LeadQuery, total: int) -> tuple[int, int]:
        start = min(query.page - 1, total)
        return start, min(start + query.limit, total)


class _LimitComparedAsText(FakeApi):
    """``if (req.query.limit > "1000")``: the bound checked on the text, "50" > "1000"."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        limit = dict(_params(request)).get("limit")
        if limit is not None and limit.isdigit() and limit > "1000":
            return self.error("VALIDATION_ERROR", detail=f"Invalid value for 'limit': {limit!r}.")
        return super().__call__(request)


#: Each breaks a documented rule the way a real implementation does: (server, data, the rule
#: the suite must name).
SUBTLE_3: dict[str, tuple[type[FakeApi], Any, str]] = {
    "projected_value_as_decimal_text": (mutant(present=_each_lead(_decimal_as_text)), None, "schema.shape"),
    "serial_ids": (mutant(present=_each_lead(_serial_id)), None, "schema.shape"),
    "search_across_fields": (
        mutant(matches=lambda self, q, lead: _across_fields(q, lead)),
        None,
        "filter.search",
    ),
    "search_phone_digits_only": (
        mutant(matches=lambda self, q, lead: _phone_digits(q, lead)),
        None,
        "filter.search",
    ),
    "tags_like_on_joined_column": (
        mutant(matches=lambda self, q, lead: _tags_like(q, lead)),
        None,
        "filter.tags.any",
    ),
    "search_after_paging": (_FiltersAfterPaging, None, "page.total"),
    "total_capped_at_1000": (_TotalCappedAt1000, "big", "page.total"),
    "page_as_offset": (_PageAsOffset, None, "page.walk"),
    "limit_compared_as_text": (_LimitComparedAsText, None, "page.limit_max"),
}
