"""A target's listing with nothing personal in it, shaped like the original: the fixtures file
that ``--record-fixtures FILE`` writes and the mock serves (``rotor-mock serve --fixtures FILE``).

A value of the source survives only if it is *categorical*: shared by at least
:data:`CATEGORICAL` (3) leads, and holding no word of any source name. Every other value is
replaced, consistently (the same value always gets the same fake in one file, never a value
the source has in any of the personal fields, and no fake name or street has a word of a source
name), so that a filter or search by a fake finds what one by the real value found:

* ``name`` and ``email``: one fake person per real person (a lead's email or, without one,
  its name), the fake email made from the fake name, so a search by a fake name finds its lead
  (Faker's en_US names first; made-up ones fill in where a large source has most of them);
  the email's domain is kept if it is a public mail provider's (:data:`PUBLIC_MAIL`), else
  replaced by one fake domain per real one, so a search by a domain finds as many leads;
* ``phone``: the same punctuation and length, the country code kept, other digits made up
  (each group starting 2–9, as North American numbers do);
* ``id``: fake ids of the same shape (UUIDs stay UUIDs) in the same sort order, so leads created
  at the same instant keep their order when ties are broken by id (an id that is neither a
  string nor a number becomes ``"redacted"``);
* ``property_street1``, ``property_street2``, ``notes``, ``assigned_to``: fake addresses,
  sentences and names;
* ``created_at``, ``archived_at``, ``follow_up_date``: moved by one secret number of days, the
  same for every lead (order, ties and spans stay);
* ``location``: rounded to 0.1 degree (about 10 km);
* every other field, documented or not (stage, tags one by one, lead source, service, city,
  ZIP, values and scores…): a value that is not categorical becomes a categorical value of the
  same field where the source has one, or a fake of the same JSON type and shape (a number of
  as many digits, a made-up word); booleans and null stay.

Kept: ``archived`` (set from the listing that showed the lead: the two agree on a server that
keeps the contract), the order of the listing, and which fields are present, null or empty.
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
from datetime import timedelta
from typing import Any, Final

from rotor_leads import spec
from rotor_leads.contract_tests._privacy import PERSONAL, PUBLIC_MAIL
from rotor_leads.contract_tests._words import words

_POOL: Final = 300
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
            str(lead[name])
            for lead in leads
            for name in ("id", *PERSONAL)
            if isinstance(lead.get(name), str | int)
        }
        #: The words of the source's names: no fake name or street has one, so no source name
        #: shows through a fake one (a real "Ann Lee" is never faked as "Ann Leeds").
        source_words = self.source_words = {
            word.casefold()
            for lead in leads
            for name in ("name", "assigned_to")
            if isinstance(lead.get(name), str)
            for word in re.findall(r"\w+", lead[name])
        }
        clean = self.clean
        #: Days every timestamp moves back: secret, like the salt.
        self.shift = timedelta(days=rng.randint(400, 1500))

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

    def clean(self, value: str) -> bool:
        """Whether ``value`` holds no word of a source name."""
        return not any(word.casefold() in self.source_words for word in re.findall(r"\w+", value))

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


#: A value at least this many leads share is categorical (a stage, a tag, a city): kept.
CATEGORICAL: Final = 3
TIMESTAMPS: Final = ("created_at", "archived_at", "follow_up_date")


def _email(name: str, rng: random.Random, *, domain: str) -> str:
    """An address for the fake ``name`` at ``domain``."""
    local = re.sub(r"[^a-z0-9.]", "", name.lower().replace(" ", "."))
    return f"{local}{rng.randint(1, 99)}@{domain}"


def _domain(email: str) -> str:
    """The domain of an address ("" for a value that is not one)."""
    local, at, domain = email.rpartition("@")
    return domain.casefold() if at and local and "." in domain else ""


def _fake_domains(leads: list[dict[str, Any]], fakes: _Fakes) -> dict[str, str]:
    """Each source domain's fake: itself for a public provider's; else a made-up one, no source
    domain, that holds the fake of every shorter domain the real one holds ("smith-mail.com"
    holds "mail.com": a search by "mail.com" finds both, as on the source) and no other."""
    real = sorted({_domain(lead["email"]) for lead in leads if isinstance(lead.get("email"), str)} - {""})
    out: dict[str, str] = {}
    for domain in sorted(real, key=len):
        if domain in PUBLIC_MAIL:
            out[domain] = domain
            continue
        held = max((out[d] for d in out if d in domain), key=len, default=None)
        rng = fakes.rng("domain", domain)
        tld = domain.rsplit(".", 1)[-1] if domain.rsplit(".", 1)[-1].isalpha() else "com"
        size = 2
        while True:
            for _ in range(_TRIES):
                fake = f"{_made_up(rng, size)}-{held}" if held else f"{_made_up(rng, size)}.{tld}"
                # What the held fake holds, the new one holds too, by design.
                others = [d for d in (*real, *PUBLIC_MAIL, *out.values()) if not (held and d in held)]
                if not any(fake in other or (other in fake) for other in others):
                    out[domain] = fake
                    break
            else:
                size += 1
                continue
            break
    return out


def _fake_number(real: int | float, rng: random.Random) -> int | float:
    """A number of the same type, sign, number of digits and decimals as ``real``."""
    if isinstance(real, int):
        digits = len(str(abs(real)))
        low = 10 ** (digits - 1) if digits > 1 else 0
        return (-1 if real < 0 else 1) * rng.randint(low, 10**digits - 1)
    text = repr(abs(real))
    whole, _, decimals = text.partition(".")
    if "e" in text or not decimals:
        return real * rng.uniform(0.5, 1.5)
    digits = len(whole.lstrip("0")) or 1
    value = rng.uniform(10 ** (digits - 1) if digits > 1 else 0, 10**digits)
    return (-1 if real < 0 else 1) * round(value, len(decimals))


_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")


def _shifted(value: Any, shift: timedelta) -> Any:
    """A timestamp moved back by ``shift`` (whole days: its time, offset and precision stay as
    written); a value that is not one is replaced like any other."""
    moment = spec.parse_timestamp(value)
    if moment is None or not isinstance(value, str) or not _DATE.match(value):
        return None if value is None else "redacted"
    return (moment - shift).strftime("%Y-%m-%d") + value[10:]


class _Categories:
    """Which values of each field are categorical, and the fakes of those that are not."""

    def __init__(self, leads: list[dict[str, Any]], fakes: _Fakes) -> None:
        self.fakes = fakes
        self.counts: Counter[tuple[str, str]] = Counter()
        for lead in leads:
            seen: set[tuple[str, str]] = set()
            for path, value in _scalars(lead):
                seen.add((path, _key(value)))
            for tag in set(spec.lead_tags(lead)):
                seen.add(("tags[]", _key(tag)))
            self.counts.update(seen)
        #: Per field, its categorical strings, to stand in for the others.
        self.common: dict[str, list[str]] = {}
        for (path, key), n in sorted(self.counts.items()):
            if n >= CATEGORICAL and key.startswith("s:") and fakes.clean(key[2:]):
                self.common.setdefault(path, []).append(key[2:])

    def categorical(self, path: str, value: Any) -> bool:
        if isinstance(value, bool) or value is None:
            return True
        if isinstance(value, str) and not self.fakes.clean(value):
            return False
        return self.counts[(path, _key(value))] >= CATEGORICAL

    def keep(self, path: str, value: Any) -> Any:
        """``value`` if categorical, else its consistent fake (see the module's docstring)."""
        if isinstance(value, dict):
            return {k: self.keep(f"{path}.{k}", v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.keep(f"{path}[]", v) for v in value]
        if self.categorical(path, value):
            return value
        return self.fakes.fresh(path, _key(value), functools.partial(self._fake, path, value))

    def _fake(self, path: str, value: Any, rng: random.Random) -> Any:
        if isinstance(value, int | float):
            return _fake_number(value, rng)
        if path == "tags[]":  # a tag of its own: a made-up one (a common one would join its leads)
            return "-".join(_made_up(rng, 2) for _ in str(value).split("-"))
        common = self.common.get(path)
        if common:
            return rng.choice(common)
        return _same_shape(str(value), rng)


def _key(value: Any) -> str:
    return f"s:{value}" if isinstance(value, str) else f"j:{value!r}"


def _scalars(value: Any, path: str = "") -> Iterable[tuple[str, Any]]:
    """(path, value) of every value below a lead (lists of scalars item by item)."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _scalars(v, f"{path}.{k}" if path else k)
    elif isinstance(value, list):
        for v in value:
            yield from _scalars(v, f"{path}[]")
    else:
        yield path, value


def anonymize(leads: list[dict[str, Any]], *, archived_ids: frozenset[Any]) -> list[dict[str, Any]]:
    """``leads`` (a listing, in its order) with every personal value replaced (see the module's
    docstring); ``archived_ids`` are the leads only the archived=true listing showed."""
    fakes = _Fakes(leads)
    ids = _ids(leads, fakes)
    domains = _fake_domains(leads, fakes)
    categories = _Categories(leads, fakes)
    out = []
    for lead in leads:
        plain = _plain_id(lead)
        email, name = lead.get("email"), lead.get("name")
        person = fakes.person((email or name or lead.get("phone") or str(lead.get("id"))).casefold())

        def personal(field: str, value: Any, person: str = person) -> Any:
            """The fake of one of a lead's own fields (``value`` is a non-empty string)."""
            if field == "name":
                return person
            if field == "email":
                domain = domains.get(_domain(value)) or fakes.fresh("domain", "", _other_domain)
                return fakes.fresh(
                    "email", value.casefold(), functools.partial(_email, person, domain=domain)
                )
            if field == "phone":
                return fakes.fresh("phone", value, functools.partial(_phone, value))
            return fakes.fresh(field, value, functools.partial(_pick, fakes.pools[_POOLS[field]]))

        fake: dict[str, Any] = {}
        for field, value in lead.items():
            if field == "id":
                fake[field] = ids[plain] if plain is not None else None if value is None else "redacted"
            elif field == "archived":
                fake[field] = plain in archived_ids  # as the listings showed it
            elif field in PERSONAL:
                empty = value is None or value == ""
                fake[field] = (
                    value if empty else personal(field, value) if isinstance(value, str) else "redacted"
                )
            elif field in TIMESTAMPS:
                fake[field] = _shifted(value, fakes.shift)
            elif field == "location" and isinstance(value, list):
                fake[field] = [_rounded(v) for v in value]
            elif field == "tags" and isinstance(value, list):
                fake[field] = [categories.keep("tags[]", tag) for tag in value]
            else:
                fake[field] = categories.keep(field, value)
        if "archived" not in lead and plain in archived_ids:
            fake["archived"] = True
        out.append(fake)
    return out


def _other_domain(rng: random.Random) -> str:
    return f"{_made_up(rng, 3)}.net"


def _rounded(value: Any) -> Any:
    """A coordinate to 0.1 degree (about 10 km); anything else is no coordinate."""
    return round(value, 1) if isinstance(value, int | float) and not isinstance(value, bool) else None


#: The personal fields drawn from pools of fakes, and their pools.
_POOLS: Final = {
    "property_street1": "street",
    "property_street2": "street2",
    "notes": "note",
    "assigned_to": "rep",
}
