"""A behaviour profile from what a run saw: the target's choices where the reference page is
silent, each with the request that showed it (``--record-profile``), and what changed since an
earlier profile (``--compare-profile``).

Everything here reads the exchanges the run already made (``Target.exchanges``) and the
snapshot of the listing: recording sends no request of its own. A choice no request showed is
listed as unobserved, with the reason.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Final
from urllib.parse import urlencode, urlsplit

from rotor_leads import spec
from rotor_leads.contract_tests._checks import json_type, rate_limit_names
from rotor_leads.contract_tests._snapshot import Snapshot
from rotor_leads.contract_tests._target import UNKNOWN_KEY, Exchange, Target

#: Headers left out of the profile's other headers: every HTTP server's, those of the
#: transport (a mock that copied Content-Encoding would mislabel its body) and of caching.
_ORDINARY: Final = frozenset(
    {
        "content-type",
        "content-length",
        "content-encoding",
        "connection",
        "keep-alive",
        "transfer-encoding",
        "date",
        "server",
        "vary",
        "set-cookie",
        "age",
        "via",
        "alt-svc",
        "etag",
        "last-modified",
        "expires",
    }
)
#: An undocumented string value kept as an example: a short token several leads share (an
#: enum value), never a name, an address or free text.
_TOKEN: Final = re.compile(r"[a-z0-9][a-z0-9_.-]{0,23}")
#: A header value the profile keeps: short, printable, no "@" (an address), no secret-length run.
_HEADER_TOKEN: Final = re.compile(r"(?!.*[A-Za-z0-9_-]{33})[\x20-\x3f\x41-\x7e]{1,100}")
_SEEN_IN_LENGTH: Final = 100


def _seen_in(ex: Exchange) -> str:
    url = ex.url if len(ex.url) <= _SEEN_IN_LENGTH else ex.url[: _SEEN_IN_LENGTH - 1] + "…"
    return f"GET {url} ({ex.key_name} key) → {ex.status}"


class _Recorder:
    def __init__(self, target: Target, snapshot: Snapshot | None) -> None:
        self.target = target
        self.snapshot = snapshot if snapshot is not None and snapshot.complete else None
        self.choices: dict[str, spec.Choice] = {}
        self.unobserved: dict[str, str] = {}

    def seen(self, params: Sequence[tuple[str, str]] = (), key: str = "main") -> Exchange | None:
        url = self.target.path + ("?" + urlencode(list(params)) if params else "")
        return next((ex for ex in self.target.exchanges if ex.url == url and ex.key_name == key), None)

    def record(self, choice: str, value: Any, ex: Exchange | str) -> None:
        self.choices[choice] = spec.Choice(value, ex if isinstance(ex, str) else _seen_in(ex))

    def miss(self, choice: str, why: str) -> None:
        self.unobserved[choice] = why

    # -- the choices ------------------------------------------------------------------------

    def defaults(self) -> None:
        first = self.seen()
        if first is None or first.status != 200:
            for name in ("limit", "page"):
                self.miss(f"page.default_{name}", "GET /leads with no parameter was not answered with a page")
            return
        for name in ("limit", "page"):
            value = first.pagination.get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                self.record(f"page.default_{name}", value, first)
            else:
                self.miss(f"page.default_{name}", f"pagination.{name} was {value!r}")

    def default_of(self, name: str) -> Any:
        choice = self.choices.get(f"page.default_{name}")
        return choice.value if choice is not None else spec.PARAMETERS[name].default

    def bad_values(self) -> None:
        for kind, params in spec.BAD_VALUE_PROBES.items():
            choice = f"bad_value.{kind}"
            ex = self.seen(params)
            if ex is None:
                self.miss(choice, f"GET /leads?{urlencode(list(params))[:60]} was not sent")
                continue
            outcome = self.bad_value(kind, params, ex)
            if isinstance(outcome, str):
                self.miss(choice, outcome)
            else:
                self.record(choice, outcome, ex)

    def bad_value(self, kind: str, params: Sequence[tuple[str, str]], ex: Exchange) -> dict[str, Any] | str:
        name, raw = params[-1]
        if ex.status >= 500:
            return f"answered {ex.status}, a server error"
        if ex.status != 200:
            return _refusal(ex, {name: "{parameter}", raw: "{value}"})
        if kind == "repeated":
            echoed = ex.pagination.get(name)
            values = [int(v) for _, v in params]
            if echoed in values:
                return {"action": "first" if echoed == values[0] else "last"}
            return f"answered 200 with {name} {echoed!r}, neither value given"
        if kind == "search.too_long":
            return {"action": "accept"}
        if name in ("limit", "page"):
            echoed = ex.pagination.get(name)
            bounds = spec.PARAMETERS[name].bounds
            if bounds is not None and re.fullmatch(r"-?[0-9]+", raw):
                nearest = min(max(int(raw), bounds[0]), bounds[1])
                if echoed == nearest:
                    return {"action": "clamp"}
            if echoed == self.default_of(name):
                return {"action": "default"}
            if isinstance(echoed, int) and not isinstance(echoed, bool):
                return {"action": "value", "value": echoed}
            return f"answered 200 with pagination.{name} {echoed!r}"
        if name == "archived":
            snap = self.snapshot
            total = ex.pagination.get("total")
            if snap is None or len(snap.everything) == len(snap.default):
                return "archived=true and the default listing could not be told apart"
            if total == len(snap.default):
                return {"action": "default"}
            if total == len(snap.everything):
                return {"action": "value", "value": True}
            return f"answered 200 with total {total!r}, neither listing's"
        if kind.endswith(".invalid"):  # a filter of a few values, given none of them
            total = ex.pagination.get("total")
            if self.snapshot is not None and total == len(self.snapshot.default):
                return {"action": "default"}  # as if not given: the filter ignored
            if total == 0:
                return {"action": "accept"}  # taken as given: no lead has it
            return f"answered 200 with total {total!r}, neither none nor the whole listing"
        return {"action": "accept"}

    def unknown_parameters(self) -> None:
        choice = "request.unknown_parameters"
        ex = self.seen(spec.UNKNOWN_PARAMETER_PROBE)
        if ex is None:
            self.miss(choice, "no request with an undocumented parameter was sent")
        elif ex.status == 200:
            self.record(choice, {"action": "ignore"}, ex)
        elif ex.status < 500:
            name, raw = spec.UNKNOWN_PARAMETER_PROBE[0]
            self.record(choice, _refusal(ex, {name: "{parameter}", raw: "{value}"}), ex)
        else:
            self.miss(choice, f"answered {ex.status}, a server error")

    def unknown_key(self) -> Exchange | None:
        choice = "error.unknown_key"
        for ex in self.target.exchanges:
            if ex.key_name == "unknown" and _valid(ex.url):
                if 400 <= ex.status < 500:
                    refusal = _refusal(ex, {UNKNOWN_KEY: "{key}"})
                    self.record(choice, {"status": refusal["status"], "body": refusal["body"]}, ex)
                    return ex
                self.miss(choice, f"a request with an unknown key was answered {ex.status}")
                return None
        self.miss(choice, "no request with an unknown key was sent")
        return None

    def error_order(self, unknown: Exchange | None) -> None:
        choice = "error.order"
        probe = next(
            (ex for ex in self.target.exchanges if ex.key_name == "unknown" and not _valid(ex.url)), None
        )
        if probe is None or unknown is None:
            self.miss(choice, "no bad value was sent with an unknown key")
            return
        bad = self.seen(_pairs(probe.url))
        if _code(probe) == _code(unknown):
            self.record(choice, "key_first", probe)
        elif bad is not None and _code(probe) == _code(bad):
            self.record(choice, "parameters_first", probe)
        else:
            self.miss(choice, f"answered {_code(probe)}, neither the unknown key's nor the bad value's")

    def readings(self) -> None:
        """Each filter's reading: the readings that fit every answer to a query with that
        filter alone, this project's if it fits, else the first (in ``Filter.readings``)."""
        snap = self.snapshot
        for f in spec.FILTERS:
            if not f.assumed_rule_id:
                continue
            choice = f"filter.{f.name}"
            if snap is None:
                self.miss(choice, "the whole listing could not be read")
                continue
            fitting = dict.fromkeys(f.readings)
            told_apart: Exchange | None = None
            for ex in self.target.exchanges:
                query = _alone(ex, f)
                if query is None:
                    continue
                base = snap.everything if query.archived else snap.default
                value = query.get(f.name)
                counts = {name: sum(1 for lead in base if p(value, lead)) for name, p in f.readings.items()}
                fits = {name for name in fitting if counts[name] == ex.pagination.get("total")}
                if told_apart is None and len(set(counts.values())) > 1:
                    told_apart = ex
                fitting = {name: None for name in fitting if name in fits}
            if not fitting:
                self.miss(choice, "the answers fit none of the known readings")
            elif told_apart is None:
                self.miss(choice, "no request told the readings apart (the data did not allow it)")
            else:
                chosen = f.reading if f.reading in fitting else next(iter(fitting))
                self.record(choice, chosen, told_apart)

    def ties(self) -> None:
        snap = self.snapshot
        choice = "order.ties"
        if snap is None:
            self.miss(choice, "the whole listing could not be read")
            return
        groups: list[list[Any]] = []
        times = [spec.parse_timestamp(lead.get("created_at")) for lead in snap.everything]
        start = 0
        for i in range(1, len(times) + 1):
            if i == len(times) or times[i] != times[start]:
                if i - start >= 2 and times[start] is not None:
                    groups.append([str(lead.get("id")) for lead in snap.everything[start:i]])
                start = i
        if not groups:
            self.miss(choice, "no two leads were created at the same instant")
            return
        if all(g == sorted(g, reverse=True) for g in groups):
            order = "id_descending"
        elif all(g == sorted(g) for g in groups):
            order = "id_ascending"
        else:
            order = "as_listed"
        self.record(choice, order, snap.exchanges[0])

    def fields(self) -> None:
        snap = self.snapshot
        leads = snap.everything if snap is not None else []
        if snap is None or not leads:
            for choice in ("lead.fields", "extra_fields"):
                self.miss(choice, "the whole listing could not be read, or it is empty")
            return
        documented = set(spec.documented_fields("Lead"))
        presence = {}
        for name in sorted(documented):
            values = [lead[name] for lead in leads if name in lead]
            if len(values) == len(leads):
                presence[name] = "always"
            elif not values:
                presence[name] = "never"
            elif any(v is None for v in values):
                continue  # left out in some leads and null in others: no rule to record
            elif any(v in ("", []) for v in values):
                presence[name] = "omitted_when_null"
            else:
                presence[name] = "omitted_when_empty"
        self.record("lead.fields", presence, snap.exchanges[0])
        pages = [ex for ex in self.target.exchanges if ex.status == 200 and ex.key_name == "main"]
        extras = {
            "lead": _extras(leads, documented),
            "pagination": _extras(
                [ex.pagination for ex in pages if ex.pagination], set(spec.documented_fields("Pagination"))
            ),
            "body": _extras(
                [ex.body for ex in pages if isinstance(ex.body, dict)],
                set(spec.documented_fields("LeadList")),
            ),
        }
        self.record("extra_fields", extras, snap.exchanges[0])

    def headers(self) -> None:
        choice = "headers"
        page = next((ex for ex in self.target.exchanges if ex.status == 200 and ex.key_name == "main"), None)
        if page is None:
            self.miss(choice, "no page was answered")
            return
        value: dict[str, Any] = {
            "content_type": page.headers.get("content-type", ""),
            "rate_limit": rate_limit_names(page.headers),
        }
        spent = next(
            (ex for ex in self.target.exchanges if ex.key_name == "exhausted" and ex.status == 429), None
        )
        if spent is not None:
            value["on_429"] = rate_limit_names(spent.headers)
        pages = [ex for ex in self.target.exchanges if ex.status == 200 and ex.key_name == "main"]
        other: dict[str, str | None] = {}
        for name in sorted({k.lower() for k in page.headers}):
            if name in _ORDINARY or name.startswith("access-control-") or name in value["rate_limit"]:
                continue
            seen = {ex.headers.get(name) for ex in pages}
            constant = next(iter(seen)) if len(seen) == 1 else None
            # A value the mock may send as it is: the same on every page, a short printable
            # token (never an address or anything else a person could be found by).
            keep = constant is not None and _HEADER_TOKEN.fullmatch(constant) is not None
            other[name] = constant if keep else None
        value["other"] = other
        self.record(choice, value, page)


def _pairs(url: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def _valid(url: str) -> bool:
    try:
        spec.parse_query(_pairs(url))
    except spec.ParameterError:
        return False
    return True


def _code(ex: Exchange) -> tuple[int, Any]:
    return ex.status, ex.body.get("error_code") if isinstance(ex.body, dict) else None


def _alone(ex: Exchange, f: spec.Filter) -> spec.LeadQuery | None:
    """The query of a page that filter ``f`` alone narrows (``archived`` aside), if ``ex`` is one."""
    if ex.status != 200 or ex.key_name != "main" or not isinstance(ex.pagination.get("total"), int):
        return None
    try:
        query = spec.parse_query(_pairs(ex.url))
    except spec.ParameterError:
        return None
    narrowing = [g.name for g, _ in query.filters() if g.narrows]
    return query if narrowing == [f.name] else None


def _template(value: Any, replace: Mapping[str, str]) -> Any:
    """``value`` with each text of ``replace`` (a value the suite sent) made a placeholder:
    what :func:`spec.render` fills in again."""

    def placeholders(text: str) -> str:
        for sent, placeholder in sorted(replace.items(), key=lambda item: -len(item[0])):
            if len(sent) >= 2 or re.fullmatch(r"[0-9-]+", sent):
                text = re.sub(rf"(?<![\w]){re.escape(sent)}(?![\w])", placeholder, text)
        return text

    return spec.map_strings(value, placeholders)


def _refusal(ex: Exchange, replace: Mapping[str, str]) -> dict[str, Any]:
    body = ex.body if ex.body is not None else {"status": "error", "message": ex.text[:200]}
    return {"action": "refuse", "status": ex.status, "body": _template(body, replace)}


def _extras(objects: Iterable[Mapping[str, Any]], documented: set[str]) -> dict[str, dict[str, Any]]:
    """Each undocumented field of ``objects``: its JSON type and, where it is not personal, an
    example (a number, a boolean, null, or a short token several objects share)."""
    values: dict[str, list[Any]] = {}
    for obj in objects:
        for name, value in obj.items():
            if name not in documented:
                values.setdefault(name, []).append(value)
    out = {}
    for name, seen in sorted(values.items()):
        types = Counter(json_type(v) for v in seen if v is not None)
        kind = types.most_common(1)[0][0] if types else "null"
        out[name] = {"type": kind, "example": _example(kind, seen)}
    return out


def _example(kind: str, seen: list[Any]) -> Any:
    if kind in ("integer", "number", "boolean"):
        return Counter(v for v in seen if json_type(v) == kind).most_common(1)[0][0]
    if kind == "string":
        tokens = Counter(v for v in seen if isinstance(v, str) and _TOKEN.fullmatch(v))
        common = [t for t, n in tokens.most_common() if n >= 3]
        return common[0] if common else ""
    return {"array": [], "object": {}}.get(kind)


def _target_label(target: Target) -> str:
    if target.base_url is None:
        return target.label
    parts = urlsplit(target.base_url)
    return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}{parts.path}"


def _suite_version() -> str:
    try:
        return version("rotor-leads-contract")
    except PackageNotFoundError:
        return "unknown"


def record_profile(target: Target, snapshot: Snapshot | None) -> spec.Profile:
    """The target's choices, from what this run saw (no request is sent)."""
    rec = _Recorder(target, snapshot)
    if rec.snapshot is None:
        why = snapshot.problem if snapshot is not None else "the listing was not read"
        rec.unobserved["(listing)"] = f"the whole listing could not be read: {why}"
    rec.defaults()
    rec.bad_values()
    rec.unknown_parameters()
    rec.error_order(rec.unknown_key())
    rec.readings()
    rec.ties()
    rec.fields()
    rec.headers()
    rec.unobserved.pop("(listing)", None)
    recorded = {
        "at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "target": _target_label(target),
        "requests": target.used,
        "suite": _suite_version(),
    }
    return spec.Profile(rec.choices, recorded, rec.unobserved)
