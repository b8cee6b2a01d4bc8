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
from typing import Any, Final, Literal

from hypothesis import strategies as st

from rotor_leads import spec
from rotor_leads.contract_tests._snapshot import Snapshot

Lead = dict[str, Any]
#: A plan case: the query for a snapshot, or the reason it cannot be built on this data.
Case = Callable[[Snapshot], spec.LeadQuery | str]
Boundary = Literal["exact", "one_more", "one_less", "middle", "first", "full"]

UNKNOWN_VALUE: Final = "zz-no-such-value-zz"
#: A page far past the end of any listing (the page sets no maximum).
FAR_PAGE: Final = 100_000
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


def _lead_tags(lead: Lead) -> list[str]:
    tags = lead.get("tags")
    return (
        [t for t in tags if isinstance(t, str) and t and t.strip() == t and "," not in t]
        if isinstance(tags, list)
        else []
    )


def _tags(leads: list[Lead]) -> Counter[str]:
    return Counter(t for lead in leads for t in _lead_tags(lead))


def _stages(leads: list[Lead]) -> Counter[str]:
    return Counter(s for s in _strings(leads, "stage") if s.strip() == s)


def _special(text: str) -> int:
    """How much a value tests a server's decoding and escaping: punctuation, spaces, non-ASCII."""
    return (
        sum(1 for c in text if not c.isalnum())
        + 3 * sum(1 for c in text if ord(c) > 127)
        + (5 if text.startswith("+") else 0)
    )


def _only_in(lead: Lead, field: str, length: int) -> str | None:
    """A piece of ``lead[field]`` of ``length`` found (ignoring case) in none of its other search
    fields, so that a server that does not search ``field`` misses this lead."""
    text = lead.get(field)
    if not isinstance(text, str) or len(text) < length:
        return None
    others = [
        t.casefold()
        for f, t in ((f, lead.get(f)) for f in spec.SEARCH_FIELDS)
        if f != field and isinstance(t, str)
    ]
    for start in range(len(text) - length, -1, -1):
        needle = text[start : start + length]
        if needle.strip() == needle and not any(needle.casefold() in o for o in others):
            return needle
    return None


def _determinate(snap: Snapshot, query: spec.LeadQuery) -> bool:
    return snap.expect(query).determinate


def _search(field: str, length: int | None, *, special: bool = False, archived: bool = False) -> Case:
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
            needle = _only_in(lead, field, len(value) if length is None else length)
            if needle is None:
                continue
            query = spec.LeadQuery().with_(search=needle)
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


def _short_search(length: int) -> Case:
    """A piece of ``length`` characters that many leads share (completeness on a big answer)."""

    def build(snap: Snapshot) -> spec.LeadQuery | str:
        pieces: Counter[str] = Counter()
        for lead in snap.default:
            for text in spec.search_texts(lead):
                for start in range(len(text) - length + 1):
                    piece = text[start : start + length]
                    if piece.strip() == piece:
                        pieces[piece] += 1
        # Prefer a piece whose reading does not depend on case, so the total is exact.
        for piece, _ in pieces.most_common(40):
            query = spec.LeadQuery().with_(search=piece)
            if _determinate(snap, query):
                return at(snap, query, "exact")
        if pieces:
            return at(snap, spec.LeadQuery().with_(search=pieces.most_common(1)[0][0]), "exact")
        return "no lead has a name, email or phone to search in"

    return build


#: Lengths a server might cut a search term to (a column size, a prefix index).
_CUTS: Final = (8, 10, 12, 16, 20, 24, 32, 50, 64)


def _search_long_common_start(snap: Snapshot) -> spec.LeadQuery | str:
    """A whole name or email whose beginning other leads share: a server that cuts the term at
    one of the usual lengths returns those other leads too."""
    everyone = "\x00".join(t.casefold() for lead in snap.default for t in spec.search_texts(lead))
    best: tuple[int, int, str] | None = None
    for lead in snap.default:
        own = "\x00".join(t.casefold() for t in spec.search_texts(lead))
        for value in (lead.get("name"), lead.get("email")):
            if not isinstance(value, str) or len(value) <= _CUTS[0] or value.strip() != value:
                continue
            folded = value.casefold()
            # A beginning found more often in all texts than in this lead's own: others share it.
            starts = [folded[:cut] for cut in _CUTS if cut < len(value)]
            shared = sum(1 for start in starts if everyone.count(start) > own.count(start))
            if shared and (best is None or (shared, len(value)) > best[:2]):
                best = (shared, len(value), value)
    if best is None:
        return "no long name or email starts like another lead's"
    return at(snap, spec.LeadQuery().with_(search=best[2]), "full")


def _search_punctuation_literal(snap: Snapshot) -> spec.LeadQuery | str:
    """Three characters around a '.', '_', '-' or '+' that another lead has with a different
    middle character: a server reading the punctuation as a wildcard (a regular expression,
    SQL LIKE) returns that lead too."""
    # (first, last) → middle → the leads with that three-character piece.
    pieces: dict[tuple[str, str], dict[str, set[Any]]] = {}
    for lead in snap.default:
        for text in spec.search_texts(lead):
            low = text.casefold()
            for i in range(len(low) - 2):
                pieces.setdefault((low[i], low[i + 2]), {}).setdefault(low[i + 1], set()).add(lead.get("id"))
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
            return at(snap, spec.LeadQuery().with_(search=best[1]), "full")
    return "no name, email or phone has punctuation that another lead has as a letter"


def _search_ignoring_case(snap: Snapshot) -> spec.LeadQuery | str:
    for lead in snap.default:
        needle = _only_in(lead, "name", 4)
        if needle and needle.swapcase() != needle:
            return spec.LeadQuery().with_(search=needle.swapcase())
    return "no name with letters to search in"


def _search_only_archived(snap: Snapshot, *, archived: bool) -> spec.LeadQuery | str:
    """A needle that only archived leads contain: found with archived=true, not without."""
    shown = [t.casefold() for lead in snap.default for t in spec.search_texts(lead)]
    for lead in snap.everything:
        if lead.get("id") not in snap.archived_ids:
            continue
        for text in spec.search_texts(lead):
            for length in (len(text), 8, 5):
                needle = text[-length:] if length <= len(text) else None
                if needle and needle.strip() == needle and not any(needle.casefold() in s for s in shown):
                    query = spec.LeadQuery().with_(search=needle)
                    return query.with_(archived=True) if archived else query
    return "no archived lead has a name, email or phone that no other lead shares"


def _search_spanning_fields(snap: Snapshot) -> spec.LeadQuery | str:
    """The end of a lead's name, a space and the start of its email, found in no lead's name,
    email or phone: no lead matches, but a server that searches the fields joined into one
    text finds that lead."""
    for lead in snap.default[:20]:  # each tried against every lead: a few suffice
        name, email = lead.get("name"), lead.get("email")
        if not (isinstance(name, str) and isinstance(email, str) and len(name) >= 3 and len(email) >= 3):
            continue
        needle = f"{name[-3:]} {email[:3]}"
        if needle.strip() != needle or not needle.isprintable():
            continue
        folded = needle.casefold()
        if not any(folded in t.casefold() for other in snap.everything for t in spec.search_texts(other)):
            return at(snap, spec.LeadQuery().with_(search=needle), "full")
    return "no lead has a name and an email whose join no field holds"


def _tag_piece(snap: Snapshot) -> spec.LeadQuery | str:
    """The commonest tag without its last letter, when that is no tag itself: no lead has it,
    but a server that matches tags as text (``LIKE`` on the tags joined) finds many."""
    tags = _tags(snap.everything)
    known = {t.strip().casefold() for t in tags}
    for tag, _ in tags.most_common():
        piece = tag[:-1]
        if len(piece) >= 2 and piece.strip() == piece and piece.casefold() not in known:
            return at(snap, spec.LeadQuery().with_(tags=piece), "full")
    return "no tag is three letters long or more"


def _stage(kind: Literal["rarest", "commonest"], *, archived: bool, boundary: Boundary) -> Case:
    def build(snap: Snapshot) -> spec.LeadQuery | str:
        stages = _stages(snap.everything if archived else snap.default).most_common()
        if not stages:
            return "no lead has a stage"
        stage = stages[-1][0] if kind == "rarest" else stages[0][0]
        query = spec.LeadQuery().with_(stage=stage)
        return at(snap, query.with_(archived=True) if archived else query, boundary)

    return build


def _one_tag(snap: Snapshot) -> spec.LeadQuery | str:
    tags = _tags(snap.default)
    return (
        at(snap, spec.LeadQuery().with_(tags=tags.most_common(1)[0][0]), "exact")
        if tags
        else "no lead has tags"
    )


def _several_tags(count: int, boundary: Boundary) -> Case:
    def build(snap: Snapshot) -> spec.LeadQuery | str:
        tags = [t for t, _ in _tags(snap.default).most_common()]
        if len(tags) < count:
            return f"fewer than {count} distinct tags in the data"
        # The rarest, then tags from the middle: leads with several of them test the union.
        chosen = [tags[-1], *tags[len(tags) // 2 : len(tags) // 2 + count - 1]]
        return at(snap, spec.LeadQuery().with_(tags=",".join(chosen)), boundary)

    return build


def _later_tag(snap: Snapshot) -> spec.LeadQuery | str:
    """A tag that some leads have only after another tag (a server reading only the first misses
    them), as rare as possible."""
    first = {t for lead in snap.default for t in _lead_tags(lead)[:1]}
    later = Counter(t for lead in snap.default for t in _lead_tags(lead)[1:])
    if not later:
        return "no lead has more than one tag"
    tag = min(later, key=lambda t: (t in first, later[t]))
    return at(snap, spec.LeadQuery().with_(tags=tag), "full")


def _unknown_tag(snap: Snapshot) -> spec.LeadQuery | str:
    tags = _tags(snap.default)
    if not tags:
        return "no lead has tags"
    return at(snap, spec.LeadQuery().with_(tags=f"{UNKNOWN_VALUE},{tags.most_common(1)[0][0]}"), "one_more")


def _stage_other_case(snap: Snapshot) -> spec.LeadQuery | str:
    """The commonest stage in other letter case: shows whether stage ignores case."""
    for stage, _ in _stages(snap.default).most_common():
        if stage.swapcase() != stage:
            return at(snap, spec.LeadQuery().with_(stage=stage.swapcase()), "full")
    return "no stage has letters"


def _tag_variant(kind: Literal["other_case", "padded"]) -> Case:
    """The commonest tag in other letter case, or with spaces around it: shows whether tags
    ignore case, and whether each tag is trimmed."""

    def build(snap: Snapshot) -> spec.LeadQuery | str:
        for tag, _ in _tags(snap.default).most_common():
            value = tag.swapcase() if kind == "other_case" else f" {tag} "
            if value != tag:
                return at(snap, spec.LeadQuery().with_(tags=value), "full")
        return "no lead has a tag with letters"

    return build


def _combined(*names: str, archived: bool = False, boundary: Boundary = "full") -> Case:
    """Filters together, with values one lead has (so the answer is not empty)."""

    def build(snap: Snapshot) -> spec.LeadQuery | str:
        leads = snap.everything if archived else snap.default
        counts = _tags(leads)

        # Leads with several tags first, and their commonest tags: the other filters then cut
        # a big set, which is where an OR in place of an AND shows. With archived=true, an
        # archived lead first, so that the answer must hold one.
        def rank(lead: Lead) -> tuple[bool, int]:
            return (archived and lead.get("id") not in snap.archived_ids, -len(_lead_tags(lead)))

        for lead in sorted(leads, key=rank):
            values: dict[str, Any] = {}
            stage = lead.get("stage")
            tags = sorted(_lead_tags(lead), key=lambda t: -counts[t])
            if "stage" in names:
                if not isinstance(stage, str) or stage.strip() != stage:
                    continue
                values["stage"] = stage
            if "tags" in names:
                if not tags:
                    continue
                values["tags"] = tags[0]
            if "search" in names:
                needle = _only_in(lead, "name", 3) or _only_in(lead, "email", 4)
                if not needle:
                    continue
                values["search"] = needle
            if archived:
                values["archived"] = True
            return at(snap, spec.LeadQuery().with_(**values), boundary)
        return f"no lead has {', '.join(names)} together"

    return build


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


PLAN: Final[dict[str, Case]] = {
    "archived_false__last_page_exact": _default_listing("exact", archived=False),
    "archived_true__last_page_one_more": _default_listing("one_more", archived=True),
    "limit_one__first_page": lambda snap: spec.LeadQuery().with_(limit=1, page=1),
    "limit_one__last_page": _deep_single,
    "page_far_past_the_end": lambda snap: spec.LeadQuery().with_(limit=10, page=FAR_PAGE),
    "stage_rarest__last_page_one_less": _stage("rarest", archived=False, boundary="one_less"),
    "stage_commonest_archived__middle_page": _stage("commonest", archived=True, boundary="middle"),
    "stage_unknown": lambda snap: spec.LeadQuery().with_(stage=UNKNOWN_VALUE),
    "tags_commonest__last_page_exact": _one_tag,
    "tags_two": _several_tags(2, "full"),
    "tags_three__last_page_one_more": _several_tags(3, "one_more"),
    "tags_in_a_later_position": _later_tag,
    "tags_with_unknown": _unknown_tag,
    "stage_and_tags": _combined("stage", "tags"),
    "stage_and_search": _combined("stage", "search", boundary="exact"),
    "tags_and_search": _combined("tags", "search"),
    "all_filters_archived": _combined("stage", "tags", "search", archived=True),
    "stage_and_tags_archived__first_page": _combined("stage", "tags", archived=True, boundary="first"),
    "search_one_character": _short_search(1),
    "search_two_characters": _short_search(2),
    "search_name_piece": _search("name", 4),
    "search_name_whole": _search("name", None, special=True),
    "search_email_piece": _search("email", 6),
    "search_email_whole": _search("email", None, special=True),
    "search_phone_piece": _search("phone", 3),
    "search_phone_whole": _search("phone", None, special=True),
    "search_long_whole_value": _search_long_common_start,
    "search_punctuation_is_literal": _search_punctuation_literal,
    "search_ignoring_case": _search_ignoring_case,
    "search_spanning_name_and_email": _search_spanning_fields,
    "search_only_archived__with_archived": lambda snap: _search_only_archived(snap, archived=True),
    "search_only_archived__without_archived": lambda snap: _search_only_archived(snap, archived=False),
    "stage_in_other_case": _stage_other_case,
    "tags_in_other_case": _tag_variant("other_case"),
    "tags_with_spaces_around": _tag_variant("padded"),
    "tags_piece_of_a_tag": _tag_piece,
}


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


@st.composite
def queries(draw: st.DrawFn, snap: Snapshot) -> spec.LeadQuery:
    """Queries built from the target's own values (mostly) and random ones (sometimes), with a
    limit and page that often land on a boundary of the listing they select."""
    leads = snap.everything
    stages = sorted(_stages(leads))
    tags = sorted(_tags(leads))
    texts = [t for f in spec.SEARCH_FIELDS for t in _strings(leads, f)]
    changes: dict[str, Any] = {}
    if draw(st.booleans()):
        changes["archived"] = draw(st.booleans())
    if stages and draw(st.integers(0, 3)) == 0:
        changes["stage"] = draw(st.sampled_from([*stages, UNKNOWN_VALUE]))
    if tags and draw(st.integers(0, 2)) == 0:
        changes["tags"] = ",".join(
            draw(st.lists(st.sampled_from([*tags, UNKNOWN_VALUE]), min_size=1, max_size=3))
        )
    if texts and draw(st.integers(0, 2)) == 0:
        changes["search"] = _substring(draw, texts)
    elif draw(st.integers(0, 9)) == 0:
        changes["search"] = draw(
            st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), min_size=1, max_size=5)
        )
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
