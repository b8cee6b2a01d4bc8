"""Which queries to send: a fixed plan that covers every documented rule on the target's own
data, at the places where bugs hide, and Hypothesis strategies, data-aware, for the rest.

Filter values come from the leads the target actually holds (learned from the snapshot): the
rarest and the most common, values in a lead's later tags, whole names, emails and phone
numbers with their punctuation, and pieces of every length. Each query's ``limit`` and ``page``
are chosen from the total the listing predicts for it, so that pages end exactly at the total,
one lead after it or one lead before it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterator
from itertools import combinations
from typing import Any, Final, Literal

from hypothesis import strategies as st

from rotor_leads import spec
from rotor_leads.contract_tests._checks import PAGE_ANSWERED
from rotor_leads.contract_tests._snapshot import Snapshot

Lead = dict[str, Any]
#: A plan case: the query for a snapshot, or the reason it cannot be built on this data.
Case = Callable[[Snapshot], spec.LeadQuery | str]
Boundary = Literal["exact", "one_more", "one_less", "middle", "first", "full"]

UNKNOWN_VALUE: Final = "zz-no-such-value-zz"
#: A page far past the end of any listing (the page sets no maximum), and still one a server
#: is held to answering (see ``_checks.PAGE_ANSWERED``).
FAR_PAGE: Final = PAGE_ANSWERED
#: The most pages a walk reads (then one past its end).
MAX_WALK: Final = 5


# -- limits and pages at the boundaries -------------------------------------------------------


def _divisor(n: int, *, low: int, high: int) -> int | None:
    """The largest divisor of ``n`` in ``low..high``, if any."""
    for d in range(min(high, n), low - 1, -1):
        if d >= 1 and n % d == 0:
            return d
    return None


def window_for(total: int, kind: Boundary, *, max_pages: int | None = None) -> tuple[int, int]:
    """``(limit, page)`` for a listing of ``total`` leads whose page lands at ``kind``.

    ``exact``: the last page ends at the total (page × limit = total); ``one_more``: the last
    page holds one lead; ``one_less``: it holds limit − 1; ``middle``: a page between two others;
    ``first``: page 1 of several; ``full``: everything on one page. With ``max_pages``, the
    limit is chosen so that the listing has at most that many pages (when it can be).
    """
    cap = spec.MAX_LIMIT
    fewest = 1 if max_pages is None else max(1, math.ceil(total / max_pages))
    if kind == "full" or total < 2:
        return max(1, min(cap, total)), 1
    if kind == "exact":
        limit = _divisor(total, low=fewest, high=min(cap, total // 2)) or _divisor(total, low=1, high=cap)
        return (limit, total // limit) if limit else (1, total)
    if kind == "one_more":
        limit = _divisor(total - 1, low=fewest, high=cap) or _divisor(total - 1, low=1, high=cap) or 1
        return limit, (total - 1) // limit + 1
    if kind == "one_less":
        limit = _divisor(total + 1, low=max(2, fewest), high=cap) or _divisor(total + 1, low=2, high=cap)
        return (limit, (total + 1) // limit) if limit else window_for(total, "exact", max_pages=max_pages)
    if kind == "middle":
        limit = max(1, min(cap, total // 3))
        return limit, 2
    return max(1, min(cap, total - 1)), 1  # first


def at(snap: Snapshot, query: spec.LeadQuery, kind: Boundary) -> spec.LeadQuery:
    """``query`` with the limit and page that put it at ``kind`` (see :func:`window_for`)."""
    limit, page = window_for(expected_total(snap, query), kind)
    return query.with_(limit=limit, page=page)


def expected_total(snap: Snapshot, query: spec.LeadQuery) -> int:
    exp = snap.expect(query)
    return len(exp.must) if exp.determinate else len(exp.exact)


# -- values from the data ---------------------------------------------------------------------


def _strings(leads: list[Lead], field: str) -> list[str]:
    return [v for v in (lead.get(field) for lead in leads) if isinstance(v, str) and v]


def _items(lead: Lead, field: str) -> list[str]:
    """The items of list ``field`` that every reading of an any-of filter agrees on."""
    items = lead.get(field)
    return (
        [t for t in items if isinstance(t, str) and t and t.strip() == t and "," not in t]
        if isinstance(items, list)
        else []
    )


def _lead_values(f: spec.Filter, lead: Lead) -> list[str]:
    """The values of ``f`` that select ``lead`` under every reading (a search's: none here)."""
    if f.kind == "any_of":
        return _items(lead, f.field)
    if f.kind in ("exact", "one_of"):
        value = lead.get(f.field)
        if (
            isinstance(value, str)
            and value
            and value.strip() == value
            and (not f.values or value in f.values)
        ):
            return [value]
    return []


def _values(f: spec.Filter, leads: list[Lead]) -> Counter[str]:
    """How many of ``leads`` each value of ``f`` selects."""
    return Counter(v for lead in leads for v in _lead_values(f, lead))


def _query(f: spec.Filter, value: Any) -> spec.LeadQuery:
    return spec.LeadQuery().with_(**{f.name: value})


def _named(name: str) -> spec.Filter:
    return next(f for f in spec.FILTERS if f.name == name)


def _tags(leads: list[Lead]) -> Counter[str]:
    return _values(_named("tags"), leads)


def _stages(leads: list[Lead]) -> Counter[str]:
    return _values(_named("stage"), leads)


def _special(text: str) -> int:
    """How much a value tests a server's decoding and escaping: punctuation, spaces, non-ASCII."""
    return (
        sum(1 for c in text if not c.isalnum())
        + 3 * sum(1 for c in text if ord(c) > 127)
        + (5 if text.startswith("+") else 0)
    )


def _texts(f: spec.Filter, lead: Lead) -> list[str]:
    return [v for name in f.fields if isinstance(v := lead.get(name), str)]


def _only_in(lead: Lead, field: str, length: int, fields: tuple[str, ...] = spec.SEARCH_FIELDS) -> str | None:
    """A piece of ``lead[field]`` of ``length`` found (ignoring case) in none of its other search
    ``fields``, so that a server that does not search ``field`` misses this lead."""
    text = lead.get(field)
    if not isinstance(text, str) or len(text) < length:
        return None
    others = [
        t.casefold() for f, t in ((f, lead.get(f)) for f in fields) if f != field and isinstance(t, str)
    ]
    for start in range(len(text) - length, -1, -1):
        needle = text[start : start + length]
        if needle.strip() == needle and not any(needle.casefold() in o for o in others):
            return needle
    return None


def _determinate(snap: Snapshot, query: spec.LeadQuery) -> bool:
    return snap.expect(query).determinate


# -- a search's cases ---------------------------------------------------------------------------


def _search(
    f: spec.Filter, field: str, length: int | None, *, special: bool = False, archived: bool = False
) -> Case:
    """A search for a piece of ``field`` (``length`` characters; ``None``: the whole value), from
    a lead whose other fields do not contain it. ``special`` prefers values with punctuation,
    spaces and non-ASCII letters; ``archived`` looks in archived leads."""

    def build(snap: Snapshot) -> spec.LeadQuery | str:
        if archived:
            leads = [lead for lead in snap.everything if lead.get("id") in snap.archived_ids]
        elif special:  # the rarest values may be on archived leads: look at every lead
            leads = sorted(snap.everything, key=lambda lead: -_special(str(lead.get(field) or "")))
        else:
            leads = snap.default
        fallback = None
        for lead in leads:
            value = lead.get(field)
            if not isinstance(value, str) or not value:
                continue
            needle = _only_in(lead, field, len(value) if length is None else length, f.fields)
            if needle is None:
                continue
            query = _query(f, needle)
            if lead.get("id") in snap.archived_ids:
                query = query.with_(archived=True)
            if _determinate(snap, query):
                return at(snap, query, "full")
            fallback = fallback or query
        if fallback is not None:
            return at(snap, fallback, "full")
        where = "archived lead" if archived else "lead of the default listing"
        return f"no {where} has a {field} to search in"

    return build


def _short_search(f: spec.Filter, length: int) -> Case:
    """A piece of ``length`` characters that many leads share (completeness on a big answer)."""

    def build(snap: Snapshot) -> spec.LeadQuery | str:
        pieces: Counter[str] = Counter()
        for lead in snap.default:
            for text in _texts(f, lead):
                for start in range(len(text) - length + 1):
                    piece = text[start : start + length]
                    if piece.strip() == piece:
                        pieces[piece] += 1
        # Prefer a piece whose reading does not depend on case, so the total is exact.
        for piece, _ in pieces.most_common(40):
            query = _query(f, piece)
            if _determinate(snap, query):
                return at(snap, query, "exact")
        if pieces:
            return at(snap, _query(f, pieces.most_common(1)[0][0]), "exact")
        return f"no lead has a {', '.join(f.fields)} to search in"

    return build


#: Lengths a server might cut a search term to (a column size, a prefix index).
_CUTS: Final = (8, 10, 12, 16, 20, 24, 32, 50, 64)


def _search_long_common_start(f: spec.Filter) -> Case:
    """A whole value whose beginning other leads share: a server that cuts the term at one of
    the usual lengths returns those other leads too."""

    def build(snap: Snapshot) -> spec.LeadQuery | str:
        everyone = "\x00".join(t.casefold() for lead in snap.default for t in _texts(f, lead))
        best: tuple[int, int, str] | None = None
        for lead in snap.default:
            own = "\x00".join(t.casefold() for t in _texts(f, lead))
            for value in (lead.get(name) for name in f.fields[:2]):
                if not isinstance(value, str) or len(value) <= _CUTS[0] or value.strip() != value:
                    continue
                folded = value.casefold()
                # A beginning found more often in all texts than in this lead's own: others share it.
                starts = [folded[:cut] for cut in _CUTS if cut < len(value)]
                shared = sum(1 for start in starts if everyone.count(start) > own.count(start))
                if shared and (best is None or (shared, len(value)) > best[:2]):
                    best = (shared, len(value), value)
        if best is None:
            return f"no long {' or '.join(f.fields[:2])} starts like another lead's"
        return at(snap, _query(f, best[2]), "full")

    return build


def _search_punctuation_literal(f: spec.Filter) -> Case:
    """Three characters around a '.', '_', '-' or '+' that another lead has with a different
    middle character: a server reading the punctuation as a wildcard (a regular expression,
    SQL LIKE) returns that lead too."""

    def build(snap: Snapshot) -> spec.LeadQuery | str:
        # (first, last) → middle → the leads with that three-character piece.
        pieces: dict[tuple[str, str], dict[str, set[Any]]] = {}
        for lead in snap.default:
            for text in _texts(f, lead):
                low = text.casefold()
                for i in range(len(low) - 2):
                    pieces.setdefault((low[i], low[i + 2]), {}).setdefault(low[i + 1], set()).add(
                        lead.get("id")
                    )
        for mark in "._-+":
            best: tuple[int, str] | None = None
            for (first, last), middles in pieces.items():
                owners = middles.get(mark)
                if owners is None or not (first.isalnum() and last.isalnum()):
                    continue
                others = set().union(*(ids for middle, ids in middles.items() if middle != mark)) - owners
                if others and (best is None or len(others) > best[0]):
                    best = (len(others), first + mark + last)
            if best is not None:
                return at(snap, _query(f, best[1]), "full")
        return "no searched text has punctuation that another lead has as a letter"

    return build


def _search_ignoring_case(f: spec.Filter) -> Case:
    def build(snap: Snapshot) -> spec.LeadQuery | str:
        for lead in snap.default:
            needle = _only_in(lead, f.field, 4, f.fields)
            if needle and needle.swapcase() != needle:
                return _query(f, needle.swapcase())
        return f"no {f.field} with letters to search in"

    return build


def _search_only_archived(f: spec.Filter, *, archived: bool) -> Case:
    """A needle that only archived leads contain: found with archived=true, not without."""

    def build(snap: Snapshot) -> spec.LeadQuery | str:
        shown = [t.casefold() for lead in snap.default for t in _texts(f, lead)]
        for lead in snap.everything:
            if lead.get("id") not in snap.archived_ids:
                continue
            for text in _texts(f, lead):
                for length in (len(text), 8, 5):
                    needle = text[-length:] if length <= len(text) else None
                    if needle and needle.strip() == needle and not any(needle.casefold() in s for s in shown):
                        query = _query(f, needle)
                        return query.with_(archived=True) if archived else query
        return "no archived lead has a searched text that no other lead shares"

    return build


def _search_spanning_fields(f: spec.Filter) -> Case:
    """The end of a lead's first field, a space and the start of its second, found in no lead's
    searched text: no lead matches, but a server that searches the fields joined into one text
    finds that lead."""

    def build(snap: Snapshot) -> spec.LeadQuery | str:
        if len(f.fields) < 2:
            return f"{f.name} searches one field"
        for lead in snap.default[:20]:  # each tried against every lead: a few suffice
            one, two = (lead.get(name) for name in f.fields[:2])
            if not (isinstance(one, str) and isinstance(two, str) and len(one) >= 3 and len(two) >= 3):
                continue
            needle = f"{one[-3:]} {two[:3]}"
            if needle.strip() != needle or not needle.isprintable():
                continue
            folded = needle.casefold()
            if not any(folded in t.casefold() for other in snap.everything for t in _texts(f, other)):
                return at(snap, _query(f, needle), "full")
        return f"no lead has a {f.fields[0]} and a {f.fields[1]} whose join no field holds"

    return build


def _search_cases(f: spec.Filter) -> dict[str, Case]:
    n = f.name
    cases: dict[str, Case] = {
        f"{n}_one_character": _short_search(f, 1),
        f"{n}_two_characters": _short_search(f, 2),
    }
    for field, piece in zip(f.fields, (4, 6, 3), strict=False):
        cases[f"{n}_{field}_piece"] = _search(f, field, piece)
        cases[f"{n}_{field}_whole"] = _search(f, field, None, special=True)
    return {
        **cases,
        f"{n}_long_whole_value": _search_long_common_start(f),
        f"{n}_punctuation_is_literal": _search_punctuation_literal(f),
        f"{n}_ignoring_case": _search_ignoring_case(f),
        f"{n}_spanning_two_fields": _search_spanning_fields(f),
        f"{n}_only_archived__with_archived": _search_only_archived(f, archived=True),
        f"{n}_only_archived__without_archived": _search_only_archived(f, archived=False),
    }


# -- the cases of a filter on one field (exact, one_of) --------------------------------------------


def _value(
    f: spec.Filter, kind: Literal["rarest", "commonest"], *, archived: bool, boundary: Boundary
) -> Case:
    def build(snap: Snapshot) -> spec.LeadQuery | str:
        values = _values(f, snap.everything if archived else snap.default).most_common()
        if not values:
            return f"no lead has a {f.field}"
        value = values[-1][0] if kind == "rarest" else values[0][0]
        query = _query(f, value)
        return at(snap, query.with_(archived=True) if archived else query, boundary)

    return build


def _unknown_value(f: spec.Filter) -> Case:
    """A value no lead holds: for a filter of a few values, one of them that no lead has."""

    def build(snap: Snapshot) -> spec.LeadQuery | str:
        if not f.values:
            return _query(f, UNKNOWN_VALUE)
        held = _values(f, snap.everything)
        free = [v for v in f.values if v not in held]
        return _query(f, free[0]) if free else f"a lead holds each value of {f.name}"

    return build


def _value_other_case(f: spec.Filter) -> Case:
    """The commonest value in other letter case: shows whether the filter ignores case."""

    def build(snap: Snapshot) -> spec.LeadQuery | str:
        for value, _ in _values(f, snap.default).most_common():
            if value.swapcase() != value:
                return at(snap, _query(f, value.swapcase()), "full")
        return f"no {f.field} has letters"

    return build


def _field_cases(f: spec.Filter) -> dict[str, Case]:
    n = f.name
    cases: dict[str, Case] = {
        f"{n}_rarest__last_page_one_less": _value(f, "rarest", archived=False, boundary="one_less"),
        f"{n}_commonest_archived__middle_page": _value(f, "commonest", archived=True, boundary="middle"),
        f"{n}_unknown": _unknown_value(f),
    }
    if not f.values:  # a filter of a few values refuses the others: no other case to send
        cases[f"{n}_in_other_case"] = _value_other_case(f)
    return cases


# -- the cases of an any-of list filter ---------------------------------------------------------


def _one_item(f: spec.Filter) -> Case:
    def build(snap: Snapshot) -> spec.LeadQuery | str:
        items = _values(f, snap.default)
        return at(snap, _query(f, items.most_common(1)[0][0]), "exact") if items else f"no lead has {f.field}"

    return build


def _several_items(f: spec.Filter, count: int, boundary: Boundary) -> Case:
    def build(snap: Snapshot) -> spec.LeadQuery | str:
        items = [t for t, _ in _values(f, snap.default).most_common()]
        if len(items) < count:
            return f"fewer than {count} distinct {f.field} in the data"
        # The rarest, then items from the middle: leads with several of them test the union.
        chosen = [items[-1], *items[len(items) // 2 : len(items) // 2 + count - 1]]
        return at(snap, _query(f, ",".join(chosen)), boundary)

    return build


def _later_item(f: spec.Filter) -> Case:
    """An item that some leads have only after another (a server reading only the first misses
    them), as rare as possible."""

    def build(snap: Snapshot) -> spec.LeadQuery | str:
        first = {t for lead in snap.default for t in _items(lead, f.field)[:1]}
        later = Counter(t for lead in snap.default for t in _items(lead, f.field)[1:])
        if not later:
            return f"no lead has more than one of {f.field}"
        item = min(later, key=lambda t: (t in first, later[t]))
        return at(snap, _query(f, item), "full")

    return build


def _with_unknown_item(f: spec.Filter) -> Case:
    def build(snap: Snapshot) -> spec.LeadQuery | str:
        items = _values(f, snap.default)
        if not items:
            return f"no lead has {f.field}"
        return at(snap, _query(f, f"{UNKNOWN_VALUE},{items.most_common(1)[0][0]}"), "one_more")

    return build


def _item_variant(f: spec.Filter, kind: Literal["other_case", "padded"]) -> Case:
    """The commonest item in other letter case, or with spaces around it: shows whether the
    filter ignores case, and whether each item is trimmed."""

    def build(snap: Snapshot) -> spec.LeadQuery | str:
        for item, _ in _values(f, snap.default).most_common():
            value = item.swapcase() if kind == "other_case" else f" {item} "
            if value != item:
                return at(snap, _query(f, value), "full")
        return f"no lead has {f.field} with letters"

    return build


def _item_piece(f: spec.Filter) -> Case:
    """The commonest item without its last letter, when that is no item itself: no lead has it,
    but a server that matches items as text (``LIKE`` on the items joined) finds many."""

    def build(snap: Snapshot) -> spec.LeadQuery | str:
        items = _values(f, snap.everything)
        known = {t.strip().casefold() for t in items}
        for item, _ in items.most_common():
            piece = item[:-1]
            if len(piece) >= 2 and piece.strip() == piece and piece.casefold() not in known:
                return at(snap, _query(f, piece), "full")
        return f"no one of {f.field} is three letters long or more"

    return build


def _list_cases(f: spec.Filter) -> dict[str, Case]:
    n = f.name
    return {
        f"{n}_commonest__last_page_exact": _one_item(f),
        f"{n}_two": _several_items(f, 2, "full"),
        f"{n}_three__last_page_one_more": _several_items(f, 3, "one_more"),
        f"{n}_in_a_later_position": _later_item(f),
        f"{n}_with_unknown": _with_unknown_item(f),
        f"{n}_in_other_case": _item_variant(f, "other_case"),
        f"{n}_with_spaces_around": _item_variant(f, "padded"),
        f"{n}_piece_of_one": _item_piece(f),
    }


# -- filters together ---------------------------------------------------------------------------


def _combined(filters: list[spec.Filter], *, archived: bool = False, boundary: Boundary = "full") -> Case:
    """Filters together, with values one lead has (so the answer is not empty)."""
    lists = [f for f in filters if f.kind == "any_of"]

    def build(snap: Snapshot) -> spec.LeadQuery | str:
        leads = snap.everything if archived else snap.default
        counts = {f.name: _values(f, leads) for f in lists}

        # Leads with several items first, and their commonest items: the other filters then cut
        # a big set, which is where an OR in place of an AND shows. With archived=true, an
        # archived lead first, so that the answer must hold one.
        def rank(lead: Lead) -> tuple[bool, int]:
            return (
                archived and lead.get("id") not in snap.archived_ids,
                -sum(len(_items(lead, f.field)) for f in lists),
            )

        for lead in sorted(leads, key=rank):
            values: dict[str, Any] = {}
            for f in filters:
                if f.kind == "search":
                    found = next(
                        (
                            needle
                            for name, length in zip(f.fields[:2], (3, 4), strict=False)
                            if (needle := _only_in(lead, name, length, f.fields))
                        ),
                        None,
                    )
                else:
                    held = sorted(_lead_values(f, lead), key=lambda v: -counts.get(f.name, Counter())[v])
                    found = held[0] if held else None
                if found is None:
                    break
                values[f.name] = found
            else:
                if archived:
                    values["archived"] = True
                return at(snap, spec.LeadQuery().with_(**values), boundary)
        return f"no lead has {', '.join(f.name for f in filters)} together"

    return build


def _combined_cases() -> dict[str, Case]:
    """Every two filters together, all of them with archived=true, and the first two that are
    not a search on a first page of the full listing."""
    narrowing = [f for f in spec.FILTERS if f.narrows]
    cases: dict[str, Case] = {}
    for i, (a, b) in enumerate(combinations(narrowing, 2)):
        cases[f"{a.name}_and_{b.name}"] = _combined([a, b], boundary=("full", "exact")[i % 2])
    cases["all_filters_archived"] = _combined(narrowing, archived=True)
    pair = [f for f in narrowing if f.kind != "search"][:2]
    if len(pair) == 2:
        cases[f"{pair[0].name}_and_{pair[1].name}_archived__first_page"] = _combined(
            pair, archived=True, boundary="first"
        )
    return cases


def _default_listing(kind: Boundary, *, archived: bool | None = None) -> Case:
    def build(snap: Snapshot) -> spec.LeadQuery | str:
        query = spec.LeadQuery() if archived is None else spec.LeadQuery().with_(archived=archived)
        return at(snap, query, kind)

    return build


def _deep_single(snap: Snapshot) -> spec.LeadQuery | str:
    total = len(snap.default)
    if total < 2:
        return "the default listing has fewer than two leads"
    return spec.LeadQuery().with_(limit=1, page=total)


#: The cases each kind of filter gets (see ``spec.Filter``): a listing's are the plan's first.
_CASES_BY_KIND: Final[dict[str, Callable[[spec.Filter], dict[str, Case]]]] = {
    "exact": _field_cases,
    "one_of": _field_cases,
    "any_of": _list_cases,
    "search": _search_cases,
}

PLAN: Final[dict[str, Case]] = {
    "archived_false__last_page_exact": _default_listing("exact", archived=False),
    "archived_true__last_page_one_more": _default_listing("one_more", archived=True),
    "limit_one__first_page": lambda snap: spec.LeadQuery().with_(limit=1, page=1),
    "limit_one__last_page": _deep_single,
    "page_far_past_the_end": lambda snap: spec.LeadQuery().with_(limit=10, page=FAR_PAGE),
    **{
        name: case
        for f in spec.FILTERS
        if f.kind in _CASES_BY_KIND
        for name, case in _CASES_BY_KIND[f.kind](f).items()
    },
    **_combined_cases(),
}
"""The fixed plan: the listing at its boundaries, each filter's cases by its kind (alone, at
the boundaries of its listing, with the values where readings differ) and the filters together."""


# -- walks ------------------------------------------------------------------------------------


def walk_queries(snap: Snapshot) -> Iterator[tuple[str, spec.LeadQuery | str, Boundary]]:
    """The listings to walk page by page, each ending at a different boundary."""
    yield "default", spec.LeadQuery(), "exact"
    tags = _tags(snap.default)
    yield (
        "tags",
        spec.LeadQuery().with_(tags=tags.most_common(1)[0][0]) if tags else "no lead has tags",
        "one_more",
    )
    stages = _stages(snap.everything)
    yield (
        "stage_archived",
        spec.LeadQuery().with_(stage=stages.most_common(1)[0][0], archived=True)
        if stages
        else "no lead has a stage",
        "one_less",
    )


def walk_limit(total: int, kind: Boundary) -> int:
    """A limit that walks ``total`` leads in at most :data:`MAX_WALK` pages, ending at ``kind``
    when it can."""
    limit, _ = window_for(total, kind, max_pages=MAX_WALK)
    if math.ceil(total / limit) > MAX_WALK and total <= MAX_WALK * spec.MAX_LIMIT:
        limit = math.ceil(total / MAX_WALK)
    return max(1, min(spec.MAX_LIMIT, limit))


# -- Hypothesis: data-aware queries -----------------------------------------------------------


def _substring(draw: st.DrawFn, texts: list[str]) -> str:
    text = draw(st.sampled_from(texts))
    length = draw(st.integers(1, len(text)))
    start = draw(st.integers(0, len(text) - length))
    needle = text[start : start + length]
    return needle.swapcase() if draw(st.integers(0, 5)) == 0 else needle


#: The order in which ``queries`` draws the filters' values, by kind.
_DRAW_ORDER: Final = {"listing": 0, "exact": 1, "one_of": 1, "any_of": 2, "search": 3}


def _draw_value(draw: st.DrawFn, f: spec.Filter, leads: list[Lead]) -> Any:
    """A value of ``f`` (or ``None``: not this time), mostly from the target's own data."""
    if f.kind == "listing":
        return draw(st.booleans()) if draw(st.booleans()) else None
    if f.kind == "search":
        texts = [t for name in f.fields for t in _strings(leads, name)]
        if texts and draw(st.integers(0, 2)) == 0:
            return _substring(draw, texts)
        if draw(st.integers(0, 9)) == 0:
            return draw(
                st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), min_size=1, max_size=5)
            )
        return None
    held = sorted(_values(f, leads))
    if not held and not f.values:
        return None
    if f.kind == "any_of":
        if draw(st.integers(0, 2)) != 0:
            return None
        return ",".join(draw(st.lists(st.sampled_from([*held, UNKNOWN_VALUE]), min_size=1, max_size=3)))
    if draw(st.integers(0, 3)) != 0:
        return None
    return draw(st.sampled_from(list(f.values) or [*held, UNKNOWN_VALUE]))


@st.composite
def queries(draw: st.DrawFn, snap: Snapshot) -> spec.LeadQuery:
    """Queries built from the target's own values (mostly) and random ones (sometimes), with a
    limit and page that often land on a boundary of the listing they select. Every filter of
    ``spec.FILTERS`` is drawn, by its kind."""
    leads = snap.everything
    changes: dict[str, Any] = {}
    for f in sorted(spec.FILTERS, key=lambda f: _DRAW_ORDER[f.kind]):
        value = _draw_value(draw, f, leads)
        if value is not None:
            changes[f.name] = value
    query = spec.LeadQuery().with_(**changes)
    total = expected_total(snap, query) if snap.complete else len(leads)
    kind = draw(st.sampled_from(["exact", "one_more", "one_less", "middle", "first", "random", "past"]))
    limit, page = window_for(total, "full")
    if kind == "random":
        limit = draw(st.integers(1, 20) | st.sampled_from([1, 50, 999, 1000]))
        page = draw(st.integers(1, max(1, math.ceil(total / limit)) + 1))
    elif kind == "past":
        limit = draw(st.integers(1, 60))
        page = max(1, math.ceil(total / limit)) + draw(st.integers(1, 3))
    elif kind in ("exact", "one_more", "one_less", "middle", "first"):
        limit, page = window_for(total, kind)  # type: ignore[arg-type]  # one of Boundary's
    return query.with_(limit=limit, page=page)


def tie_split(snap: Snapshot) -> tuple[spec.LeadQuery, list[Any], int] | str:
    """A page of the default listing whose end falls inside a group of leads created at the same
    instant (the largest group), and the ids of that group. A server that breaks such ties
    differently from one request to the next shows it as a lead on both sides of the boundary,
    or on neither. Returns the query of the page before the boundary, the group's ids and how
    many of them the two pages around the boundary hold."""
    groups: list[tuple[int, int]] = []  # (start, stop) of each run of equal created_at
    times = [spec.parse_timestamp(lead.get("created_at")) for lead in snap.default]
    start = 0
    for i in range(1, len(times) + 1):
        if i == len(times) or times[i] is None or times[i] != times[start]:
            if i - start >= 2 and times[start] is not None:
                groups.append((start, i))
            start = i
    if not groups:
        return "no two leads of the default listing were created at the same instant"
    first, stop = max(groups, key=lambda g: (g[1] - g[0], -g[0]))
    # A boundary inside the group, with a limit whose two pages around it hold the whole group.
    choices = []
    for boundary in range(first + 1, stop):
        limit = _divisor(boundary, low=1, high=spec.MAX_LIMIT) or 1
        covered = min(stop, boundary + limit) - max(first, boundary - limit)
        choices.append((covered, limit, boundary))
    covered, limit, boundary = max(choices)
    ids = [lead.get("id") for lead in snap.default[first:stop]]
    return spec.LeadQuery().with_(limit=limit, page=boundary // limit), ids, covered


def why_not(snap: Snapshot, reason: str) -> str:
    """Why a check cannot be exercised: ``reason`` (what the data lack), unless the listing it
    looks for that in could not be read in full, which is then the reason to give."""
    if not snap.complete:
        return f"the whole listing could not be read ({snap.problem}), so what this check needs was not found"
    return f"the target's data cannot exercise this: {reason}"
