"""Checks of one response, as small registered functions: ``check(ctx, exchange) -> None``.

A broken *documented* rule raises :class:`ContractFailure`. A broken *assumed* rule goes
through :meth:`Context.assumed`: a failure in strict mode, a "spec gap" warning otherwise.
Every message says what was received and what the contract says, so a reader can fix the
server without opening the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

import spec
from contract_tests._snapshot import Expectation, Snapshot
from contract_tests._target import Exchange


class ContractFailure(AssertionError):
    """The server breaks a rule of the contract."""

    def __init__(self, rule_id: str, exchange: Exchange | None, received: str, expected: str) -> None:
        self.rule = spec.rule(rule_id)
        lines = [f"[{rule_id}] {self.rule.statement}"]
        if exchange is not None:
            lines.append(f"Request:    {exchange.describe()}")
        lines.append(f"Received:   {received}")
        label = "Documented" if self.rule.documented else "Assumed"
        lines.append(f"{label}: {expected}")
        if self.rule.source:
            lines.append(f'Reference page: "{self.rule.source}"')
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class Gap:
    """A server choice that differs from one of our assumptions (reported, not failed)."""

    rule_id: str
    message: str


@dataclass
class Context:
    """What the checks know beyond one response: strictness, the snapshot, the gaps so far."""

    strict: bool
    snapshot: Snapshot | None = None
    gaps: list[Gap] = field(default_factory=list)
    checked: int = 0

    def fail(self, rule_id: str, exchange: Exchange | None, received: str, expected: str) -> None:
        """Report a broken rule: documented rules always fail, assumed ones only when strict."""
        failure = ContractFailure(rule_id, exchange, received, expected)
        if failure.rule.documented or self.strict:
            raise failure
        if all(g.rule_id != rule_id for g in self.gaps):
            self.gaps.append(Gap(rule_id, str(failure)))

    def expect(self, ok: bool, rule_id: str, exchange: Exchange | None, received: str, expected: str) -> None:
        if not ok:
            self.fail(rule_id, exchange, received, expected)


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
    extra = spec.body_violations(ex.status, ex.body, strict=True)
    ctx.expect(
        not extra,
        "schema.no_extra_fields",
        ex,
        "; ".join(str(v) for v in extra[:3]),
        "only the documented fields",
    )


# -- one page on its own ----------------------------------------------------------------------


def _is_page(ex: Exchange) -> bool:
    return ex.status == 200 and ex.key_name == "main" and isinstance(ex.body, dict)


#: (parameter, rule when it was sent, default when it was not, rule for that default)
_ECHOED: Final = (
    ("page", "page.one_based", spec.DEFAULT_PAGE, "page.default_page"),
    ("limit", "page.limit_max", spec.DEFAULT_LIMIT, "page.default_limit"),
)


@check
def echoes_page_and_limit(ctx: Context, ex: Exchange) -> None:
    if not _is_page(ex):
        return
    for name, rule_id, default, default_rule_id in _ECHOED:
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
    if not _is_page(ex) or not isinstance(limit, int):
        return
    ctx.expect(
        len(ex.leads) <= limit,
        "page.limit_max",
        ex,
        f"{len(ex.leads)} leads with limit {limit}",
        "a page holds at most limit leads",
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
    if ex.leads and page * limit < total:
        ctx.expect(
            len(ex.leads) == limit,
            "page.total",
            ex,
            f"{len(ex.leads)} leads on page {page} of a listing of {total} with limit {limit}",
            f"a page before the last holds exactly limit ({limit}) leads",
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
        if not _is_page(ex) or (f.parameter == "archived" and ctx.snapshot is not None):
            return  # with the whole listing known, archived is judged by matches_the_model
        for lead in ex.leads:
            if not f.may(ex.query, lead):
                shown = {k: lead.get(k) for k in (f.parameter, *spec.SEARCH_FIELDS) if k in lead}
                ctx.fail(
                    f.rule_id, ex, f"{_lead_label(lead)} with {_short(shown)}", spec.rule(f.rule_id).statement
                )
                return
            if not f.exact(ex.query, lead) and f.assumed_rule_id:
                ctx.fail(
                    f.assumed_rule_id,
                    ex,
                    f"{_lead_label(lead)} matched by a looser reading",
                    spec.rule(f.assumed_rule_id).statement,
                )
                return

    check.__name__ = f"leads_satisfy_{f.parameter}"
    return check


for _filter in spec.FILTERS:
    check(_filter_check(_filter))


# -- one page against the whole listing (the differential check) ------------------------------


@check
def matches_the_model(ctx: Context, ex: Exchange) -> None:
    if ctx.snapshot is None or not _is_page(ex):
        return
    if ex.numbers is None:
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
    if exp.determinate:
        window = spec.page_window(total, page=page, limit=limit)
        want = exp.must[window.start : window.stop]
        if _times(ex.leads) != _times(want):
            ctx.fail(
                "page.one_based",
                ex,
                f"leads {_ids(got)}",
                f"leads {_ids(_id_list(want))}: matches {window.start + 1} to {window.stop} of {total},"
                " newest first",
            )
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


class ContractFailures(AssertionError):
    """One response breaks several rules; ``failures`` has each, in check order."""

    def __init__(self, failures: list[ContractFailure]) -> None:
        self.failures = failures
        super().__init__(
            f"{len(failures)} rules broken by one response:\n\n" + "\n\n".join(map(str, failures))
        )


def check_exchange(ctx: Context, exchange: Exchange, *, only: Iterable[str] | None = None) -> None:
    """Run the registered checks (or ``only`` those) on one exchange.

    Raises :class:`ContractFailure` for a broken rule, :class:`ContractFailures` for several.
    """
    failures: list[ContractFailure] = []
    for name in list(CHECKS) if only is None else only:
        try:
            CHECKS[name](ctx, exchange)
        except ContractFailure as failure:
            failures.append(failure)
    ctx.checked += 1
    if len(failures) == 1:
        raise failures[0]
    if failures:
        raise ContractFailures(failures)
