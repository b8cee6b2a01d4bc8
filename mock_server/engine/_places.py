"""US places for the seeded data set: ZIP code, city, state, coordinates and area codes that
belong together, read from ``places.csv`` (shipped with the package, about 3,000 rows), and the
exchanges of each area code that make valid phone numbers, from ``exchanges.csv``.

``places.csv`` is derived from the ``zipcodes`` package's data set (standard, active ZIP codes
that have coordinates and area codes; every tenth in ZIP order, so that every state is there).
Reading 3,000 rows costs a few megabytes; loading that package's 42,000 records cost each
worker about 140 MB that it never gave back. ``exchanges.csv`` is what ``phonenumbers`` (47 MB
installed) says of ``+1 AREA EXCHANGE 0123`` for every exchange of those area codes, as ranges.
To make both files again (``zipcodes`` and ``phonenumbers`` are development dependencies)::

    .venv/bin/python -m rotor_leads.mock_server.engine._places
"""

from __future__ import annotations

import csv
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Final, NamedTuple

FILE: Final = "places.csv"
EXCHANGES_FILE: Final = "exchanges.csv"
EVERY: Final = 10


class PlaceRecord(NamedTuple):
    zip_code: str
    city: str
    state: str
    latitude: float
    longitude: float
    area_codes: tuple[str, ...]


@cache
def places() -> tuple[PlaceRecord, ...]:
    """Every place of the file, in ZIP order."""
    text = files("rotor_leads.mock_server.engine").joinpath(FILE).read_text(encoding="utf-8")
    rows = csv.reader(text.splitlines())
    next(rows)  # the header
    return tuple(
        PlaceRecord(z, city, state, float(lat), float(long), tuple(codes.split()))
        for z, city, state, lat, long, codes in rows
    )


@cache
def valid_exchanges() -> dict[str, frozenset[int]]:
    """Per area code, the exchanges (200 to 999) that make a valid number with it."""
    text = files("rotor_leads.mock_server.engine").joinpath(EXCHANGES_FILE).read_text(encoding="utf-8")
    rows = csv.reader(text.splitlines())
    next(rows)  # the header
    valid = {}
    for area_code, spans in rows:
        exchanges: set[int] = set()
        for span in spans.split():
            low, _, high = span.partition("-")
            exchanges.update(range(int(low), int(high or low) + 1))
        valid[area_code] = frozenset(exchanges)
    return valid


def _spans(numbers: list[int]) -> str:
    """``[200, 201, 202, 204]`` as ``"200-202 204"``."""
    spans: list[list[int]] = []
    for number in numbers:
        if spans and spans[-1][1] == number - 1:
            spans[-1][1] = number
        else:
            spans.append([number, number])
    return " ".join(str(low) if low == high else f"{low}-{high}" for low, high in spans)


def _write_exchanges(path: Path, area_codes: set[str]) -> int:
    import phonenumbers  # a development dependency: only this script needs it

    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["area_code", "exchanges"])
        for area in sorted(area_codes):
            valid = [
                exchange
                for exchange in range(200, 1000)
                if phonenumbers.is_valid_number(phonenumbers.parse(f"+1{area}{exchange}0123"))
            ]
            writer.writerow([area, _spans(valid)])
    return len(area_codes)


def _write(path: Path) -> int:
    import zipcodes  # a development dependency: only this script needs it

    usable = sorted(
        (
            z
            for z in zipcodes.list_all()  # type: ignore[no-untyped-call]
            if z.get("active")
            and z.get("zip_code_type") == "STANDARD"
            and z.get("area_codes")
            and z.get("lat")
        ),
        key=lambda z: str(z["zip_code"]),
    )[::EVERY]
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["zip_code", "city", "state", "latitude", "longitude", "area_codes"])
        for z in usable:
            writer.writerow(
                [
                    z["zip_code"],
                    z["city"],
                    z["state"],
                    round(float(z["lat"]), 5),
                    round(float(z["long"]), 5),
                    " ".join(z["area_codes"]),
                ]
            )
    return len(usable)


if __name__ == "__main__":
    target = Path(__file__).with_name(FILE)
    print(f"{target}: {_write(target)} places")
    places.cache_clear()
    codes = {code for place in places() for code in place.area_codes}
    target = Path(__file__).with_name(EXCHANGES_FILE)
    print(f"{target}: {_write_exchanges(target, codes)} area codes")
