"""Which queries to send: a fixed plan that covers every documented rule on the target's own
data, and Hypothesis strategies, data-aware, for the rest.

Filter values come from the leads the target actually holds (learned from the snapshot), so
filters are exercised on non-empty results; random values are mixed in.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from typing import Any, Final

from hypothesis import strategies as st

import spec
from contract_tests._snapshot import Snapshot

Lead = dict[str, Any]
#: A plan case: the query for a snapshot, or the reason it cannot be built on this data.
Case = Callable[[Snapshot], spec.LeadQuery | str]

UNKNOWN_VALUE: Final = "zz-no-such-value-zz"


def _strings(leads: list[Lead], field: str) -> list[str]:
    return [v for v in (lead.get(field) for lead in leads) if isinstance(v, str) and v]


def _tags(leads: list[Lead]) -> Counter[str]:
    return Counter(
        t for lead in leads for t in (lead.get("tags") or []) if isinstance(t, str) and t.strip() == t
    )


def _only_in(lead: Lead, field: str, length: int) -> str | None:
    """A substring of ``lead[field]`` found (ignoring case) in none of its other search fields."""
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
        if needle.strip() == needle and not any(needle.casefold() in o for o in others) and "," not in needle:
            return needle
    return None


def _search_case(field: str, length: int) -> Case:
    def build(snap: Snapshot) -> spec.LeadQuery | str:
        for lead in snap.default:
            needle = _only_in(lead, field, length)
            if needle:
                return spec.LeadQuery().with_(search=needle)
        return f"no lead of the default listing has a {field} to search in"

    return build


def _stage(snap: Snapshot) -> spec.LeadQuery | str:
    stages = Counter(_strings(snap.default, "stage"))
    return spec.LeadQuery().with_(stage=stages.most_common()[-1][0]) if stages else "no lead has a stage"


def _stage_archived(snap: Snapshot) -> spec.LeadQuery | str:
    stages = Counter(_strings(snap.everything, "stage"))
    return (
        spec.LeadQuery().with_(stage=stages.most_common(1)[0][0], archived=True)
        if stages
        else "no lead has a stage"
    )


def _one_tag(snap: Snapshot) -> spec.LeadQuery | str:
    tags = _tags(snap.default)
    return spec.LeadQuery().with_(tags=tags.most_common(1)[0][0]) if tags else "no lead has tags"


def _two_tags(snap: Snapshot) -> spec.LeadQuery | str:
    tags = _tags(snap.default).most_common()
    if len(tags) < 2:
        return "fewer than two distinct tags in the data"
    return spec.LeadQuery().with_(tags=f"{tags[-1][0]},{tags[len(tags) // 2][0]}")


def _unknown_tag(snap: Snapshot) -> spec.LeadQuery | str:
    tags = _tags(snap.default)
    if not tags:
        return "no lead has tags"
    return spec.LeadQuery().with_(tags=f"{UNKNOWN_VALUE},{tags.most_common(1)[0][0]}")


def _search_ignoring_case(snap: Snapshot) -> spec.LeadQuery | str:
    for lead in snap.default:
        needle = _only_in(lead, "name", 4)
        if needle and needle.swapcase() != needle:
            return spec.LeadQuery().with_(search=needle.swapcase())
    return "no name with letters to search in"


def _combined(snap: Snapshot) -> spec.LeadQuery | str:
    for lead in snap.everything:
        tags, stage, needle = _tags([lead]), lead.get("stage"), _only_in(lead, "name", 3)
        if tags and isinstance(stage, str) and needle:
            return spec.LeadQuery().with_(stage=stage, tags=next(iter(tags)), search=needle, archived=True)
    return "no lead has a stage, tags and a name together"


def _second_page(snap: Snapshot) -> spec.LeadQuery | str:
    limit = max(1, min(50, len(snap.default) // 3))
    return spec.LeadQuery().with_(limit=limit, page=2)


def _last_page(snap: Snapshot) -> spec.LeadQuery | str:
    limit = 7
    return spec.LeadQuery().with_(limit=limit, page=max(1, math.ceil(len(snap.default) / limit)))


PLAN: Final[dict[str, Case]] = {
    "default": lambda snap: spec.LeadQuery(),
    "archived_false": lambda snap: spec.LeadQuery().with_(archived=False),
    "stage": _stage,
    "stage_with_archived": _stage_archived,
    "tags_one": _one_tag,
    "tags_any_of_two": _two_tags,
    "tags_with_unknown": _unknown_tag,
    "search_name": _search_case("name", 4),
    "search_email": _search_case("email", 5),
    "search_phone": _search_case("phone", 4),
    "search_ignoring_case": _search_ignoring_case,
    "filters_combined": _combined,
    "second_page": _second_page,
    "last_page": _last_page,
    "unknown_stage": lambda snap: spec.LeadQuery().with_(stage=UNKNOWN_VALUE),
}


# -- Hypothesis: data-aware queries -----------------------------------------------------------


def _substring(draw: st.DrawFn, texts: list[str]) -> str:
    text = draw(st.sampled_from(texts))
    length = draw(st.integers(1, min(6, len(text))))
    start = draw(st.integers(0, len(text) - length))
    needle = text[start : start + length]
    return needle.swapcase() if draw(st.integers(0, 5)) == 0 else needle


@st.composite
def queries(draw: st.DrawFn, snap: Snapshot) -> spec.LeadQuery:
    """Queries built from the target's own values (mostly) and random ones (sometimes)."""
    leads = snap.everything
    stages = sorted(set(_strings(leads, "stage")))
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
    if draw(st.integers(0, 3)):
        changes["limit"] = draw(st.integers(1, 20) | st.sampled_from([1, 50, 999, 1000]))
    limit = changes.get("limit", spec.DEFAULT_LIMIT)
    if draw(st.integers(0, 2)):
        last = max(1, math.ceil(len(leads) / limit))
        changes["page"] = draw(st.integers(1, last + 1))
    return spec.LeadQuery().with_(**changes)
