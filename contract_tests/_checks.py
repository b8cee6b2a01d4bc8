"""Checks of one response, as small registered functions: ``check(ctx, exchange) -> None``.

A broken *documented* rule raises :class:`ContractFailure`. A broken *assumed* rule goes
through :meth:`Context.fail` too: a failure in strict mode, a "spec gap" otherwise. Every
message says what was received and what the contract says, so a reader can fix the server
without opening the test; every failure and gap is also counted in the run's findings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from rotor_leads import spec
from rotor_leads.contract_tests._report import Example, Findings
from rotor_leads.contract_tests._snapshot import Expectation, Snapshot
from rotor_leads.contract_tests._target import Exchange


class ContractFailure(AssertionError):
    """The server breaks a rule of the contract; ``example`` says how."""

    def __init__(self, example: Example) -> None:
        self.example = example
        self.rule = example.rule
        super().__init__(str(example))


class ContractFailures(AssertionError):
    """Several rules broken in one test; ``failures`` has each, in the order seen."""

    def __init__(self, failures: list[ContractFailure]) -> None:
        self.failures = failures
        super().__init__(f"{len(failures)} rules broken:\n\n" + "\n\n".join(str(f.example) for f in failures))


def examples_of(error: BaseException) -> list[Example] | None:
    """The examples a contract failure carries, or ``None`` for any other exception."""
    if isinstance(error, ContractFailure):
        return [error.example]
    if isinstance(error, ContractFailures):
        return [f.example for f in error.failures]
    return None


@dataclass
class Context:
    """What the checks know beyond one response: strictness, the snapshot, the findings, and
    the choices the server is held to where the page is silent (``profile``: this project's
    assumptions, or a server's recorded ones)."""

    strict: bool
    findings: Findings = field(default_factory=Findings)
    snapshot: Snapshot | None = None
    checked: int = 0
    profile: spec.Profile = spec.ASSUMED

    def __repr__(self) -> str:
        # What -l shows of the context in every failure: with -vv a repr is shown whole, and
        # the snapshot's leads and the profile made a failing run print hundreds of megabytes.
        return (
            f"Context(strict={self.strict}, checked={self.checked}, snapshot={self.snapshot!r}, "
            f"rules broken={sorted(self.findings.broken)}, gaps={sorted(self.findings.gaps)})"
        )

    def fail(self, rule_id: str, exchange: Exchange | None, received: str, expected: str) -> None:
        """Report a broken rule: documented rules always fail, assumed ones only when strict."""
        example = Example(rule_id, exchange.describe() if exchange else None, received, expected)
        gap = not (example.rule.documented or self.strict)
        self.findings.add(example, gap=gap)
        if not gap:
            raise ContractFailure(example)

    def expect(self, ok: bool, rule_id: str, exchange: Exchange | None, received: str, expected: str) -> None:
        if not ok:
            self.fail(rule_id, exchange, received, expected)


class Collector:
    """Runs several checks in a row and raises every distinct rule they broke at the end."""

    def __init__(self) -> None:
        self.failures: list[ContractFailure] = []

    def __enter__(self) -> Collector:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: Any) -> bool:
        if isinstance(error, ContractFailures):
            self.failures.extend(error.failures)
        elif isinstance(error, ContractFailure):
            self.failures.append(error)
        elif error is not None:
            return False
        return True

    def raise_all(self) -> None:
        seen: dict[str, ContractFailure] = {}
        for failure in self.failures:
            seen.setdefault(failure.example.rule_id, failure)
        if len(seen) == 1:
            raise next(iter(seen.values()))
        if seen:
            raise ContractFailures(list(seen.values()))


Check = Callable[[Context, Exchange], None]
#: Per-response checks, in the order they run. Each is registered with :func:`check`.
CHECKS: Final[dict[str, Check]] = {}


def check(func: Check) -> Check:
    CHECKS[func.__name__] = func
    return func


def _short(value: Any, limit: int = 120) -> str:
    shown = repr(value)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def _lead_label(lead: dict[str, Any]) -> str:
    return f"lead {lead.get('id')!r}"


# -- shapes ----------------------------------------------------------------------------------


@check
def never_a_server_error(ctx: Context, ex: Exchange) -> None:
    ctx.expect(
        ex.status < 500,
        "error.server",
        ex,
        f"{ex.status} {ex.text[:120]!r}",
        "a well-formed request never causes a server error",
    )


@check
def json_content(ctx: Context, ex: Exchange) -> None:
    problems = spec.header_violations(ex.headers)
    ctx.expect(
        not problems,
        "schema.shape",
        ex,
        f"Content-Type {ex.headers.get('content-type')!r}",
        "every answer is application/json",
    )
    ctx.expect(
        ex.body is not None, "schema.shape", ex, f"a body that is not JSON: {ex.text[:100]!r}", "a JSON body"
    )


@check
def documented_shape(ctx: Context, ex: Exchange) -> None:
    if ex.body is None:
        return
    violations = spec.body_violations(ex.status, ex.body)
    if violations:
        ctx.fail(
            "schema.shape",
            ex,
            "; ".join(str(v) for v in violations[:5]),
            f"the {ex.status} body schema of spec/openapi.yaml",
        )
        return
    allowed = ctx.profile.extra_fields
    body, mistyped = _without_allowed_extras(ex.body, allowed) if any(allowed.values()) else (ex.body, [])
    extra = spec.body_violations(ex.status, body, strict=True)
    ctx.expect(
        not extra and not mistyped,
        "schema.no_extra_fields",
        ex,
        "; ".join([*mistyped, *(str(v) for v in extra)][:3]),
        "only the documented fields" + (" and those the profile recorded" if any(allowed.values()) else ""),
    )


_JSON_TYPES: dict[type, str] = {str: "string", list: "array", dict: "object"}


def json_type(value: Any) -> str:
    """The JSON Schema type name of a JSON value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    return _JSON_TYPES.get(type(value), "object")


def _without_allowed_extras(body: Any, allowed: dict[str, dict[str, Any]]) -> tuple[Any, list[str]]:
    """``body`` without the undocumented fields a profile recorded, and each of them whose
    value has another JSON type than recorded."""
    if not isinstance(body, dict):
        return body, []
    mistyped: list[str] = []

    def strip(obj: Any, names: dict[str, Any], where: str) -> Any:
        if not isinstance(obj, dict) or not names:
            return obj
        for name in names.keys() & obj.keys():
            kind, recorded = json_type(obj[name]), names[name].get("type")
            if kind not in (recorded, "null") and not (kind == "integer" and recorded == "number"):
                mistyped.append(f"{where}.{name}: {kind} (recorded: {recorded})")
        return {k: v for k, v in obj.items() if k not in names}

    out = dict(strip(body, allowed["body"], "$"))  # a copy: the exchange keeps what was received
    if isinstance(out.get("pagination"), dict):
        out["pagination"] = strip(out["pagination"], allowed["pagination"], "$.pagination")
    if isinstance(out.get("data"), list):
        out["data"] = [strip(lead, allowed["lead"], f"$.data[{i}]") for i, lead in enumerate(out["data"])]
    return out, mistyped


@check
def fields_as_profiled(ctx: Context, ex: Exchange) -> None:
    """With a profile that recorded how lead fields show: each lead shows them so."""
    if ctx.profile.fields is None or not _is_page(ex):
        return
    for lead in ex.leads:
        problems = ctx.profile.presence_problems(lead)
        if problems:
            ctx.fail(
                "convention.fields",
                ex,
                f"{_lead_label(lead)}: {'; '.join(problems[:3])}",
                "the lead fields as the profile recorded them",
            )
            return


def rate_limit_names(headers: Mapping[str, str]) -> list[str]:
    """The rate-limit header names of an answer (lower case, sorted)."""
    return sorted(
        {
            k.lower()
            for k in headers
            if k.lower() == "retry-after"
            or k.lower().startswith(("x-ratelimit-", "x-rate-limit-", "ratelimit-"))
        }
    )


def same_media_type(a: str | None, b: str | None) -> bool:
    """Whether two Content-Type values say the same (case and spaces aside)."""

    def norm(value: str | None) -> str:
        return ";".join(part.strip().lower() for part in (value or "").split(";"))

    return norm(a) == norm(b)


@check
def headers_as_profiled(ctx: Context, ex: Exchange) -> None:
    """With a profile that recorded headers: the Content-Type and rate-limit headers of a page."""
    recorded = ctx.profile.headers
    if recorded is None or not _is_page(ex):
        return
    got_type = ex.headers.get("content-type")
    ctx.expect(
        same_media_type(got_type, recorded.get("content_type")),
        "convention.headers",
        ex,
        f"Content-Type {got_type!r}",
        f"Content-Type {recorded.get('content_type')!r}, as recorded",
    )
    names = rate_limit_names(ex.headers)
    ctx.expect(
        names == sorted(recorded.get("rate_limit", [])),
        "convention.headers",
        ex,
        f"rate-limit headers {names}",
        f"rate-limit headers {sorted(recorded.get('rate_limit', []))}, as recorded",
    )


# -- one page on its own ----------------------------------------------------------------------


def _is_page(ex: Exchange) -> bool:
    return ex.status == 200 and ex.key_name == "main" and isinstance(ex.body, dict)


#: The highest page a query of only ``limit`` and ``page`` is held to answering (the plan's
#: farthest page): the page documents no maximum, and a server may stop somewhere beyond.
PAGE_ANSWERED: Final = 100_000
#: The statuses that refuse a request's values.
_REFUSALS: Final = frozenset({400, 404, 416, 422})


@check
def documented_values_answered(ctx: Context, ex: Exchange) -> None:
    """A ``limit`` from 1 to 1000 and a ``page`` from 1 are documented values: a query of
    nothing else (``archived`` aside) is answered, not refused."""
    query = ex.query
    if ex.raw_params or ex.key_name != "main" or ex.status not in _REFUSALS:
        return  # a 401, 403 or 429 is about the key, not the values
    if set(query.given) - {"limit", "page", "archived"}:
        return  # a filter's value may be what was refused
    if not (1 <= query.limit <= spec.MAX_LIMIT and 1 <= query.page <= PAGE_ANSWERED):
        return
    ctx.fail(
        "page.limit_max" if "limit" in query.given else "page.one_based",
        ex,
        f"{ex.status} {ex.text[:120]!r}",
        f"a page: limit={query.limit} and page={query.page} are documented values",
    )


#: (parameter, rule when it was sent, default when it was not, rule for that default)
_ECHOED: Final = (
    ("page", "page.one_based", spec.DEFAULT_PAGE, "page.default_page"),
    ("limit", "page.limit_max", spec.DEFAULT_LIMIT, "page.default_limit"),
)


@check
def echoes_page_and_limit(ctx: Context, ex: Exchange) -> None:
    if not _is_page(ex):
        return
    defaults = {"page": ctx.profile.default_page, "limit": ctx.profile.default_limit}
    for name, rule_id, _, default_rule_id in _ECHOED:
        default = defaults[name]
        echoed = ex.pagination.get(name)
        if name in ex.query.given:
            sent = getattr(ex.query, name)
            ctx.expect(
                echoed == sent,
                rule_id,
                ex,
                f"pagination.{name} = {echoed!r}",
                f"{name} echoes the {name} asked for ({sent})",
            )
        else:
            ctx.expect(
                echoed == default,
                default_rule_id,
                ex,
                f"pagination.{name} = {echoed!r}",
                f"without {name}, {name} {default}",
            )


@check
def page_holds_at_most_limit(ctx: Context, ex: Exchange) -> None:
    limit = ex.pagination.get("limit")
    if not _is_page(ex) or not isinstance(limit, int | float):
        return
    ceiling = min(limit, spec.MAX_LIMIT)
    ctx.expect(
        len(ex.leads) <= ceiling,
        "page.limit_max",
        ex,
        f"{len(ex.leads)} leads with limit {limit}",
        f"a page holds at most limit leads, and at most {spec.MAX_LIMIT}",
    )


@check
def no_lead_twice(ctx: Context, ex: Exchange) -> None:
    if not _is_page(ex):
        return
    ids = Counter(lead.get("id") for lead in ex.leads if lead.get("id") is not None)
    repeated = [i for i, n in ids.items() if n > 1]
    ctx.expect(
        not repeated,
        "page.walk",
        ex,
        f"lead {repeated[0]!r} {ids[repeated[0]]} times on one page" if repeated else "",
        "each matching lead once",
    )


@check
def has_more_agrees_with_total(ctx: Context, ex: Exchange) -> None:
    numbers = ex.numbers
    if not _is_page(ex) or numbers is None:
        return
    page, limit, total = numbers
    has_more = ex.pagination.get("has_more")
    expected = page * limit < total
    ctx.expect(
        has_more is expected,
        "page.has_more",
        ex,
        f"has_more = {has_more!r} with page {page}, limit {limit}, total {total}",
        f"has_more = {expected} (page × limit < total)",
    )
    start = (page - 1) * limit
    if start >= total:
        ctx.expect(
            not ex.leads,
            "page.past_end",
            ex,
            f"{len(ex.leads)} leads past the end (total {total})",
            "a page past the end is empty",
        )
    elif len(ex.leads) != min(limit, total - start):
        # The count of the next page instead of this one points at the page numbering.
        shifted = len(ex.leads) == min(limit, max(0, total - start - limit))
        ctx.fail(
            "page.one_based" if shifted else "page.total",
            ex,
            f"{len(ex.leads)} leads on page {page} (limit {limit}, total {total})",
            f"{min(limit, total - start)} leads: leads {start + 1} to {min(start + limit, total)}"
            f" of the {total} matching records",
        )


@check
def newest_first(ctx: Context, ex: Exchange) -> None:
    if not _is_page(ex):
        return
    out_of_order = first_out_of_order(ex.leads)
    if out_of_order is not None:
        newer, older = out_of_order
        ctx.fail(
            "order.newest_first",
            ex,
            f"{_lead_label(older)} created {older.get('created_at')} before "
            f"{_lead_label(newer)} created {newer.get('created_at')}",
            "newest first by created_at",
        )


def first_out_of_order(leads: Iterable[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The first pair (a, b) listed a-then-b although b was created after a, if any."""
    previous: tuple[Any, dict[str, Any]] | None = None
    for lead in leads:
        created = spec.parse_timestamp(lead.get("created_at"))
        if created is None:
            continue
        if previous is not None and created > previous[0]:
            return previous[1], lead
        previous = (created, lead)
    return None


def _filter_check(f: spec.Filter) -> Check:
    """The check that every lead of a page satisfies filter ``f`` (its documented bounds)."""

    def check(ctx: Context, ex: Exchange) -> None:
        if not _is_page(ex) or (not f.narrows and ctx.snapshot is not None):
            return  # with the whole listing known, archived is judged by matches_the_model
        value = ex.query.get(f.name)
        if not f.applies(value):
            return
        exact = f.read(ctx.profile.readings.get(f.name))
        for lead in ex.leads:
            if not f.may(value, lead):
                shown = {k: lead.get(k) for k in (f.name, *spec.SEARCH_FIELDS) if k in lead}
                ctx.fail(
                    f.rule_id, ex, f"{_lead_label(lead)} with {_short(shown)}", spec.rule(f.rule_id).statement
                )
                return
            if not exact(value, lead) and f.assumed_rule_id:
                ctx.fail(
                    f.assumed_rule_id,
                    ex,
                    f"{_lead_label(lead)} matched by a looser reading",
                    spec.rule(f.assumed_rule_id).statement,
                )
                return

    check.__name__ = f"leads_satisfy_{f.name}"
    return check


for _filter in spec.FILTERS:
    check(_filter_check(_filter))


# -- one page against the whole listing (the differential checks) -----------------------------


@check
def leads_as_listed(ctx: Context, ex: Exchange) -> None:
    """Every lead reads as it does in the full listing (a filter must not change a lead)."""
    snap = ctx.snapshot
    if snap is None or not _is_page(ex):
        return
    for lead in ex.leads:
        lead_id = lead.get("id")
        if lead_id is None:
            continue
        listed = snap.by_id.get(lead_id)
        if listed is None:
            ctx.fail(
                "data.consistent",
                ex,
                f"lead {lead_id!r}, which no page of the full listing (archived=true) has",
                "the leads of the full listing, and no others",
            )
            return
        # A server may leave out optional fields; a field both answers show must agree.
        fields = sorted(k for k in lead.keys() & listed.keys() if lead[k] != listed[k])
        if fields:
            shown = ", ".join(f"{k}={lead.get(k, '(absent)')!r}" for k in fields[:3])
            was = ", ".join(f"{k}={listed.get(k, '(absent)')!r}" for k in fields[:3])
            ctx.fail(
                "data.consistent",
                ex,
                f"lead {lead_id!r} with {_short(shown, 160)}",
                f"the lead as the full listing shows it: {_short(was, 160)}",
            )
            return


@check
def matches_the_model(ctx: Context, ex: Exchange) -> None:
    if ctx.snapshot is None or not _is_page(ex) or ex.numbers is None:
        return
    page, limit, total = ex.numbers
    exp = ctx.snapshot.expect(ex.query)
    _check_archived(ctx, ex, exp)
    got = [lead.get("id") for lead in ex.leads]
    if not len(exp.must) <= total <= len(exp.may):
        bounds = f"{len(exp.must)}" if exp.determinate else f"between {len(exp.must)} and {len(exp.may)}"
        ctx.fail(
            exp.rule_id,
            ex,
            f"total = {total}",
            f"{bounds}: the leads of the full listing that match {describe(ex.query)}",
        )
        return
    outside = [i for i in got if i is not None and i not in exp.may_ids]
    if outside:
        ctx.fail(
            exp.rule_id,
            ex,
            f"lead {outside[0]!r}, which does not match {describe(ex.query)} in the full listing",
            f"only leads that match {describe(ex.query)}",
        )
        return
    if exp.determinate:
        window = spec.page_window(total, page=page, limit=limit)
        want = exp.must[window.start : window.stop]
        if _times(ex.leads) != _times(want):
            _wrong_window(ctx, ex, exp, want, window)
            return
        ctx.expect(
            got == _id_list(want),
            "order.stable_tie_break",
            ex,
            f"leads {_ids(got)}",
            f"leads {_ids(_id_list(want))}: tied leads in the order of the full listing",
        )
        return
    window = spec.page_window(len(exp.exact), page=page, limit=limit)
    want = exp.exact[window.start : window.stop]
    if total != len(exp.exact) or got != _id_list(want):
        ctx.fail(
            exp.assumed_rule_id or exp.rule_id,
            ex,
            f"total {total}, leads {_ids(got)}",
            f"total {len(exp.exact)}, leads {_ids(_id_list(want))}",
        )


def _wrong_window(
    ctx: Context, ex: Exchange, exp: Expectation, want: list[dict[str, Any]], window: spec.Window
) -> None:
    """The page holds matching leads, but not the ones of its place in the listing: say why."""
    page, limit, total = ex.numbers or (1, 1, 0)
    got = [lead.get("id") for lead in ex.leads]
    expected = (
        f"leads {_ids(_id_list(want))}: matches {window.start + 1} to {window.stop} of {total}, newest first"
    )
    for other in (page - 1, page + 1):
        if other >= 1:
            near = spec.page_window(total, page=other, limit=limit)
            if near.stop > near.start and _times(ex.leads) == _times(exp.must[near.start : near.stop]):
                ctx.fail("page.one_based", ex, f"the leads of page {other}: {_ids(got)}", expected)
                return
    missing = len(ex.leads) < len(want)
    ctx.fail(
        "page.walk" if missing else "order.newest_first",
        ex,
        f"leads {_ids(got)}",
        expected,
    )


def _times(leads: list[dict[str, Any]]) -> list[Any]:
    return [spec.parse_timestamp(lead.get("created_at")) for lead in leads]


def _id_list(leads: list[dict[str, Any]]) -> list[Any]:
    return [lead.get("id") for lead in leads]


def _check_archived(ctx: Context, ex: Exchange, exp: Expectation) -> None:
    if ex.query.archived:
        return
    archived = [lead for lead in ex.leads if spec.is_archived(lead) or lead.get("id") in exp.archived_ids]
    if archived:
        ctx.fail(
            "filter.archived",
            ex,
            f"{_lead_label(archived[0])}, archived, without archived=true",
            "archived leads only with archived=true",
        )


def _ids(ids: list[Any]) -> str:
    shown = ", ".join(str(i)[:8] for i in ids[:6])
    return f"[{shown}{', …' if len(ids) > 6 else ''}] ({len(ids)})"


def describe(query: spec.LeadQuery) -> str:
    params = {k: v for k, v in query.to_params().items() if k not in ("limit", "page")}
    return "&".join(f"{k}={v}" for k, v in params.items()) or "no filter"


def check_exchange(ctx: Context, exchange: Exchange, *, only: Iterable[str] | None = None) -> None:
    """Run the registered checks (or ``only`` those) on one exchange.

    Raises :class:`ContractFailure` for a broken rule, :class:`ContractFailures` for several.
    """
    collector = Collector()
    for name in list(CHECKS) if only is None else only:
        with collector:
            CHECKS[name](ctx, exchange)
    ctx.checked += 1
    collector.raise_all()
