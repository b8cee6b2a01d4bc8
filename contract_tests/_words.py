"""The words fake people, streets and notes are made of, for ``--record-fixtures``: Faker's en_US
lists (first and last names, street suffixes, plain English words, free mail providers, top
level domains), shipped as data in ``words.json`` (30 KB) so that the suite does not install
Faker (25 MB) for them. To make the file again (Faker comes with the ``[mock]`` extra)::

    .venv/bin/python -m rotor_leads.contract_tests._words
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Final

FILE: Final = "words.json"


@cache
def words() -> dict[str, tuple[str, ...]]:
    """``{"first": (...), "last": (...), "street_suffix": (...), "plain": (...),
    "free_mail": (...), "tld": (...)}``."""
    text = files("rotor_leads.contract_tests").joinpath(FILE).read_text(encoding="utf-8")
    return {name: tuple(values) for name, values in json.loads(text).items()}


def _write(path: Path) -> dict[str, int]:
    from faker.providers.address.en_US import Provider as Address
    from faker.providers.internet.en_US import Provider as Internet
    from faker.providers.lorem.en_US import Provider as Lorem
    from faker.providers.person.en_US import Provider as Person

    lists = {
        "first": sorted(set(Person.first_names)),
        "last": sorted(set(Person.last_names)),
        "street_suffix": sorted(set(Address.street_suffixes)),
        "plain": sorted(set(Lorem.word_list)),
        "free_mail": sorted(set(Internet.free_email_domains)),
        "tld": sorted(set(Internet.tlds)),
    }
    path.write_text(json.dumps(lists, indent=0, ensure_ascii=False) + "\n", encoding="utf-8")
    return {name: len(values) for name, values in lists.items()}


if __name__ == "__main__":
    target = Path(__file__).with_name(FILE)
    print(f"{target}: {_write(target)}")
