"""The SQL of each filter of ``spec.FILTERS``, made from its declaration.

A row says which columns of ``leads`` the filter reads (the schema, the loading and the counts
table are made from them, see ``_schema``) and how it becomes a condition. A filter that selects
the leads whose text field is a value (``spec.exact``, ``spec.one_of``) gets its row from its
kind: an indexed column, ``column = ?``, and the profile's other readings (a value in any case,
the filter ignored). The four filters of the reference page have rows written here, for speed.

Two filters use the search index's rowids to stay fast at a million leads: a rowid is a stage
code, then the lead's position, then the first tag bits (``rowid``), so that a search combined
with the usual stage and tags filters reads only its stage's range of the index and is counted
in the index alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from rotor_leads import spec
from rotor_leads.spec import _parameters

TAG_BITS: Final = 62  # tags with a bit in tag_bits (SQLite integers are signed 64-bit)
STAGE_CODES: Final = 15  # stage codes 1..15 in a search rowid; 0: no stage, or one without a code
ROWID_TAGS: Final = 0xFFF  # the first 12 tag bits, in a search rowid
CODE_BITS: Final = 12  # a search rowid: stage << STAGE_SHIFT | position << CODE_BITS | tag bits
STAGE_SHIFT: Final = 58  # 4 bits of stage code above 46 of position; the sign bit stays clear
POSITION: Final = (1 << (STAGE_SHIFT - CODE_BITS)) - 1  # the position's bits, once shifted down
SHORT_SEARCH: Final = 3  # the trigram index answers substrings of 3+ characters


def rowid(stage: int, position: int, tag_bits: int) -> int:
    """A lead's rowid in a search index. Ordered by stage code first, so that a stage filter
    reads one range of the index; within a stage, in the listing's order."""
    return stage << STAGE_SHIFT | position << CODE_BITS | (tag_bits & ROWID_TAGS)


def stage_range(stage: int) -> tuple[int, int]:
    """The first and last rowid a stage code can have."""
    return stage << STAGE_SHIFT, (stage + 1 << STAGE_SHIFT) - 1


def position_sql(rowid: str) -> str:
    """The SQL of the position a search index's ``rowid`` carries."""
    return f"(({rowid} >> {CODE_BITS}) & {POSITION})"


@dataclass
class CodeBook:
    """The codes a data set's search rowids carry: stage → code (1..15) and tag → bit of
    ``tag_bits``, given to the first values seen while loading."""

    stages: dict[str, int] = field(default_factory=dict)
    tags: dict[str, int] = field(default_factory=dict)

    def stage_code(self, stage: object) -> int:
        if not isinstance(stage, str):
            return 0
        code = self.stages.get(stage)
        if code is None and len(self.stages) < STAGE_CODES:
            code = self.stages[stage] = len(self.stages) + 1
        return code or 0

    def tag_bits(self, tags: Iterable[str]) -> int:
        out = 0
        for tag in tags:
            bit = self.tags.get(tag)
            if bit is None and len(self.tags) < TAG_BITS:
                bit = self.tags[tag] = 1 << len(self.tags)
            out |= bit or 0
        return out

    def without_bits(self, tags: Iterable[str]) -> tuple[str, ...]:
        """The tags a filter must look up in ``lead_tags``: those without a bit, unless every
        tag in the data has one (then a tag without one is on no lead)."""
        return () if len(self.tags) < TAG_BITS else tuple(t for t in tags if t not in self.tags)


@dataclass(frozen=True)
class Where:
    """A condition, and what it reads."""

    sql: str
    params: tuple[Any, ...] = ()
    #: False when it reads only the search index's rowid (``s.rowid``), not ``leads``.
    reads_leads: bool = True
    #: Whether the ``counts`` table (the filters' columns and a number) can answer it too.
    on_counts: bool = True
    #: The stage codes of the search index's rowids it keeps (``None``: any), read as ranges.
    stages: frozenset[int] | None = None


@dataclass(frozen=True)
class Scope:
    """What a condition is built for: the data set's codes, and whether a search drives the
    query (so that a condition may read the search index's rowid ``s.rowid``). ``readings``
    names the filters a profile reads otherwise than this project (filter → reading), and
    ``spell(filter, value)`` gives the stored values such a reading selects."""

    codes: CodeBook
    on_rowid: bool
    index: str = "lead_search"  # the search index of the listing asked for (SQLite's MATCH names it)
    readings: Mapping[str, str] = field(default_factory=dict)
    spell: Callable[[str, Any], tuple[str, ...]] | None = None

    def spelled(self, name: str, value: Any) -> tuple[str, ...] | None:
        """The stored values the profile's reading of ``value`` selects, or ``None`` when the
        filter is read as this project reads it."""
        if name not in self.readings or self.spell is None:
            return None
        return self.spell(name, value)


@dataclass(frozen=True)
class Column:
    """A column of ``leads`` a filter reads: its SQL type, its value for a lead (at load), and
    whether it gets an index ``(column, archived, pos)``."""

    name: str
    sql_type: str
    value: Callable[[spec.Lead, CodeBook], Any]
    index: bool = False


@dataclass(frozen=True)
class SqlFilter:
    """One filter's SQL: ``where(value, scope)`` is its condition (``None``: none needed)."""

    where: Callable[[Any, Scope], Where | None]
    columns: tuple[Column, ...] = ()
    #: The query is driven from this filter's index (search): its condition is on ``s``.
    drives: bool = False


def equals_column(column: str, *, name: str | None = None) -> SqlFilter:
    """A filter (``name``, default ``column``) that keeps the leads whose text field ``column``
    is the value, exactly; or as the profile reads it: the stored spellings its reading selects,
    or no condition when the server ignores the filter."""
    filter_name = name or column

    def value(lead: spec.Lead, codes: CodeBook) -> str | None:
        found = lead.get(column)
        return found if isinstance(found, str) else None

    def where(v: str, scope: Scope) -> Where | None:
        if scope.readings.get(filter_name) == "ignored":
            return None
        spelled = scope.spelled(filter_name, v)
        if spelled is not None:
            return _one_of(column, spelled, scope, coded=False)
        return Where(f"{column} = ?", (v,))

    return SqlFilter(where=where, columns=(Column(column, "TEXT", value, index=True),))


def _archived(value: bool, scope: Scope) -> Where | None:
    # A search reads the index of the listing asked for: without archived leads unless asked.
    return None if value or scope.on_rowid else Where("archived = 0")


def _search(value: str, scope: Scope) -> Where:
    """The search as a condition on the search index ``s`` that drives the query. The index
    holds lower-cased text, so matching is exactly spec's case-insensitive reading (or the text
    as it is, for a profile whose search is case-sensitive)."""
    needle = value if scope.readings.get("search") == "case_sensitive" else value.lower()
    if len(needle) >= SHORT_SEARCH:
        return Where(f"{scope.index} MATCH ?", ('"' + needle.replace('"', '""') + '"',), reads_leads=False)
    fields = " OR ".join(f"instr({f}, ?)" for f in spec.SEARCH_FIELDS)
    return Where(f"({fields})", (needle,) * len(spec.SEARCH_FIELDS), reads_leads=False)


def _stage(value: str, scope: Scope) -> Where:
    spelled = scope.spelled("stage", value)
    if spelled is not None:
        return _one_of("stage", spelled, scope)
    code = scope.codes.stages.get(value)
    if scope.on_rowid and code is not None:
        return Where("1", reads_leads=False, stages=frozenset((code,)))
    return Where("stage = ?", (value,))


def _one_of(name: str, values: tuple[str, ...], scope: Scope, *, coded: bool = True) -> Where:
    """Column ``name`` is one of ``values`` (the spellings a profile's reading selects); with
    ``coded``, it is ``stage``, whose codes a search rowid carries."""
    if not values:
        return Where("0")
    codes = {scope.codes.stages.get(v) for v in values} if coded else {None}
    if scope.on_rowid and None not in codes:
        return Where("1", reads_leads=False, stages=frozenset(c for c in codes if c is not None))
    return Where(f"{name} IN ({','.join('?' * len(values))})", values)


def _tags(value: str, scope: Scope) -> Where:
    spelled = scope.spelled("tags", value)
    tags = spec.split_tags(value) if spelled is None else spelled
    bits = scope.codes.tags
    mask = sum(bits[t] for t in set(tags) if t in bits)
    rare = scope.codes.without_bits(tags)
    if scope.on_rowid and not rare and mask <= ROWID_TAGS:
        return Where("(s.rowid & ?) != 0", (mask,), reads_leads=False)
    parts = [Where("tag_bits & ? != 0", (mask,))] if mask else []
    if rare:
        marks = ",".join("?" * len(rare))
        parts.append(
            Where(f"pos IN (SELECT pos FROM lead_tags WHERE tag IN ({marks}))", rare, on_counts=False)
        )
    if not parts:
        return Where("0")  # tags no lead has
    return Where(
        "(" + " OR ".join(p.sql for p in parts) + ")",
        tuple(x for p in parts for x in p.params),
        on_counts=all(p.on_counts for p in parts),
    )


def _stage_value(lead: spec.Lead, codes: CodeBook) -> str | None:
    stage = lead.get("stage")
    return stage if isinstance(stage, str) else None


def _tag_bits_value(lead: spec.Lead, codes: CodeBook) -> int:
    return codes.tag_bits({t for t in spec.lead_tags(lead)})


#: The rows written for speed (the search index's rowid codes), by filter name.
_OWN: Final[Mapping[str, SqlFilter]] = {
    "archived": SqlFilter(where=_archived),  # the archived column is part of every layout
    "search": SqlFilter(where=_search, drives=True),
    "stage": SqlFilter(where=_stage, columns=(Column("stage", "TEXT", _stage_value, index=True),)),
    "tags": SqlFilter(where=_tags, columns=(Column("tag_bits", "INTEGER NOT NULL", _tag_bits_value),)),
}


def sql_for(f: spec.Filter) -> SqlFilter:
    """The SQL row of filter ``f``: its own, or the one its kind makes. Raises ``DeclarationError``
    for a kind that makes none (a second search, list or listing filter needs a row written here)."""
    own = _OWN.get(f.name)
    if own is not None:
        return own
    if f.kind in ("exact", "one_of"):
        return equals_column(f.field, name=f.name)
    raise spec.DeclarationError(
        f"filter {f.name!r} is of kind {f.kind!r}, whose SQL the mock cannot make: write its row in"
        " _OWN in mock_server/engine/store/_filters.py, or declare it exact or one_of"
    )


#: The SQL of each filter of ``spec.FILTERS``.
FILTER_SQL: Final[Mapping[str, SqlFilter]] = {f.name: sql_for(f) for f in _parameters.FILTERS}


def check_rows(filters: Mapping[str, SqlFilter]) -> None:
    """Raise ``RuntimeError`` unless ``filters`` has a row for exactly the filters of spec."""
    wanted = {f.name for f in _parameters.FILTERS}
    if set(filters) != wanted:
        missing, extra = sorted(wanted - set(filters)), sorted(set(filters) - wanted)
        raise RuntimeError(
            f"the mock's store has no SQL for {missing} / SQL for no filter {extra}: a store's"
            " rows are those of spec.FILTERS (see mock_server/engine/store/_filters.py)"
        )
