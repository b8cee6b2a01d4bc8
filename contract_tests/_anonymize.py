"""A target's listing with nothing personal in it, shaped like the original: the fixtures file
that ``--record-fixtures FILE`` writes and the mock serves (``rotor-mock serve --fixtures FILE``).

Replaced, consistently (the same value always gets the same fake in one file, never a value
the source has in any of these fields, and no fake name or street has a word of a source name):

* ``name`` and ``email``: one fake person per real person (a lead's email or, without one,
  its name), the fake email made from the fake name, so a search by a fake name finds its lead
  (Faker's en_US names first; made-up ones fill in where a large source has most of them);
  the email's domain is kept when three or more leads share it (a mail provider, a company), so
  a search by such a domain finds as many leads as on the source (another lead's fake domain is
  no source domain and holds no kept one, unless its real one did);
* ``phone``: the same punctuation and length, the country code kept, other digits made up
  (each group starting 2–9, as North American numbers do);
* ``id``: fake ids of the same shape (UUIDs stay UUIDs) in the same sort order, so leads created
  at the same instant keep their order when ties are broken by id (an id that is neither a
  string nor a number becomes ``"redacted"``);
* ``property_street1``, ``property_street2``, ``notes``, ``assigned_to``: fake addresses,
  sentences and names;
* ``location``: rounded to 0.1 degree (about 10 km);
* undocumented fields: numbers, booleans and null are kept; a string is kept only if it is a
  short token several leads share (an enum value), else replaced by ``"redacted"``.

Kept as they are: ``stage``, ``tags``, ``archived`` (set from the listing that showed the lead:
the two agree on a server that keeps the contract), ``archived_at``, ``created_at`` (so ties
stay ties), ``follow_up_date``, ``lead_source``, ``priority``, ``projected_value``,
``service_type``, ``value_score``, ``property_city``, ``property_state``, ``property_zip``,
``property_country``, the order of the listing, and which fields are present, null or empty.
"""

from __future__ import annotations

import functools
import hashlib
import random
import re
import secrets
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, Final

from rotor_leads import spec
from rotor_leads.contract_tests._words import words

REPLACED: Final = (
    "id",
    "name",
    "email",
    "phone",
    "property_street1",
    "property_street2",
    "notes",
    "assigned_to",
)
_TOKEN: Final = re.compile(r"[a-z0-9][a-z0-9_.-]{0,23}")
_POOL: Final = 300
#: An email domain this many leads share (a mail provider, a company) is kept: it finds no one.
_SHARED: Final = 3
_TRIES: Final = 50
#: What made-up names are made of, where the word lists have none left that no source name has.
_SYLLABLES: Final = "ka lo mi ren sa tor vi zu bel dan fi nor quin ash".split()


class _Fakes:
    """Fake values drawn from pools of Faker's en_US words (``words.json``), each a function of
    a secret salt and the real value (the salt is not written anywhere: the mapping cannot be
    recomputed from the file)."""

    def __init__(self, leads: list[dict[str, Any]]) -> None:
        self.salt = secrets.token_bytes(16)
        rng = random.Random(self.salt)
        lists = words()
        #: Every personal value of the source: a fake is never one of them, in any field.
        self.real = {
            str(lead[name]) for lead in leads for name in REPLACED if isinstance(lead.get(name), str | int)
        }
        #: The words of the source's names: no fake name or street has one, so no source name
        #: shows through a fake one (a real "Ann Lee" is never faked as "Ann Leeds").
        source_words = {
            word.casefold()
            for lead in leads
            for name in ("name", "assigned_to")
            if isinstance(lead.get(name), str)
            for word in re.findall(r"\w+", lead[name])
        }

        def clean(value: str) -> bool:
            return not any(word.casefold() in source_words for word in re.findall(r"\w+", value))

        def invented() -> str:
            """A made-up name, not a word of any source name."""
            size = 2
            while True:
                for _ in range(_TRIES):
                    word = _made_up(rng, size).title()
                    if word.casefold() not in source_words:
                        return word
                size += 1

        def suffix() -> str:
            """A street's last word ("Lane", "Park"), not a word of a source name."""
            return (
                next(
                    (s for s in (rng.choice(lists["street_suffix"]) for _ in range(_TRIES)) if clean(s)), None
                )
                or invented()
            )

        def draw(make: Callable[[], str], count: int, invent: Callable[[], str]) -> list[str]:
            """Up to ``count`` distinct values of ``make`` with no word of a source name, topped
            up with made-up ones where the source has most of the lists' (a large listing has
            most of its first names)."""
            pool: dict[str, None] = {}
            for _ in range(count * 10):
                if len(pool) == count:
                    break
                value = make()
                if clean(value):
                    pool[value] = None
            while len(pool) < count // 4 or not pool:
                pool[invent()] = None
            return list(pool)

        def first() -> str:
            return rng.choice(lists["first"])

        def last() -> str:
            return rng.choice(lists["last"])

        def number() -> str:
            return str(rng.randint(100, 99_999))

        def sentence() -> str:
            text = " ".join(rng.choices(lists["plain"], k=rng.randint(6, 14)))
            return text[:1].upper() + text[1:] + "."

        self.pools = {
            "first": draw(first, _POOL, invented),
            "last": draw(last, _POOL, invented),
            "domain": [rng.choice(lists["free_mail"]) for _ in range(8)]
            + [f"{last().lower()}.{rng.choice(lists['tld'])}" for _ in range(16)],
            # Streets are named after people ("17844 Melissa Village"), as Faker names them: a
            # source name's word would show through one.
            "street": draw(
                lambda: f"{number()} {rng.choice((first, last))()} {suffix()}",
                _POOL,
                lambda: f"{number()} {invented()} {suffix()}",
            ),
            "street2": [
                f"{rng.choice(('Apt.', 'Suite'))} {rng.randint(100, 999)}" for _ in range(_POOL // 4)
            ],
            "note": [sentence() for _ in range(_POOL // 2)],
            "rep": draw(lambda: f"{first()} {last()}", 12, lambda: f"{invented()} {invented()}"),
        }
        self.memo: dict[tuple[str, str], Any] = {}
        self.given: dict[str, set[Any]] = {}

    def rng(self, *parts: str) -> random.Random:
        digest = hashlib.sha256(self.salt + "\x00".join(parts).encode("utf-8", "surrogatepass")).digest()
        return random.Random(int.from_bytes(digest[:16], "big"))

    def fresh(
        self, field: str, real: str, make: Callable[[random.Random], Any], *, distinct: bool = False
    ) -> Any:
        """The fake of ``real`` for ``field``: the same every time, never a value the source has,
        and if ``distinct``, not one given to another value while the pools have others."""
        key = (field, real)
        if key not in self.memo:
            rng = self.rng(field, real)
            given = self.given.setdefault(field, set()) if distinct else set()
            value = make(rng)
            for _ in range(_TRIES):
                if str(value) not in self.real and value not in given:
                    break
                value = make(rng)
            given.add(value)
            self.memo[key] = value
        return self.memo[key]

    def person(self, key: str) -> str:
        """The fake full name of the real person ``key``: never a name the source has, nor (while
        there are others) one another person has, so a search by it finds that person's leads."""
        return str(
            self.fresh(
                "name",
                key,
                lambda rng: f"{rng.choice(self.pools['first'])} {rng.choice(self.pools['last'])}",
                distinct=True,
            )
        )


def _phone(real: str, rng: random.Random) -> str:
    keep = 1 if real.startswith("+1") else 2 if real.startswith("+") else 0
    out, kept, previous_digit = [], 0, False
    for char in real:
        if not char.isdigit():
            out.append(char)
            previous_digit = False
            continue
        if kept < keep:
            out.append(char)
            kept += 1
        else:
            out.append(str(rng.randint(0, 9) if previous_digit else rng.randint(2, 9)))
        previous_digit = True
    return "".join(out)


def _same_shape(real: str, rng: random.Random) -> str:
    try:
        parsed = uuid.UUID(real)
    except ValueError:
        pass
    else:
        fake = str(uuid.UUID(int=rng.getrandbits(128), version=parsed.version or 4))
        return fake.upper() if real.isupper() else fake
    out = []
    for char in real:
        if char.isdigit():
            out.append(str(rng.randint(0, 9)))
        elif char.isascii() and char.isalpha():
            letter = chr(rng.randint(ord("a"), ord("z")))
            out.append(letter.upper() if char.isupper() else letter)
        else:
            out.append(char)
    return "".join(out)


def _plain_id(lead: dict[str, Any]) -> str | int | None:
    """The lead's id if it is a string or a number (anything else is replaced, never kept)."""
    value = lead.get("id")
    return value if isinstance(value, str | int) and not isinstance(value, bool) else None


def _ids(leads: list[dict[str, Any]], fakes: _Fakes) -> dict[Any, str]:
    """Real id → fake id, unique, in the same sort order as the real ones."""
    real = sorted({plain for lead in leads if (plain := _plain_id(lead)) is not None}, key=str)
    made: set[str] = set()
    for value in real:
        fake = fakes.fresh("id", str(value), functools.partial(_same_shape, str(value)))
        again = 0
        while fake in made or fake in fakes.real:
            again += 1
            # A short id's shape may have no value left that is not taken (ids "1" to "9"
            # and "10", or ""): after some tries, a fake one character longer.
            longer = str(value) + (str(value)[-1:] or "0") * (again // _TRIES)
            fake = _same_shape(longer, fakes.rng("id-again", str(value), str(again)))
        made.add(fake)
    return dict(zip(real, sorted(made), strict=True))


def _pick(pool: list[str], rng: random.Random) -> str:
    return rng.choice(pool)


def _made_up(rng: random.Random, syllables: int) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(syllables))


def _email(name: str, rng: random.Random, *, domain: str, holds: str | None, others: list[str]) -> str:
    """An address for the fake ``name``. The real one's ``domain`` is kept if it is a kept
    domain (``holds`` is the longest kept domain within it); a domain that holds a kept one
    gets a made-up one ending in it ("smith-kline.com" for a kept "kline.com": a search by that
    finds this lead too); any other gets one of ``others``."""
    local = re.sub(r"[^a-z0-9.]", "", name.lower().replace(" ", "."))
    if holds is None:
        domain = rng.choice(others)
    elif holds != domain:
        domain = f"{_made_up(rng, 3)}-{holds}"
    return f"{local}{rng.randint(1, 99)}@{domain}"


def _domain(email: str) -> str:
    """The domain of an address ("" for a value that is not one: never kept)."""
    local, at, domain = email.rpartition("@")
    return domain.casefold() if at and local and "." in domain else ""


def _extra(value: Any, common: Counter[str]) -> Any:
    if isinstance(value, str):
        return value if _TOKEN.fullmatch(value) and common[value] >= 3 else "redacted"
    if isinstance(value, list):
        return [_extra(v, common) for v in value]
    if isinstance(value, dict):
        return {k: _extra(v, common) for k, v in value.items()}
    return value


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)


def anonymize(leads: list[dict[str, Any]], *, archived_ids: frozenset[Any]) -> list[dict[str, Any]]:
    """``leads`` (a listing, in its order) with every personal value replaced (see the module's
    docstring); ``archived_ids`` are the leads only the archived=true listing showed."""
    fakes = _Fakes(leads)
    ids = _ids(leads, fakes)
    documented = set(spec.documented_fields("Lead"))
    domains = Counter(_domain(lead["email"]) for lead in leads if isinstance(lead.get("email"), str))
    kept = {domain for domain, n in domains.items() if domain and n >= _SHARED}
    # A fake domain is none of the source's (a rare one may be a person's own) and holds no kept
    # one ("gmail.com" holds "mail.com"): a search by a kept domain finds what it found before.
    other_domains = [d for d in fakes.pools["domain"] if d not in domains and not any(k in d for k in kept)]
    other_domains = other_domains or ["example.net"]
    #: Each source domain's longest kept domain within it (itself if it is kept), or None.
    holds = {d: max((k for k in kept if k in d), key=len, default=None) for d in domains}
    common = Counter(
        s for lead in leads for k, v in lead.items() if k not in documented for s in set(_strings(v))
    )
    out = []
    for lead in leads:
        fake = dict(lead)
        plain = _plain_id(lead)
        if "id" in lead:
            fake["id"] = ids[plain] if plain is not None else None if lead["id"] is None else "redacted"
        if "archived" in lead or plain in archived_ids:
            fake["archived"] = plain in archived_ids
        email, name = lead.get("email"), lead.get("name")
        key = (email or name or lead.get("phone") or str(lead.get("id"))).casefold()
        person = fakes.person(key)
        if isinstance(name, str) and name:
            fake["name"] = person
        if isinstance(email, str) and email:
            domain = _domain(email)
            fake["email"] = fakes.fresh(
                "email",
                email.casefold(),
                functools.partial(_email, person, domain=domain, holds=holds[domain], others=other_domains),
            )
        phone = lead.get("phone")
        if isinstance(phone, str) and phone:
            fake["phone"] = fakes.fresh("phone", phone, functools.partial(_phone, phone))
        for field, pool in (
            ("property_street1", "street"),
            ("property_street2", "street2"),
            ("notes", "note"),
            ("assigned_to", "rep"),
        ):
            value = lead.get(field)
            if isinstance(value, str) and value:
                fake[field] = fakes.fresh(field, value, functools.partial(_pick, fakes.pools[pool]))
            elif value is not None and not isinstance(value, str):
                fake[field] = "redacted"
        location = lead.get("location")
        if isinstance(location, list):
            fake["location"] = [
                round(v, 1) if isinstance(v, int | float) and not isinstance(v, bool) else None
                for v in location
            ]
        for name_, value in lead.items():
            if name_ not in documented:
                fake[name_] = _extra(value, common)
        out.append(fake)
    return out
