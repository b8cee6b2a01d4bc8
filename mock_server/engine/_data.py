"""A deterministic, realistic data set of leads, and validation of a user's own fixtures."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Final

import orjson
from faker import Faker
from jsonschema import Draft202012Validator, FormatChecker

from rotor_leads import spec
from rotor_leads.mock_server.engine._places import places, valid_exchanges

#: The generator's version: a data set file built by another one is built again.
GENERATOR: Final = "v2"
STAGES: Final = ("new", "contacted", "qualified", "proposal", "negotiation", "won", "lost")
TAGS: Final = (
    "roofing",
    "solar",
    "hvac",
    "plumbing",
    "referral",
    "vip",
    "repeat",
    "commercial",
    "residential",
    "insurance",
    "financing",
    "spring-promo",
)
SOURCES: Final = ("website", "referral", "google-ads", "facebook", "door-knock", "trade-show", "phone")
SERVICES: Final = ("roof replacement", "roof repair", "solar install", "hvac tune-up", "gutters", "siding")
REPS: Final = ("Dana Whitfield", "Marcus Ortega", "Priya Raman", "Tom Becker", "Lena Sato")
ARCHIVED_SHARE: Final = 0.15
TIE_SHARE: Final = 0.05
#: Newest lead's creation time: fixed, so that a seed gives the same data on every day.
NEWEST: Final = datetime(2026, 11, 1, 17, 30, tzinfo=UTC)
SPAN_SECONDS: Final = 270 * 24 * 3600
_POOL: Final = 400


def _timestamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Place:
    """A US ZIP code and what belongs with it (``places.csv``, from the zipcodes package), and exchanges
    of one of its area codes that make valid phone numbers (``exchanges.csv``, from phonenumbers)."""

    city: str
    state: str
    zip_code: str
    latitude: float
    longitude: float
    exchanges: tuple[str, ...]  # "415-386": area code and exchange

    def phone(self, rng: random.Random) -> str:
        """A North American number of this place, in one format: ``+1 415-386-0123``."""
        return f"+1 {rng.choice(self.exchanges)}-{rng.randint(0, 9999):04d}"


def _exchanges(area_codes: list[str], rng: random.Random) -> tuple[str, ...]:
    valid = valid_exchanges()
    found: list[str] = []
    for _ in range(40):
        if len(found) == 4:
            break
        area = rng.choice(area_codes)
        exchange = f"{rng.randint(2, 9)}{rng.randint(0, 9)}{rng.randint(0, 9)}"
        if exchange[1:] == "11" or exchange == "555":  # N11 service codes; 555 is for fiction
            continue
        if int(exchange) in valid.get(area, ()):
            found.append(f"{area}-{exchange}")
    return tuple(found)


@cache
def _pools(seed: int) -> dict[str, list[Any]]:
    # Faker is slow per call; draw pools once and combine them, so a million leads stay cheap.
    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    places_ = []
    for record in rng.sample(places(), _POOL // 2):
        exchanges = _exchanges(list(record.area_codes), rng)
        if exchanges:
            places_.append(
                Place(
                    record.city, record.state, record.zip_code, record.latitude, record.longitude, exchanges
                )
            )
    return {
        "first": [fake.first_name() for _ in range(_POOL)],
        "last": [fake.last_name() for _ in range(_POOL)],
        "domain": [fake.free_email_domain() for _ in range(8)] + [fake.domain_name() for _ in range(24)],
        "street": [fake.street_address() for _ in range(_POOL)],
        "street2": [fake.secondary_address() for _ in range(_POOL // 4)],
        "place": places_,
        "note": [fake.sentence(nb_words=10) for _ in range(_POOL // 2)],
    }


def generate_leads(count: int, *, seed: int) -> Iterator[dict[str, Any]]:
    """``count`` realistic leads, the same for the same ``seed``: Faker names and emails; a US
    place per lead whose city, state, ZIP code and coordinates belong together, with a valid
    phone number of one of its area codes; pipeline stages, a few tags each, about 15%
    archived, creation dates over nine months with some exact ties.
    """
    pools = _pools(seed)
    rng = random.Random(seed)
    created = NEWEST
    for n in range(count):
        if n and rng.random() >= TIE_SHARE:
            created -= timedelta(seconds=rng.randint(1, max(2, 2 * SPAN_SECONDS // max(count, 1))))
            created -= timedelta(milliseconds=rng.randint(0, 999))
        first, last = rng.choice(pools["first"]), rng.choice(pools["last"])
        place: Place = rng.choice(pools["place"])
        archived = rng.random() < ARCHIVED_SHARE
        follow_up = created + timedelta(days=rng.randint(1, 45)) if rng.random() < 0.6 else None
        yield {
            "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "archived": archived,
            "archived_at": _timestamp(created + timedelta(days=rng.randint(1, 60))) if archived else None,
            "assigned_to": rng.choice(REPS) if rng.random() < 0.8 else None,
            "created_at": _timestamp(created),
            "email": f"{first}.{last}{rng.randint(1, 99)}@{rng.choice(pools['domain'])}".lower(),
            "follow_up_date": _timestamp(follow_up) if follow_up else None,
            "lead_source": rng.choice(SOURCES),
            "location": [place.latitude, place.longitude],
            "name": f"{first} {last}",
            "notes": rng.choice(pools["note"]) if rng.random() < 0.5 else None,
            "phone": place.phone(rng),
            "priority": rng.choice(("low", "medium", "high")),
            "projected_value": round(rng.uniform(2_000, 60_000), 2),
            "property_city": place.city,
            "property_country": "US",
            "property_state": place.state,
            "property_street1": rng.choice(pools["street"]),
            "property_street2": rng.choice(pools["street2"]) if rng.random() < 0.2 else None,
            "property_zip": place.zip_code,
            "service_type": rng.choice(SERVICES),
            "stage": rng.choice(STAGES),
            "tags": rng.sample(TAGS, k=rng.choice((0, 1, 1, 2, 2, 3))),
            "value_score": rng.randint(0, 100),
        }


class FixtureError(ValueError):
    """A fixture file or record is not a valid list of leads; the message is one line naming
    the file, the record and the field."""


_LEAD_VALIDATOR: Final = Draft202012Validator(spec.component_schema("Lead"), format_checker=FormatChecker())
#: How deep a lead's own fields may nest: the documented ones nest two levels (a list of
#: numbers); JSON and schema tools recurse, and a field 250 levels deep crashed them.
MAX_DEPTH: Final = 16


def _too_deep(record: dict[str, Any]) -> str | None:
    """The path of the first value nested deeper than :data:`MAX_DEPTH`, if any."""
    stack: list[tuple[Any, str, int]] = [(v, str(k), 1) for k, v in record.items()]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth >= MAX_DEPTH:
                return path
            items = value.items() if isinstance(value, dict) else enumerate(value)
            stack.extend((v, f"{path}.{k}", depth + 1) for k, v in items)
    return None


def validate_leads(records: Any, *, source: str = "fixtures") -> list[dict[str, Any]]:
    """Check a user's leads: a JSON array of lead objects, valid against the spec's ``Lead``
    schema, each with a unique string ``id`` and a ``created_at`` date-time (the mock orders by
    them). Raises :class:`FixtureError` at the first bad record; nothing is half-loaded.
    """
    if not isinstance(records, list):
        raise FixtureError(f"{source}: expected a JSON array of lead objects, got {type(records).__name__}")
    seen: set[str] = set()
    for index, record in enumerate(records):
        where = f"{source}: record {index}"
        if not isinstance(record, dict):
            raise FixtureError(f"{where}: expected a lead object, got {type(record).__name__}")
        deep = _too_deep(record)
        if deep is not None:
            field = deep.split(".")[0]
            raise FixtureError(f"{where}, field {field}: nested more than {MAX_DEPTH} levels deep")
        error = next(iter(_LEAD_VALIDATOR.iter_errors(record)), None)
        if error is not None:
            field = ".".join(str(p) for p in error.absolute_path) or "(record)"
            raise FixtureError(f"{where}, field {field}: {error.message}")
        for field in ("id", "created_at"):
            if record.get(field) is None:
                raise FixtureError(f"{where}, field {field}: required by the mock (it orders by it)")
        if spec.parse_timestamp(record["created_at"]) is None:
            raise FixtureError(
                f"{where}, field created_at: {record['created_at']!r} is not a date-time the mock can sort"
            )
        if record["id"] in seen:
            raise FixtureError(f"{where}, field id: {record['id']!r} is used by an earlier record")
        seen.add(record["id"])
    return records


def load_fixture_file(path: str | Path) -> list[dict[str, Any]]:
    """Read and validate a fixtures file; raises :class:`FixtureError` naming what is wrong."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise FixtureError(f"{path}: cannot read it ({exc.strerror})") from None
    try:
        records = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise FixtureError(f"{path}: not valid JSON ({exc})") from None
    except RecursionError:
        raise FixtureError(f"{path}: nested too deep to read (more than {MAX_DEPTH} levels)") from None
    return validate_leads(records, source=str(path))
