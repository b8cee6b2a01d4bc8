"""Anonymized fixtures, value by value: what is replaced, what is kept, and that a source value
never shows through."""

from __future__ import annotations

import re
import uuid

from rotor_leads import spec
from rotor_leads.contract_tests._anonymize import anonymize
from tests.fake_api import leads

DATA = leads(120, seed=5)


def test_anonymize__replaces_every_personal_value_consistently() -> None:
    out = anonymize(DATA, archived_ids=frozenset())
    text = repr(out)
    for lead in DATA:
        for field in ("id", "name", "email", "phone", "property_street1", "notes"):
            assert lead[field] is None or lead[field] not in text, field
    words = {w for lead in DATA for w in re.findall(r"\w+", lead["name"])}
    assert not any(w in words for fake in out for w in re.findall(r"\w+", fake["name"]))
    again = anonymize([*DATA, DATA[0]], archived_ids=frozenset())
    assert (again[0]["name"], again[0]["email"]) == (again[-1]["name"], again[-1]["email"])


def test_anonymize__keeps_shapes_order_and_what_filters_read() -> None:
    out = anonymize(DATA, archived_ids=frozenset(lead["id"] for lead in DATA[:7]))
    assert [uuid.UUID(lead["id"]).version for lead in out] == [uuid.UUID(lead["id"]).version for lead in DATA]
    assert sorted(range(len(DATA)), key=lambda i: DATA[i]["id"]) == sorted(
        range(len(out)), key=lambda i: out[i]["id"]
    )
    for real, fake in zip(DATA, out, strict=True):
        assert re.sub(r"\d", "0", real["phone"]) == re.sub(r"\d", "0", fake["phone"])
        for kept in ("stage", "tags", "priority", "lead_source", "service_type", "property_country"):
            assert fake[kept] == real[kept]  # categorical: each value shared by three leads or more
        assert fake["location"] == [round(v, 1) for v in real["location"]]
    assert [lead["archived"] for lead in out] == [i < 7 for i in range(len(DATA))]
    # Timestamps move back together: the order and the ties stay, the days do not.
    real_order = [spec.parse_timestamp(lead["created_at"]) for lead in DATA]
    fake_order = [spec.parse_timestamp(lead["created_at"]) for lead in out]
    assert all(a - b == real_order[0] - fake_order[0] for a, b in zip(real_order, fake_order, strict=True))
    assert real_order[0] != fake_order[0] and out[-1]["created_at"][10:] == DATA[-1]["created_at"][10:]


def test_anonymize__a_value_few_leads_have_never_survives() -> None:
    common = [
        {
            "id": f"c{i}",
            "name": ["Zebulon Park", "Ann Lee", "Bo Diaz", "Cy Ng"][i],
            "lead_source": "website",
            "service_type": "roof for Zebulon",
            "tags": ["vip"],
            "projected_value": 1000.5,
        }
        for i in range(4)
    ]
    rare = {
        "id": "r1",
        "name": "Ysolde Marchbanks",
        "lead_source": "referral from Ysolde Marchbanks",
        "service_type": "roof for Zebulon",
        "tags": ["vip", "zebulon-vip"],
        "projected_value": 48213.75,
        "account_number": 4111111111111111,
        "vip_since": "2019",
    }
    out = anonymize([*common, rare], archived_ids=frozenset())
    text = repr(out)
    for value in ("Ysolde", "Marchbanks", "Zebulon", "zebulon-vip", "4111111111111111", "48213.75", "2019"):
        assert value not in text, value
    assert out[0]["lead_source"] == "website" and out[-1]["lead_source"] == "website"  # a common one
    assert out[-1]["tags"][0] == "vip" and out[-1]["tags"][1] not in ("vip", "zebulon-vip")
    assert out[0]["projected_value"] == 1000.5  # four leads share it
    fake_number = out[-1]["account_number"]
    assert isinstance(fake_number, int) and len(str(fake_number)) == 16
    assert isinstance(out[-1]["projected_value"], float) and isinstance(out[-1]["vip_since"], str)


def test_anonymize__public_mail_domains_stay_and_others_are_replaced_consistently() -> None:
    company = [{"id": str(i), "name": f"Ann{i} Lee", "email": f"ann{i}@acme-roofing.com"} for i in range(3)]
    public = [{"id": f"g{i}", "name": f"Bo{i} Diaz", "email": f"bo{i}@gmail.com"} for i in range(2)]
    not_an_address = [{"id": f"x{i}", "name": "Cy Ng", "email": "cy-ng-private"} for i in range(3)]
    out = anonymize(company + public + not_an_address, archived_ids=frozenset())
    fake_domains = {lead["email"].partition("@")[2] for lead in out[:3]}
    assert len(fake_domains) == 1 and "acme" not in fake_domains.pop()
    assert all(lead["email"].endswith("@gmail.com") for lead in out[3:5])
    assert not any("cy-ng-private" in lead["email"] for lead in out[5:])


def test_anonymize__no_fake_shows_a_source_name_even_when_faker_runs_out() -> None:
    # Faker names streets after people ("17844 Melissa Village"), and a large listing has most of
    # its names: here every first and last name it knows, so made-up ones must fill in.
    from faker.providers.person.en_US import Provider

    firsts, lasts = sorted(Provider.first_names), sorted(Provider.last_names)
    source = [
        {
            "id": str(uuid.UUID(int=i)),
            "name": f"{firsts[i % len(firsts)]} {last}",
            "email": f"p{i}@example.com",
            "property_street1": f"{i} Main St",
            "assigned_to": f"{firsts[-1 - i % len(firsts)]} {lasts[-1 - i]}",
        }
        for i, last in enumerate(lasts)
    ]
    out = anonymize(source, archived_ids=frozenset())
    words = {w.casefold() for lead in source for f in ("name", "assigned_to") for w in lead[f].split()}
    for field, least in {"name": 100, "property_street1": 50, "assigned_to": 3}.items():
        fakes = {lead[field] for lead in out}
        assert len(fakes) >= least, field
        assert not [f for f in fakes if words & {w.casefold() for w in re.findall(r"\w+", f)}], field


def test_anonymize__short_ids_get_fakes_too() -> None:
    # Every one-digit id is a source id (and an empty one has no other value of its shape):
    # a fake one is longer, and the order is kept.
    source = [{"id": str(i) if i < 12 else "", "name": f"Ann{i} Lee"} for i in range(13)]
    out = anonymize(source, archived_ids=frozenset())
    fakes = [lead["id"] for lead in out]
    assert len(set(fakes)) == len(source) and not set(fakes) & {lead["id"] for lead in source}
    assert sorted(range(13), key=lambda i: source[i]["id"]) == sorted(range(13), key=lambda i: fakes[i])


def test_anonymize__an_id_that_is_not_a_string_or_number_is_replaced() -> None:
    source = [{"id": {"a": 1}, "name": "Ann Lee"}, {"id": [1], "name": "Bo Diaz"}, {"id": None, "name": "Cy"}]
    assert [lead["id"] for lead in anonymize(source, archived_ids=frozenset())] == [
        "redacted",
        "redacted",
        None,
    ]


def test_anonymize__two_people_never_share_a_fake_name() -> None:
    # 2,000 people in pools of 300 first and 300 last names: drawn freely, some twenty pairs would
    # share a name, and a search by one would find the other's leads too.
    source = [
        {"id": str(uuid.UUID(int=i)), "name": f"Person{i} Real", "email": f"p{i}@x.com"} for i in range(2000)
    ]
    out = anonymize(source, archived_ids=frozenset())
    assert len({lead["name"] for lead in out}) == len(source)


def test_anonymize__a_search_by_a_kept_domain_finds_what_it_found() -> None:
    # "mail.com", a public provider's, is kept; "smith-mail.com" holds it, and its fake must too.
    shared = [{"id": f"s{i}", "name": f"Ann{i} Lee", "email": f"ann{i}@mail.com"} for i in range(3)]
    holder = [{"id": "h", "name": "Bo Diaz", "email": "bo@smith-mail.com"}]
    alone = [{"id": f"a{i}", "name": f"Cy{i} Ng", "email": f"cy{i}@own-{i}.net"} for i in range(40)]
    source = shared + holder + alone
    out = anonymize(source, archived_ids=frozenset())
    assert sum("mail.com" in lead["email"] for lead in out) == 4
    assert out[3]["email"].endswith("-mail.com") and "smith" not in out[3]["email"]
    real_domains = {lead["email"].partition("@")[2] for lead in source}
    assert not {lead["email"].partition("@")[2] for lead in out[4:]} & real_domains
