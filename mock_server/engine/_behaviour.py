"""What the mock does as a behaviour profile says: the profile (``spec.Profile``) is the data a
recording holds and what it means; :class:`Behaviour` is what the mock derives from it to answer
a request: how it reads a query, how it refuses an unknown key, how it shows a lead, and which
of it changes the data it stores."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Final

from rotor_leads import spec


class Refused(spec.ParameterError):
    """A request this server refuses: ``status`` and the rendered JSON ``body`` to answer."""

    def __init__(self, parameter: str, status: int, body: Any, *, kind: str, raw: str) -> None:
        message = body.get("message") if isinstance(body, dict) else None
        super().__init__(parameter, str(message or f"refused with {status}"), kind=kind, raw=raw)
        self.status = status
        self.body = body


@dataclass(frozen=True)
class Behaviour:
    """The mock's behaviour under ``profile`` (``spec.ASSUMED``: this project's)."""

    profile: spec.Profile = spec.ASSUMED

    @cached_property
    def reads_as_assumed(self) -> bool:
        """Whether a query string reads exactly as :func:`~spec.parse_query_string` reads it."""
        profile = self.profile
        refusal = spec.ASSUMED.repeated.to_json()  # this project's: 400 VALIDATION_ERROR
        return (
            all(c.value == refusal for cid, c in profile.choices.items() if cid.startswith("bad_value."))
            and profile.default_limit == spec.DEFAULT_LIMIT
            and profile.default_page == spec.DEFAULT_PAGE
            and profile.unknown_parameters.action == "ignore"
        )

    def read_query(self, raw: bytes | str) -> spec.LeadQuery:
        """The query this server reads from a raw query string: each bad value refused,
        clamped, defaulted or taken as recorded; the recorded defaults of limit and page.

        Raises :class:`Refused` (a status and body to answer) or ``spec.ParameterError`` (the
        mock's own ``400 VALIDATION_ERROR``).
        """
        if self.reads_as_assumed:
            return spec.parse_query_string(raw)
        profile = self.profile
        values: dict[str, Any] = {}
        for name, text in spec.decode_pairs(raw):
            parameter = spec.PARAMETERS.get(name)
            if parameter is None:
                if profile.unknown_parameters.action == "refuse":
                    raise _refuse(profile.unknown_parameters, name, text, "unknown", "")
                continue
            if name in values:
                repeated = profile.repeated
                if repeated.action == "first":
                    continue
                if repeated.action != "last":
                    message = f"'{name}' is given more than once. Give it once."
                    raise _refuse(repeated, name, text, "repeated", message)
            try:
                values[name] = parameter.parse(name, text)
            except spec.ParameterError as error:
                taken = _take(profile.bad_value(name, error.kind), parameter, error)
                if taken is _DEFAULT:
                    values.pop(name, None)
                else:
                    values[name] = taken
        query = spec.LeadQuery(tuple((name, values[name]) for name in spec.PARAMETERS if name in values))
        if "limit" not in values and profile.default_limit != spec.DEFAULT_LIMIT:
            query = query.with_(limit=profile.default_limit)
        if "page" not in values and profile.default_page != spec.DEFAULT_PAGE:
            query = query.with_(page=profile.default_page)
        return query

    def refuse_unknown_key(self, key: str) -> tuple[int, Any]:
        """The status and body answering an unknown key."""
        outcome = self.profile.unknown_key
        return int(outcome.status or 401), outcome.rendered(key=key)

    @cached_property
    def shapes_leads(self) -> bool:
        """Whether leads are stored otherwise than generated: fields left out, extras added."""
        return bool(self.profile.fields or self.profile.extra_examples["lead"])

    def present(self, lead: Mapping[str, Any]) -> dict[str, Any]:
        """``lead`` as this server shows it: its fields left out as ``lead.fields`` says, and
        the undocumented fields it sends (their recorded example, where the lead has none)."""
        fields = self.profile.fields or {}
        out = {name: value for name, value in lead.items() if not spec.left_out(fields.get(name), value)}
        for name, example in self.profile.extra_examples["lead"].items():
            out.setdefault(name, example)
        return out

    def presented(self, leads: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
        """``leads`` as this server shows them (as they are, when the profile shapes none)."""
        return (self.present(lead) for lead in leads) if self.shapes_leads else leads

    def shaping(self) -> dict[str, Any]:
        """What of the profile changes the stored data (lead fields, extras, tie order,
        readings): a data set file built under other shaping is another file."""
        profile = self.profile
        shaping: dict[str, Any] = {}
        if self.shapes_leads:
            shaping["lead"] = [profile.fields, profile.extra_examples["lead"]]
        if profile.ties != spec.TIE_ORDERS[0]:
            shaping["ties"] = profile.ties
        if profile.custom_readings:
            shaping["readings"] = profile.custom_readings
        return shaping


#: A bad value served as the parameter's default (the value left out).
_DEFAULT: Final = object()


def _refuse(outcome: spec.Outcome, parameter: str, raw: str, kind: str, message: str) -> Refused:
    body = outcome.rendered(parameter=parameter, value=raw, message=message)
    return Refused(parameter, int(outcome.status or 400), body, kind=kind, raw=raw)


def _take(outcome: spec.Outcome, parameter: spec.Parameter, error: spec.ParameterError) -> Any:
    """The value a server serves for a bad one, or :data:`_DEFAULT`; raises :class:`Refused`."""
    bounds = parameter.bounds
    if (
        outcome.action == "clamp"
        and bounds is not None
        and error.kind in ("zero", "negative", "above_maximum")
    ):
        return bounds[0] if error.kind != "above_maximum" else bounds[1]
    if outcome.action in ("default", "clamp"):
        return _DEFAULT
    if outcome.action == "value":
        try:
            return parameter.parse(parameter.name, _text(outcome.value))
        except spec.ParameterError:
            return _DEFAULT
    if outcome.action == "accept" and error.kind in ("too_long", "invalid"):
        return error.raw or None
    raise _refuse(outcome, parameter.name, error.raw, error.kind, str(error))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
