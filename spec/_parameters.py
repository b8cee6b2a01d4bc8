"""The query parameters of ``GET /leads``, one row each: how a value is read, its default, and
for a filter the rules it implements and the model's three readings of it.

A filter's readings are predicates on ``(value, lead)``, where ``value`` is the parsed value:

* ``exact`` — this project's reading (documented rules plus the assumed ones); the mock serves
  exactly this, and strict mode holds a server to it;
* ``must`` — leads every reasonable reading of the documented rule returns;
* ``may`` — leads some reasonable reading could return; a lead outside breaks the documented rule.

So ``must ⊆ exact ⊆ may``; a live server is held to the documented bounds unless strict.

A filter is declared once, in :data:`FILTERS`, by its kind (:func:`exact`, :func:`one_of`,
:func:`any_of`, :func:`search`, :func:`listing`); its parsing, readings and rule come from the
declaration here, and the mock's SQL, the profile's choices, the suite's plan and generated
queries from its kind elsewhere. ``openapi.yaml``'s parameters are checked against it when the
document is loaded. docs/development.md says how to add one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from rotor_leads.spec._rules import (
    DEFAULT_LIMIT,
    DEFAULT_PAGE,
    MAX_LIMIT,
    MAX_PAGE,
    MAX_TEXT_LENGTH,
    Rule,
    add_rules,
)

Lead = Mapping[str, Any]
Predicate = Callable[[Any, Lead], bool]
SEARCH_FIELDS: Final = ("name", "email", "phone")

_INTEGER = re.compile(r"-?[0-9]{1,10}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class DeclarationError(RuntimeError):
    """The declared parameters ask for what a part of the project cannot give (the document
    disagrees, the mock has no SQL for a kind); the message says what and where to fix it."""


class ParameterError(ValueError):
    """A query parameter has a value the API does not accept.

    ``parameter`` names it; ``str(error)`` says what was given and what is accepted. ``kind``
    says what is wrong with it (one of :data:`BAD_VALUE_KINDS`), ``raw`` is the text given.
    """

    def __init__(self, parameter: str, message: str, *, kind: str = "invalid", raw: str = "") -> None:
        super().__init__(message)
        self.parameter = parameter
        self.kind = kind
        self.raw = raw


#: What can be wrong with a value: the ``kind`` of a :class:`ParameterError`.
BAD_VALUE_KINDS: Final = (
    "zero",
    "negative",
    "above_maximum",
    "not_a_number",
    "not_boolean",
    "too_long",
    "control_characters",
    "not_utf8",
    "repeated",
    "invalid",
)


# -- reading a value --------------------------------------------------------------------------


def _show(raw: str) -> str:
    return repr(raw if len(raw) <= 40 else raw[:40] + "…")


def boolean(name: str, raw: str) -> bool:
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise ParameterError(
        name, f"Invalid value for '{name}': {_show(raw)}. Give true or false.", kind="not_boolean", raw=raw
    )


def _integer_kind(raw: str, low: int, high: int) -> str | None:
    """What is wrong with ``raw`` as an integer from ``low`` to ``high`` (``None``: nothing)."""
    if not _INTEGER.fullmatch(raw):
        return "not_a_number"
    number = int(raw)
    if number < low:
        return "zero" if number == 0 else "negative"
    return "above_maximum" if number > high else None


def integer(*, low: int, high: int) -> Callable[[str, str], int]:
    def parse(name: str, raw: str) -> int:
        kind = _integer_kind(raw, low, high)
        if kind is None:
            return int(raw)
        raise ParameterError(
            name,
            f"Invalid value for '{name}': {_show(raw)}. Give an integer from {low} to {high}.",
            kind=kind,
            raw=raw,
        )

    return parse


def text(*, max_length: int) -> Callable[[str, str], str | None]:
    def parse(name: str, raw: str) -> str | None:
        if len(raw) > max_length:
            raise ParameterError(
                name,
                f"Invalid value for '{name}': {len(raw)} characters long. Give at most {max_length}.",
                kind="too_long",
                raw=raw,
            )
        if _CONTROL.search(raw):
            raise ParameterError(
                name,
                f"Invalid value for '{name}': {_show(raw)}. Control characters are not allowed.",
                kind="control_characters",
                raw=raw,
            )
        return raw or None

    return parse


def split_tags(raw: str | None) -> tuple[str, ...]:
    """``"a, b,,c"`` → ``("a", "b", "c")``: the assumed reading of a comma-separated list."""
    if not raw:
        return ()
    return tuple(t for t in (part.strip() for part in raw.split(",")) if t)


# -- the rows -----------------------------------------------------------------------------------

#: What a filter does, which decides how everything else treats it (see :class:`Filter`).
FilterKind = Literal["listing", "search", "exact", "one_of", "any_of"]


@dataclass(frozen=True)
class Parameter:
    """A query parameter: its name, how its text is read (raising :class:`ParameterError`),
    its value when not given, and for a number the lowest and highest values accepted."""

    name: str
    parse: Callable[[str, str], Any]
    default: Any = None
    bounds: tuple[int, int] | None = None

    def schema(self) -> dict[str, Any]:
        """What the OpenAPI document's schema for this parameter must say (it may say more)."""
        if self.bounds is not None:
            low, high = self.bounds
            return {"type": "integer", "minimum": low, "maximum": high, "default": self.default}
        return {}


@dataclass(frozen=True)
class Filter(Parameter):
    """A parameter that selects leads: what it reads, the rules it implements, its readings.

    Made by one of :func:`listing`, :func:`search`, :func:`exact`, :func:`one_of` and
    :func:`any_of` (the declaration, :data:`FILTERS`); the mock's SQL, the profile's choices,
    the suite's plan and its generated queries are derived from ``kind``, ``fields`` and
    ``values``.

    ``exact`` is this project's reading, named ``reading``; ``others`` are the other readings a
    server may choose where the page is silent (each between ``must`` and ``may``), by name. A
    behaviour profile names the reading a server chose (see ``_profile``).
    """

    kind: FilterKind = "exact"
    #: The lead fields it reads (one, but for a search).
    fields: tuple[str, ...] = ()
    #: The values it accepts (``one_of``); empty: any text up to ``max_length``.
    values: tuple[str, ...] = ()
    max_length: int = MAX_TEXT_LENGTH
    rule_id: str = ""  # the documented rule (an extension's own assumed rule)
    assumed_rule_id: str | None = None  # the rule that makes ``exact`` narrower than the bounds
    #: The rule of a filter the reference page does not document, made from its declaration.
    extension: Rule | None = None
    exact: Predicate = field(default=lambda value, lead: True)
    must: Predicate = field(default=lambda value, lead: True)
    may: Predicate = field(default=lambda value, lead: True)
    #: Whether a value selects a subset of the listing (``archived`` chooses which listing).
    narrows: bool = True
    #: Whether a value filters at all (an empty list of tags does not).
    applies: Callable[[Any], bool] = field(default=lambda value: value is not None)
    reading: str = "documented"
    others: Mapping[str, Predicate] = field(default_factory=dict)

    @property
    def field(self) -> str:
        """The lead field it reads (a search: the first of them)."""
        return self.fields[0]

    @property
    def documented(self) -> bool:
        """Whether the reference page documents it (else it is an extension)."""
        return self.extension is None

    @property
    def readings(self) -> dict[str, Predicate]:
        """Every reading by name, this project's first."""
        return {self.reading: self.exact, **self.others}

    def read(self, name: str | None) -> Predicate:
        """The predicate of reading ``name`` (``None``: this project's). Raises ``KeyError``
        naming the readings there are."""
        if name is None or name == self.reading:
            return self.exact
        try:
            return self.others[name]
        except KeyError:
            raise KeyError(
                f"{self.name} has no reading {name!r}; it has {', '.join(self.readings)}"
            ) from None

    def schema(self) -> dict[str, Any]:
        if self.kind == "listing":
            return {"type": "boolean", "default": self.default}
        if self.values:
            return {"enum": list(self.values)}
        return {"type": "string", "maxLength": self.max_length}


def is_archived(lead: Lead) -> bool:
    return lead.get("archived") is True


def lead_text(lead: Lead, name: str) -> str | None:
    value = lead.get(name)
    return value if isinstance(value, str) else None


def lead_list(lead: Lead, name: str) -> list[str]:
    """The strings of the list field ``name`` of ``lead`` (none if it is not a list)."""
    items = lead.get(name)
    return [t for t in items if isinstance(t, str)] if isinstance(items, list) else []


def lead_tags(lead: Lead) -> list[str]:
    return lead_list(lead, "tags")


def search_texts(lead: Lead) -> list[str]:
    """The texts ``search`` looks in: name, email and phone, where present."""
    return [v for f in SEARCH_FIELDS if isinstance(v := lead.get(f), str)]


def equals(field_name: str) -> tuple[Predicate, Predicate, Predicate]:
    """``exact``, ``must`` and ``may`` for a filter that selects the leads whose ``field_name`` is
    the value: exact and case-sensitive; any reasonable reading may ignore case and white space."""

    def exact(value: str, lead: Lead) -> bool:
        return lead_text(lead, field_name) == value

    def may(value: str, lead: Lead) -> bool:
        found = lead_text(lead, field_name)
        return found is not None and found.strip().casefold() == value.strip().casefold()

    return exact, exact, may


def _any_case(field_name: str) -> Predicate:
    def read(value: str, lead: Lead) -> bool:
        found = lead_text(lead, field_name)
        return found is not None and found.casefold() == value.casefold()

    return read


def _verbatim_tags(value: str) -> list[str]:
    # The items every reading agrees on: no surrounding white space, not empty.
    return [t for t in value.split(",") if t and t == t.strip()]


def _verbatim_items(value: str) -> list[str]:
    return [t for t in value.split(",") if t]


def _list_readings(field_name: str) -> dict[str, Predicate]:
    """The readings of an any-of list filter on ``field_name``: ``trimmed`` (this project's),
    ``must``, ``may`` and the other readings a server may choose, by name."""

    def trimmed(value: str, lead: Lead) -> bool:
        wanted = split_tags(value)
        return any(t in wanted for t in lead_list(lead, field_name))

    def must(value: str, lead: Lead) -> bool:
        return any(t in _verbatim_tags(value) for t in lead_list(lead, field_name))

    def may(value: str, lead: Lead) -> bool:
        wanted = {t.casefold() for t in split_tags(value)}
        return any(t.strip().casefold() in wanted for t in lead_list(lead, field_name))

    def trimmed_any_case(value: str, lead: Lead) -> bool:
        wanted = {t.casefold() for t in split_tags(value)}
        return any(t.casefold() in wanted for t in lead_list(lead, field_name))

    def verbatim(value: str, lead: Lead) -> bool:
        wanted = _verbatim_items(value)
        return any(t in wanted for t in lead_list(lead, field_name))

    def verbatim_any_case(value: str, lead: Lead) -> bool:
        wanted = {t.casefold() for t in _verbatim_items(value)}
        return any(t.casefold() in wanted for t in lead_list(lead, field_name))

    return {
        "trimmed": trimmed,
        "must": must,
        "may": may,
        "trimmed_any_case": trimmed_any_case,
        "verbatim": verbatim,
        "verbatim_any_case": verbatim_any_case,
    }


def _texts(lead: Lead, fields: tuple[str, ...]) -> list[str]:
    return [v for f in fields if isinstance(v := lead.get(f), str)]


def _search_readings(fields: tuple[str, ...]) -> tuple[Predicate, Predicate, Predicate]:
    """``exact`` (case-insensitive), ``must`` (verbatim, also the case-sensitive reading) and
    ``may`` (any case folding) of a substring search in ``fields``."""

    def exact(value: str, lead: Lead) -> bool:
        needle = value.lower()
        return any(needle in t.lower() for t in _texts(lead, fields))

    def must(value: str, lead: Lead) -> bool:
        return any(value in t for t in _texts(lead, fields))

    def may(value: str, lead: Lead) -> bool:
        needle = value.casefold()
        return any(needle in t.casefold() for t in _texts(lead, fields))

    return exact, must, may


def _everything(value: Any, lead: Lead) -> bool:
    return True


def _declared(
    name: str,
    kind: FilterKind,
    readings: tuple[Predicate, Predicate, Predicate],
    *,
    what: str,
    rule: str | None,
    assumed: str | None,
    reading: str,
    parse: Callable[[str, str], Any],
    others: Mapping[str, Predicate] | None = None,
    **rest: Any,
) -> Filter:
    """A filter; without ``rule`` an extension, whose own assumed rule ``filter.NAME`` it makes:
    a server may ignore it (``may`` is every lead, and ``ignored`` is one of its readings)."""
    exact_, must, may = readings
    extension = None
    more = dict(others or {})
    if rule is None:
        extension = Rule(
            f"filter.{name}",
            "assumed",
            f"{name} returns only the leads {what} (reading: {reading}). An extension: the reference"
            f" page does not document {name}, so a server may ignore it (a strict run holds it to this).",
        )
        rule = assumed = extension.id
        may = _everything
        more["ignored"] = _everything
    return Filter(
        name,
        parse,
        kind=kind,
        rule_id=rule,
        assumed_rule_id=assumed,
        extension=extension,
        exact=exact_,
        must=must,
        may=may,
        reading=reading,
        others=more,
        **rest,
    )


def listing(name: str, *, field: str, rule: str) -> Filter:
    """A boolean that chooses the listing: without it (false), leads whose ``field`` is true are
    left out; with true, they are added to the rest."""

    def read(value: bool, lead: Lead) -> bool:
        return value or lead.get(field) is not True

    return _declared(
        name,
        "listing",
        (read, read, read),
        what=f"without {field} true unless it is true",
        rule=rule,
        assumed=None,
        reading="documented",
        parse=boolean,
        default=False,
        fields=(field,),
        narrows=False,
        applies=lambda value: True,
    )


def search(
    name: str, *, fields: tuple[str, ...], rule: str | None = None, assumed: str | None = None
) -> Filter:
    """A substring search in ``fields``: case-insensitive (``case_sensitive`` is another reading)."""
    readings = _search_readings(fields)
    return _declared(
        name,
        "search",
        readings,
        what=f"whose {', '.join(fields)} contains the value in any letter case",
        rule=rule,
        assumed=assumed,
        reading="case_insensitive",
        others={"case_sensitive": readings[1]},
        parse=text(max_length=MAX_TEXT_LENGTH),
        fields=fields,
    )


def exact(
    name: str,
    *,
    field: str | None = None,
    rule: str | None = None,
    assumed: str | None = None,
    max_length: int = MAX_TEXT_LENGTH,
) -> Filter:
    """The leads whose text ``field`` (default: ``name``) is the value, exactly
    (``case_insensitive`` is another reading)."""
    column = field or name
    return _declared(
        name,
        "exact",
        equals(column),
        what=f"whose {column} is the value, exactly",
        rule=rule,
        assumed=assumed,
        reading="exact",
        others={"case_insensitive": _any_case(column)},
        parse=text(max_length=max_length),
        fields=(column,),
        max_length=max_length,
    )


def one_of(
    name: str,
    values: tuple[str, ...],
    *,
    field: str | None = None,
    rule: str | None = None,
    assumed: str | None = None,
) -> Filter:
    """The leads whose ``field`` (default: ``name``) is the value, one of ``values`` (any other
    value is refused: 400 naming them)."""
    column = field or name
    allowed = frozenset(values)

    def parse(parameter: str, raw: str) -> str:
        if raw in allowed:
            return raw
        raise ParameterError(
            parameter,
            f"Invalid value for '{parameter}': {_show(raw)}. Give one of {', '.join(values)}.",
            kind="invalid",
            raw=raw,
        )

    return _declared(
        name,
        "one_of",
        equals(column),
        what=f"whose {column} is the value, one of {', '.join(values)}",
        rule=rule,
        assumed=assumed,
        reading="exact",
        parse=parse,
        fields=(column,),
        values=tuple(values),
    )


def any_of(
    name: str,
    *,
    field: str | None = None,
    rule: str | None = None,
    assumed: str | None = None,
    max_length: int = MAX_TEXT_LENGTH,
) -> Filter:
    """The leads whose list ``field`` (default: ``name``) holds any of the comma-separated
    values, each trimmed, empty ones ignored, exactly (other readings: in any case, untrimmed)."""
    column = field or name
    r = _list_readings(column)
    return _declared(
        name,
        "any_of",
        (r["trimmed"], r["must"], r["may"]),
        what=f"whose {column} hold any of the comma-separated values",
        rule=rule,
        assumed=assumed,
        reading="trimmed",
        others={k: r[k] for k in ("trimmed_any_case", "verbatim", "verbatim_any_case")},
        parse=text(max_length=max_length),
        fields=(column,),
        max_length=max_length,
        applies=lambda value: bool(split_tags(value)),
    )


# -- the declaration ----------------------------------------------------------------------------

#: The filters, in the order the reference page lists them: one declaration each, from which the
#: query, the model, the mock's SQL, the profile's choices and the suite's plan are derived, and
#: against which the OpenAPI document's parameters are checked when it is loaded. ``rule`` names
#: the documented rule in ``_rules`` (``assumed``: the rule of this project's reading where the
#: page is silent); a filter without ``rule`` is an extension, the page does not document it.
FILTERS: Final[tuple[Filter, ...]] = (
    listing("archived", field="archived", rule="filter.archived"),
    search("search", fields=SEARCH_FIELDS, rule="filter.search", assumed="filter.search.case_insensitive"),
    exact("stage", rule="filter.stage", assumed="filter.stage.exact"),
    any_of("tags", rule="filter.tags.any", assumed="filter.tags.split", max_length=4 * MAX_TEXT_LENGTH),
)

add_rules(f.extension for f in FILTERS if f.extension is not None)

#: Every parameter by name, in the reference page's order.
PARAMETERS: Final[dict[str, Parameter]] = {
    p.name: p
    for p in (
        FILTERS[0],
        Parameter("limit", integer(low=1, high=MAX_LIMIT), DEFAULT_LIMIT, bounds=(1, MAX_LIMIT)),
        Parameter("page", integer(low=1, high=MAX_PAGE), DEFAULT_PAGE, bounds=(1, MAX_PAGE)),
        *FILTERS[1:],
    )
}
