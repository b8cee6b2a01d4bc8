"""A behaviour profile: one server's choices where the reference page is silent.

:data:`ASSUMED` holds this project's choices (the assumed rules of ``_rules``): the mock
serves it and the contract suite holds servers to it unless given another profile. A profile
recorded from a server by the contract suite (``--record-profile FILE``) holds that server's
choices, each with the request that showed it; the mock serves it (``rotor-mock serve --profile
FILE``), the suite checks against it (``--profile FILE``) and reports what changed since it was
recorded (``--compare-profile FILE``).

A profile file is JSON, valid against ``spec/profile.schema.json`` (which describes every
choice); :func:`load_profile` reads one and :meth:`Profile.to_json` writes one. A choice a
recording could not observe is listed under ``"unobserved"`` with the reason, and reads as
:data:`ASSUMED`'s.

A profile is data and what it means (typed views, the refusals a server was seen to give);
what the mock does with one on each request is the mock's (``mock_server/engine/_behaviour.py``).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any, Final

from jsonschema import Draft202012Validator

from rotor_leads.spec._model import TIE_ORDERS
from rotor_leads.spec._parameters import FILTERS
from rotor_leads.spec._rules import DEFAULT_LIMIT, DEFAULT_PAGE, ERRORS, MAX_TEXT_LENGTH

FORMAT: Final = "rotor-leads-profile"
VERSION: Final = 1
SCHEMA_PATH: Final = Path(__file__).with_name("profile.schema.json")

#: The value a filter of a few values (``spec.one_of``) is probed with: none of them.
NONE_OF_THEM: Final = "zz-none-of-them"
#: The requests that show how a server treats each kind of bad value: ``kind`` → query pairs.
#: A kind is ``parameter.what`` (what: a :data:`~spec.BAD_VALUE_KINDS` entry), or ``repeated``.
BAD_VALUE_PROBES: Final[dict[str, tuple[tuple[str, str], ...]]] = {
    "limit.zero": (("limit", "0"),),
    "limit.negative": (("limit", "-5"),),
    "limit.above_maximum": (("limit", "1001"),),
    "limit.not_a_number": (("limit", "abc"),),
    "page.zero": (("page", "0"),),
    "page.not_a_number": (("page", "abc"),),
    "archived.not_boolean": (("archived", "maybe"),),
    "search.too_long": (("search", "x" * (MAX_TEXT_LENGTH + 44)),),
    "repeated": (("limit", "5"), ("limit", "6")),
    # A filter of a few values, with none of them (this project refuses it; a server that does
    # not know the filter serves the listing as if it were not given).
    **{f"{f.name}.invalid": ((f.name, NONE_OF_THEM),) for f in FILTERS if f.values},
}
#: A kind not recorded reads as a related one that was, before falling back to ASSUMED.
_RELATED: Final = {"zero": "negative", "negative": "zero"}
#: The request that shows whether a parameter the page does not document is ignored.
UNKNOWN_PARAMETER_PROBE: Final = (("_", "1764400000000"),)

#: Every choice a profile may record, and the rule of ``_rules`` it decides.
CHOICES: Final[dict[str, str]] = {
    "page.default_limit": "page.default_limit",
    "page.default_page": "page.default_page",
    **{f"bad_value.{kind}": "error.bad_parameter" for kind in BAD_VALUE_PROBES},
    "request.unknown_parameters": "request.unknown_parameters",
    "error.unknown_key": "error.unknown_key",
    "error.order": "error.order",
    **{f"filter.{f.name}": f.assumed_rule_id for f in FILTERS if f.assumed_rule_id},
    "order.ties": "order.stable_tie_break",
    "lead.fields": "convention.fields",
    "extra_fields": "schema.no_extra_fields",
    "headers": "convention.headers",
}
#: How a lead field shows: in every lead; in none; left out when it has no value (null), or
#: when it is null or empty ("" or []).
PRESENCE: Final = ("always", "never", "omitted_when_null", "omitted_when_empty")
ERROR_ORDERS: Final = ("key_first", "parameters_first")
#: What a server does with a bad value: refuses it; serves the nearest accepted number; serves
#: the default; serves a fixed value; takes the first or last of a repeated parameter; takes
#: the value as given. With an unknown parameter: ignores it, or refuses it.
ACTIONS: Final = ("refuse", "clamp", "default", "value", "first", "last", "accept", "ignore")


class ProfileError(ValueError):
    """A profile file that cannot be used; the message names the file, the place and the fix."""


def map_strings(value: Any, change: Callable[[str], str]) -> Any:
    """A JSON value with ``change`` applied to every string in it (not to object keys)."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, list):
        return [map_strings(item, change) for item in value]
    if isinstance(value, dict):
        return {k: map_strings(v, change) for k, v in value.items()}
    return value


def render(template: Any, fields: Mapping[str, str]) -> Any:
    """``template`` with ``{name}`` in its strings replaced by ``fields[name]``."""

    def fill(text: str) -> str:
        for name, value in fields.items():
            text = text.replace("{" + name + "}", value)
        return text

    return map_strings(template, fill)


@dataclass(frozen=True)
class Outcome:
    """What a server does with one kind of bad value (``action``, one of :data:`ACTIONS`)."""

    action: str
    status: int | None = None  # refuse
    body: Any = None  # refuse: a template; strings may hold {parameter}, {value}, {message}
    value: Any = None  # value

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Outcome:
        return cls(data["action"], data.get("status"), data.get("body"), data.get("value"))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"action": self.action}
        if self.action == "refuse":
            out.update(status=self.status, body=self.body)
        elif self.action == "value":
            out["value"] = self.value
        return out

    def rendered(self, **fields: str) -> Any:
        """The body of a refusal with its placeholders filled in."""
        return render(self.body, fields)

    def comparable(self) -> dict[str, Any]:
        """What drift compares: the action, and for a refusal its status, error_code, message
        and body fields (other values in a body, such as a request id, may change freely)."""
        if self.action != "refuse":
            return self.to_json()
        body = self.body if isinstance(self.body, dict) else {}
        return {
            "action": "refuse",
            "status": self.status,
            "error_code": body.get("error_code"),
            "message": body.get("message"),
            "fields": sorted(body),
        }


def _validation_refusal() -> Outcome:
    error = ERRORS["VALIDATION_ERROR"]
    return Outcome("refuse", error.status, error.body(detail="{message}"))


@dataclass(frozen=True)
class Choice:
    """One recorded choice: its value (as in the file) and the request that showed it."""

    value: Any
    seen_in: str = "this project's assumption"


def _assumed_choices() -> dict[str, Choice]:
    unknown_key = ERRORS["INVALID_API_KEY"]
    choices = {
        "page.default_limit": Choice(DEFAULT_LIMIT),
        "page.default_page": Choice(DEFAULT_PAGE),
        **{f"bad_value.{kind}": Choice(_validation_refusal().to_json()) for kind in BAD_VALUE_PROBES},
        "request.unknown_parameters": Choice({"action": "ignore"}),
        "error.unknown_key": Choice({"status": unknown_key.status, "body": unknown_key.body()}),
        "error.order": Choice("key_first"),
        **{f"filter.{f.name}": Choice(f.reading) for f in FILTERS if f.assumed_rule_id},
        "order.ties": Choice(TIE_ORDERS[0]),
        "extra_fields": Choice({"lead": {}, "pagination": {}, "body": {}}),
    }
    return choices


@dataclass(frozen=True)
class Drift:
    """A choice that changed since a profile was recorded."""

    choice: str
    rule: str
    was: Any
    now: Any
    seen_in: str

    def __str__(self) -> str:
        return f"[{self.choice}] was {_show(self.was)}, now {_show(self.now)} (seen in {self.seen_in})"

    def to_json(self) -> dict[str, Any]:
        return {
            "choice": self.choice,
            "rule": self.rule,
            "was": self.was,
            "now": self.now,
            "seen_in": self.seen_in,
        }


def _show(value: Any) -> str:
    shown = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return shown if len(shown) <= 160 else shown[:157] + "..."


_MISSING: Final = object()


@dataclass(frozen=True)
class Profile:
    """A server's choices where the reference page is silent (see the module's docstring).

    ``choices`` maps a choice id of :data:`CHOICES` to what was recorded; a choice not there
    reads as :data:`ASSUMED`'s. ``lead.fields`` and ``headers`` have no assumed value: without
    them the mock sends every field and its own headers, and the suite does not check them.
    """

    choices: Mapping[str, Choice] = field(default_factory=dict)
    recorded: Mapping[str, Any] = field(default_factory=dict)  # when, from where, how many requests
    unobserved: Mapping[str, str] = field(default_factory=dict)  # choice id → why it was not seen

    def choice(self, choice_id: str) -> Choice | None:
        found = self.choices.get(choice_id)
        if found is None and self is not ASSUMED:
            found = ASSUMED.choices.get(choice_id)
        return found

    def value(self, choice_id: str) -> Any:
        found = self.choice(choice_id)
        return None if found is None else found.value

    def seen_in(self, choice_id: str) -> str:
        found = self.choices.get(choice_id)
        return found.seen_in if found is not None else "this project's assumption"

    # -- typed views ------------------------------------------------------------------------

    @cached_property
    def default_limit(self) -> int:
        return int(self.value("page.default_limit"))

    @cached_property
    def default_page(self) -> int:
        return int(self.value("page.default_page"))

    @cached_property
    def readings(self) -> dict[str, str]:
        """The reading of each filter (filter name → reading name)."""
        return {
            f.name: str(self.value(f"filter.{f.name}") or f.reading) for f in FILTERS if f.assumed_rule_id
        }

    @cached_property
    def custom_readings(self) -> dict[str, str]:
        """The readings that are not this project's: what the mock must do differently."""
        own = {f.name: f.reading for f in FILTERS}
        return {name: r for name, r in self.readings.items() if r != own[name]}

    @cached_property
    def ties(self) -> str:
        return str(self.value("order.ties"))

    @cached_property  # read on every request the mock answers
    def error_order(self) -> str:
        return str(self.value("error.order"))

    @cached_property
    def unknown_key(self) -> Outcome:
        value = self.value("error.unknown_key")
        return Outcome("refuse", value["status"], value["body"])

    @cached_property
    def unknown_parameters(self) -> Outcome:
        return Outcome.from_json(self.value("request.unknown_parameters"))

    @cached_property
    def fields(self) -> dict[str, str] | None:
        """How each lead field shows (field → one of :data:`PRESENCE`), if recorded."""
        value = self.value("lead.fields")
        return dict(value) if value is not None else None

    @cached_property
    def extra_fields(self) -> dict[str, dict[str, Any]]:
        """Undocumented fields (``"lead"``, ``"pagination"``, ``"body"`` → name → ``{"type",
        "example"}``)."""
        value = self.value("extra_fields") or {}
        return {scope: dict(value.get(scope, {})) for scope in ("lead", "pagination", "body")}

    @cached_property
    def extra_examples(self) -> dict[str, dict[str, Any]]:
        """The example value of each undocumented field, by scope (for the mock to send)."""
        return {
            scope: {name: info.get("example") for name, info in fields.items()}
            for scope, fields in self.extra_fields.items()
        }

    @cached_property
    def headers(self) -> dict[str, Any] | None:
        value = self.value("headers")
        return dict(value) if value is not None else None

    def presence_problems(self, lead: Mapping[str, Any]) -> list[str]:
        """How ``lead`` shows its fields otherwise than ``lead.fields`` says (none if not recorded)."""
        problems = []
        for name, presence in (self.fields or {}).items():
            if name not in lead:
                if presence == "always":
                    problems.append(f"{name} absent (recorded: always present)")
                continue
            value = lead[name]
            if not left_out(presence, value):
                continue
            if presence == "never":
                problems.append(f"{name} present (recorded: never sent)")
            elif presence == "omitted_when_null":
                problems.append(f"{name}: null (recorded: left out when null)")
            else:
                problems.append(f"{name}: {value!r} (recorded: left out when null or empty)")
        return problems

    def bad_value(self, parameter: str, kind: str) -> Outcome:
        """What this server does with a value of ``parameter`` that is wrong in ``kind`` way: as
        recorded for that kind (or a related one: zero and negative); else refused as this
        server refuses the bad values it was seen refusing (its status, error_code and body
        fields, with the mock's message); else this project's ``400 VALIDATION_ERROR``."""
        for key in (f"{parameter}.{kind}", f"{parameter}.{_RELATED.get(kind, kind)}"):
            found = self.choices.get(f"bad_value.{key}")
            if found is not None:
                return Outcome.from_json(found.value)
        return self._usual_refusal

    @cached_property
    def _usual_refusal(self) -> Outcome:
        refusals = [
            Outcome.from_json(c.value)
            for cid, c in self.choices.items()
            if cid.startswith("bad_value.") and c.value.get("action") == "refuse"
        ]
        if not refusals:
            return _validation_refusal()
        usual = Counter((r.status, json.dumps(_with_message(r.body), sort_keys=True)) for r in refusals)
        status, body = usual.most_common(1)[0][0]
        return Outcome("refuse", status, json.loads(body))

    @cached_property
    def repeated(self) -> Outcome:
        found = self.choices.get("bad_value.repeated")
        return Outcome.from_json(found.value) if found is not None else _validation_refusal()

    # -- the file ---------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "recorded": dict(self.recorded),
            "choices": {
                cid: {"value": c.value, "seen_in": c.seen_in, "rule": CHOICES[cid]}
                for cid, c in sorted(self.choices.items(), key=lambda item: _order(item[0]))
            },
            "unobserved": dict(sorted(self.unobserved.items(), key=lambda item: _order(item[0]))),
        }

    @classmethod
    def from_json(cls, document: Any, *, source: str = "profile") -> Profile:
        """A profile from its JSON form. Raises :class:`ProfileError` naming what is wrong."""
        if isinstance(document, dict) and document.get("format") == FORMAT:
            version = document.get("version")
            if isinstance(version, int) and version > VERSION:
                raise ProfileError(
                    f"{source}: profile version {version} was written by a newer rotor-leads (this one"
                    f" reads version {VERSION}); upgrade rotor-leads or record the profile again"
                )
        beyond = _beyond_limits(document)
        if beyond is not None:
            where, why = beyond
            raise ProfileError(f"{source}: {_choice_of(where)}: {why}")
        error = next(iter(sorted(_validator().iter_errors(document), key=lambda e: e.path)), None)
        if error is not None:
            where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
            if where.startswith("choices/") and where.endswith("/status"):
                raise ProfileError(f"{source}: {_choice_of(where)}: {error.instance!r} is not {_STATUS_RULE}")
            raise ProfileError(
                f"{source}: not a rotor-leads profile at {where}: {error.message}"
                " (record one with: rotor-contract --record-profile FILE)"
            )
        choices = {cid: Choice(c["value"], c.get("seen_in", "")) for cid, c in document["choices"].items()}
        for cid, choice in choices.items():
            problem = _check_choice(cid, choice.value)
            if problem:
                raise ProfileError(f"{source}: choice {cid}: {problem}")
        return cls(choices, document.get("recorded", {}), document.get("unobserved", {}))

    def describe(self) -> str:
        """One line: where and when it was recorded."""
        if self is ASSUMED:
            return "this project's assumptions"
        at = self.recorded.get("at", "an unknown time")
        return f"the profile of {self.recorded.get('target', 'a server')} recorded at {at}"


def _with_message(body: Any) -> Any:
    """A refusal's body with its message made the mock's own (``{message}``)."""
    return {**body, "message": "{message}"} if isinstance(body, dict) and "message" in body else body


def _order(choice_id: str) -> int:
    names = list(CHOICES)
    return names.index(choice_id) if choice_id in names else len(names)


#: How deep a profile file may nest, from its top (a refusal's body is 4 levels down, an extra
#: field's example 6): a server's error bodies nest two or three levels of their own, and the
#: mock and the JSON tools recurse through them.
MAX_DEPTH: Final = 24
#: The largest integer a profile may hold: beyond 2^53 JSON readers (JavaScript's among them)
#: lose digits, and beyond 2^63 the mock cannot write it at all.
MAX_INTEGER: Final = 2**53


def _beyond_limits(document: Any) -> tuple[str, str] | None:
    """(where, why) of the first value nested deeper than :data:`MAX_DEPTH`, or an integer
    beyond :data:`MAX_INTEGER`, or a number that is not one (NaN, Infinity)."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(document, ())]
    while stack:
        value, path = stack.pop()
        where = "/".join(path) or "(top level)"
        if isinstance(value, bool):
            continue
        if isinstance(value, int) and abs(value) > MAX_INTEGER:
            return where, f"{value} is beyond ±2^53, the largest integer JSON readers keep exactly"
        if isinstance(value, float) and not math.isfinite(value):
            return where, f"{value} is not a number JSON can hold"
        if isinstance(value, dict | list):
            if len(path) >= MAX_DEPTH:
                return (
                    where,
                    f"nested more than {MAX_DEPTH} levels deep in the file (the most the mock serves)",
                )
            items = value.items() if isinstance(value, dict) else enumerate(value)
            stack.extend((item, (*path, str(key))) for key, item in items)
    return None


def _choice_of(where: str) -> str:
    """``choices/error.unknown_key/value/body/x`` as ``choice error.unknown_key, at value/body/x``."""
    parts = where.split("/")
    if len(parts) >= 2 and parts[0] == "choices":
        rest = "/".join(parts[2:])
        return f"choice {parts[1]}" + (f", at {rest}" if rest else "")
    return f"at {where}"


#: What the schema's refusal statuses mean, said where the schema's own message would not.
_STATUS_RULE: Final = (
    "a status whose answer carries a body the mock can send: 200 to 299 but 204 and 205, or 400 to 599"
)


def _check_choice(choice_id: str, value: Any) -> str | None:
    """What is wrong with a choice's value beyond what the schema says, if anything."""
    if choice_id.startswith("filter."):
        name = choice_id.removeprefix("filter.")
        f = next((f for f in FILTERS if f.name == name and f.assumed_rule_id), None)
        if f is None:
            known = ", ".join(f.name for f in FILTERS if f.assumed_rule_id)
            return f"no filter {name!r} with readings is declared; the filters with readings: {known}"
        if value not in f.readings:
            return f"{value!r} is not a reading of {f.name}; give one of {', '.join(f.readings)}"
    elif choice_id not in CHOICES:  # a filter's bad value (the schema's pattern) not declared
        known = ", ".join(f.name for f in FILTERS if f.values)
        return f"no filter of a few values is declared under this name; those declared: {known or 'none'}"
    if choice_id == "headers":
        return _check_headers(value)
    return None


#: Headers a profile may not make the mock send: the transport's, the mock's own, and those that
#: set state in a browser (a profile is input: a recorded one must not make the mock a tool).
_NOT_OTHER: Final = frozenset(
    {
        # the transport's
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "upgrade",
        "te",
        "trailer",
        # the mock's own
        "content-type",
        "content-encoding",
        "date",
        "server",
        "vary",
        "retry-after",
        # state in a browser
        "set-cookie",
        "set-cookie2",
        "location",
        "refresh",
        "clear-site-data",
        "strict-transport-security",
        "content-security-policy",
        "content-security-policy-report-only",
        "www-authenticate",
        "proxy-authenticate",
        "alt-svc",
        "link",
        "service-worker-allowed",
        "origin-agent-cluster",
        "accept-ch",
        "permissions-policy",
        "cross-origin-opener-policy",
        "cross-origin-embedder-policy",
        "cross-origin-resource-policy",
    }
)
_NOT_OTHER_PREFIXES: Final = ("access-control-", "proxy-", "x-ratelimit-", "x-rate-limit-", "ratelimit")
_TOKEN: Final = re.compile(r"[!#$%&'*+.^_`|~0-9a-z-]+")
_HEADER_VALUE: Final = re.compile(r"[\x20-\x7e]*")


def _check_headers(value: Mapping[str, Any]) -> str | None:
    content_type = value.get("content_type", "")
    if content_type and (not _HEADER_VALUE.fullmatch(content_type) or "json" not in content_type.lower()):
        return f"content_type {content_type!r}: give a JSON media type such as application/json"
    names = [*value.get("rate_limit", []), *value.get("on_429", []), *dict(value.get("other") or {})]
    for name in names:
        if not _TOKEN.fullmatch(name):
            return f"{name!r} is not a header name in lower case"
    for name, text in dict(value.get("other") or {}).items():
        if name in _NOT_OTHER or name.startswith(_NOT_OTHER_PREFIXES):
            return (
                f"other header {name!r}: the mock does not send it for a profile (it is the transport's,"
                " the mock's own, or sets state in a browser); leave it out"
            )
        if text is not None and not _HEADER_VALUE.fullmatch(text):
            return f"other header {name!r}: its value must be printable ASCII on one line"
    return None


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def load_profile(path: str | Path) -> Profile:
    """Read a profile file. Raises :class:`ProfileError` naming the file and what is wrong."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read it ({exc.strerror})") from None
    try:
        document = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ProfileError(f"{path}: not valid JSON ({exc})") from None
    return Profile.from_json(document, source=str(path))


ASSUMED: Final = Profile(_assumed_choices())


# -- drift ------------------------------------------------------------------------------------


def _comparable(choice_id: str, value: Any) -> Any:
    if choice_id.startswith("bad_value.") or choice_id == "request.unknown_parameters":
        return Outcome.from_json(value).comparable()
    if choice_id == "error.unknown_key":
        return Outcome("refuse", value.get("status"), value.get("body")).comparable()
    if choice_id == "headers" and isinstance(value.get("other"), dict):
        return {**value, "other": sorted(value["other"])}  # which headers, not their values
    if choice_id == "extra_fields":
        return {
            scope: {name: info.get("type") for name, info in fields.items()}
            for scope, fields in value.items()
        }
    return value


def _parts(choice_id: str, value: Any) -> Iterator[tuple[str, Any]]:
    """A choice as the parts drift names one by one: a field, a header list, a scope."""
    if choice_id in ("lead.fields", "headers") and isinstance(value, dict):
        for name, item in value.items():
            yield f"{choice_id}.{name}", item
    elif choice_id == "extra_fields" and isinstance(value, dict):
        for scope, fields in value.items():
            for name, kind in fields.items():
                yield f"{choice_id}.{scope}.{name}", kind
    else:
        yield choice_id, value


def drift(old: Profile, new: Profile) -> list[Drift]:
    """Every choice ``new`` observed differently from ``old`` (both must have observed it)."""
    out: list[Drift] = []
    for choice_id in CHOICES:
        was, now = old.choices.get(choice_id), new.choices.get(choice_id)
        if was is None or now is None:
            continue
        before = dict(_parts(choice_id, _comparable(choice_id, was.value)))
        after = dict(_parts(choice_id, _comparable(choice_id, now.value)))
        for part in sorted(before.keys() | after.keys(), key=lambda p: (p not in before, p)):
            a, b = before.get(part, _MISSING), after.get(part, _MISSING)
            if _normal(a) != _normal(b):
                out.append(Drift(part, CHOICES[choice_id], _plain(a), _plain(b), now.seen_in))
    return out


def _normal(value: Any) -> Any:
    return sorted(value) if isinstance(value, list) and all(isinstance(v, str) for v in value) else value


def _plain(value: Any) -> Any:
    return "(absent)" if value is _MISSING else value


def choice_ids() -> Sequence[str]:
    return tuple(CHOICES)


def _is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | dict) and not value)


def left_out(presence: str | None, value: Any) -> bool:
    """Whether a field shown as ``presence`` (one of :data:`PRESENCE`) is left out of a lead
    when its value is ``value``."""
    return presence == "never" or (
        (presence == "omitted_when_null" and value is None)
        or (presence == "omitted_when_empty" and _is_empty(value))
    )
