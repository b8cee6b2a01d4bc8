"""US places for the seeded data set: ZIP code, city, state, coordinates and area codes that
belong together, read from ``places.csv`` (shipped with the package, about 3,000 rows).

The file is derived from the ``zipcodes`` package's data set (standard, active ZIP codes that
have coordinates and area codes; every tenth in ZIP order, so that every state is there).
Reading 3,000 rows costs a few megabytes; loading that package's 42,000 records cost each
worker about 140 MB that it never gave back. To make the file again (``zipcodes`` is a
development dependency)::

    .venv/bin/python -m rotor_leads.mock_server.engine._places
"""

from __future__ import annotations

import csv
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Final, NamedTuple

FILE: Final = "places.csv"
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
