"""The query parameters of ``GET /leads``, one row each: how a value is read, its default, and
for a filter the rules it implements and the model's three readings of it.

A filter's readings are predicates on ``(value, lead)``, where ``value`` is the parsed value:

* ``exact`` — this project's reading (documented rules plus the assumed ones); the mock serves
  exactly this, and strict mode holds a server to it;
* ``must`` — leads every reasonable reading of the documented rule returns;
* ``may`` — leads some reasonable reading could return; a lead outside breaks the documented rule.

So ``must ⊆ exact ⊆ may``; a live server is held to the documented bounds unless strict.

A filter's row here (with its SQL row in the mock's store and its parameter in ``openapi.yaml``)
is what the query, the model, the suite's checks and the mock read; what else adding one takes
(its rule, profile readings, data, the suite's plan) is listed in ``docs/development.md``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from rotor_leads.spec._rules import DEFAULT_LIMIT, DEFAULT_PAGE, MAX_LIMIT, MAX_PAGE, MAX_TEXT_LENGTH

Lead = Mapping[str, Any]
Predicate = Callable[[Any, Lead], bool]
SEARCH_FIELDS: Final = ("name", "email", "phone")

_INTEGER = re.compile(r"-?[0-9]{1,10}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


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


@dataclass(frozen=True)
class Parameter:
    """A query parameter: its name, how its text is read (raising :class:`ParameterError`),
    its value when not given, and for a number the lowest and highest values accepted."""

    name: str
    parse: Callable[[str, str], Any]
    default: Any = None
    bounds: tuple[int, int] | None = None


@dataclass(frozen=True)
class Filter(Parameter):
    """A parameter that selects leads: the rules it implements and its readings.

    ``exact`` is this project's reading, named ``reading``; ``others`` are the other readings a
    server may choose where the page is silent (each between ``must`` and ``may``), by name. A
    behaviour profile names the reading a server chose (see ``_profile``).
    """

    rule_id: str = ""  # the documented rule
    assumed_rule_id: str | None = None  # the rule that makes ``exact`` narrower than the bounds
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


def is_archived(lead: Lead) -> bool:
    return lead.get("archived") is True


def lead_text(lead: Lead, name: str) -> str | None:
    value = lead.get(name)
    return value if isinstance(value, str) else None


def lead_tags(lead: Lead) -> list[str]:
    tags = lead.get("tags")
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


def search_texts(lead: Lead) -> list[str]:
    """The texts ``search`` looks in: name, email and phone, where present."""
    return [v for f in SEARCH_FIELDS if isinstance(v := lead.get(f), str)]


def _archived(value: bool, lead: Lead) -> bool:
    return value or not is_archived(lead)


def equals(field_name: str) -> tuple[Predicate, Predicate, Predicate]:
    """``exact``, ``must`` and ``may`` for a filter that selects the leads whose ``field_name`` is
    the value: exact and case-sensitive; any reasonable reading may ignore case and white space."""

    def exact(value: str, lead: Lead) -> bool:
        return lead_text(lead, field_name) == value

    def may(value: str, lead: Lead) -> bool:
        found = lead_text(lead, field_name)
        return found is not None and found.strip().casefold() == value.strip().casefold()

    return exact, exact, may


def _verbatim_tags(value: str) -> list[str]:
    # The items every reading agrees on: no surrounding white space, not empty.
    return [t for t in value.split(",") if t and t == t.strip()]


def _tags_exact(value: str, lead: Lead) -> bool:
    wanted = split_tags(value)
    return any(t in wanted for t in lead_tags(lead))


def _tags_must(value: str, lead: Lead) -> bool:
    return any(t in _verbatim_tags(value) for t in lead_tags(lead))


def _tags_may(value: str, lead: Lead) -> bool:
    wanted = {t.casefold() for t in split_tags(value)}
    return any(t.strip().casefold() in wanted for t in lead_tags(lead))


def _tags_any_case(value: str, lead: Lead) -> bool:
    wanted = {t.casefold() for t in split_tags(value)}
    return any(t.casefold() in wanted for t in lead_tags(lead))


def _verbatim_items(value: str) -> list[str]:
    return [t for t in value.split(",") if t]


def _tags_verbatim(value: str, lead: Lead) -> bool:
    wanted = _verbatim_items(value)
    return any(t in wanted for t in lead_tags(lead))


def _tags_verbatim_any_case(value: str, lead: Lead) -> bool:
    wanted = {t.casefold() for t in _verbatim_items(value)}
    return any(t.casefold() in wanted for t in lead_tags(lead))


def _stage_any_case(value: str, lead: Lead) -> bool:
    found = lead_text(lead, "stage")
    return found is not None and found.casefold() == value.casefold()


def _search_exact(value: str, lead: Lead) -> bool:
    needle = value.lower()
    return any(needle in t.lower() for t in search_texts(lead))


def _search_must(value: str, lead: Lead) -> bool:
    return any(value in t for t in search_texts(lead))


def _search_may(value: str, lead: Lead) -> bool:
    needle = value.casefold()
    return any(needle in t.casefold() for t in search_texts(lead))


_stage_exact, _stage_must, _stage_may = equals("stage")

#: The filters, in the order the reference page lists them.
FILTERS: Final[tuple[Filter, ...]] = (
    Filter(
        "archived",
        boolean,
        default=False,
        rule_id="filter.archived",
        exact=_archived,
        must=_archived,
        may=_archived,
        narrows=False,
        applies=lambda value: True,
    ),
    Filter(
        "search",
        text(max_length=MAX_TEXT_LENGTH),
        rule_id="filter.search",
        assumed_rule_id="filter.search.case_insensitive",
        exact=_search_exact,
        must=_search_must,
        may=_search_may,
        reading="case_insensitive",
        others={"case_sensitive": _search_must},
    ),
    Filter(
        "stage",
        text(max_length=MAX_TEXT_LENGTH),
        rule_id="filter.stage",
        assumed_rule_id="filter.stage.exact",
        exact=_stage_exact,
        must=_stage_must,
        may=_stage_may,
        reading="exact",
        others={"case_insensitive": _stage_any_case},
    ),
    Filter(
        "tags",
        text(max_length=4 * MAX_TEXT_LENGTH),
        rule_id="filter.tags.any",
        assumed_rule_id="filter.tags.split",
        exact=_tags_exact,
        must=_tags_must,
        may=_tags_may,
        applies=lambda value: bool(split_tags(value)),
        reading="trimmed",
        others={
            "trimmed_any_case": _tags_any_case,
            "verbatim": _tags_verbatim,
            "verbatim_any_case": _tags_verbatim_any_case,
        },
    ),
)

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
