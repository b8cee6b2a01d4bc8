from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.readers import read_from_filename

from rotor_leads import spec
from tests.reference import page_bodies


def test_document__is_valid_openapi_3_1() -> None:
    document, _ = read_from_filename(spec.document_path())
    validate(document)
    assert document["openapi"].startswith("3.1")


def test_document__servers_and_security() -> None:
    document = spec.load_document()
    urls = [s["url"] for s in document["servers"]]
    assert urls[0] == "https://api.getrotor.com/open-api"
    assert any(u.startswith("http://127.0.0.1") for u in urls)
    scheme = document["components"]["securitySchemes"]["ApiKeyAuth"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "x-api-key")


NO_CONTROL = "^[^\\x00-\\x1f\\x7f]*$"


@pytest.mark.parametrize(
    ("name", "schema"),
    [
        ("archived", {"type": "boolean", "default": False}),
        ("limit", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 50}),
        ("page", {"type": "integer", "minimum": 1, "maximum": 1_000_000_000, "default": 1}),
        ("search", {"type": "string", "maxLength": 256, "pattern": NO_CONTROL}),
        ("stage", {"type": "string", "maxLength": 256, "pattern": NO_CONTROL}),
        ("tags", {"type": "string", "maxLength": 1024, "pattern": NO_CONTROL}),
    ],
)
def test_parameter__as_documented(name: str, schema: dict[str, Any]) -> None:
    param = spec.parameter(name)
    assert (param["in"], param["required"], param["schema"]) == ("query", False, schema)


def test_parameter__api_version_header() -> None:
    param = spec.parameter("rotor-api-version")
    assert param["in"] == "header"
    assert param["schema"]["example"] == "1.1.0"


def test_parameter__unknown_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="known: archived, limit"):
        spec.parameter("sort")


def test_parameter_table__matches_the_document() -> None:
    documented = {p["name"] for p in spec.load_document()["components"]["parameters"].values()}
    assert set(spec.PARAMETERS) == documented - {"rotor-api-version"}


@pytest.mark.parametrize(("status", "body"), page_bodies())
def test_reference_page_example__validates(status: int, body: dict[str, Any]) -> None:
    assert spec.body_violations(status, body) == []
    assert spec.body_violations(status, body, strict=True) == []


def test_reference_page__has_all_five_bodies() -> None:
    assert sorted({status for status, _ in page_bodies()}) == [200, 401, 403, 429, 500]


def _document_examples() -> list[tuple[int, str, Any]]:
    return [
        (int(status), name, value)
        for status in spec.documented_statuses()
        if status != "default"
        for name, value in spec.response_examples(int(status)).items()
    ]


@pytest.mark.parametrize(("status", "name", "body"), _document_examples())
def test_document_example__validates(status: int, name: str, body: Any) -> None:
    assert spec.body_violations(status, body, strict=True) == []


def test_document_examples__are_the_page_bodies_verbatim() -> None:
    examples = [body for _, _, body in _document_examples()]
    for _, body in page_bodies():
        assert body in examples


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("status", [200, 400, 401, 403, 429, 500, 404])
def test_response_schema__is_valid_2020_12(status: int, strict: bool) -> None:
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(spec.response_schema(status, strict=strict))


@pytest.mark.parametrize("strict", [False, True])
def test_component_schema__lead_is_valid_2020_12(strict: bool) -> None:
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(spec.component_schema("Lead", strict=strict))


def test_component_schema__unknown_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="known: LeadList"):
        spec.component_schema("Leads")


@pytest.mark.parametrize("name", ["search", "stage", "tags", "limit", "page", "archived"])
def test_parameter_schema__agrees_with_the_parser(name: str) -> None:
    """What the schema allows, the parser accepts, and the reverse, on the edge values."""
    from jsonschema import Draft202012Validator

    schema = spec.parameter(name)["schema"]
    validator = Draft202012Validator(schema)
    samples = {
        "search": ["a", "x" * 256, "x" * 257, "a\x00b", "é🙂"],
        "stage": ["won", "x" * 257, "\t"],
        "tags": ["a,b", "x" * 1025, "a\nb"],
        "limit": [0, 1, 1000, 1001],
        "page": [0, 1, 1_000_000_000, 1_000_000_001],
        "archived": [True, False],
    }[name]
    for value in samples:
        raw = ("true" if value else "false") if isinstance(value, bool) else str(value)
        try:
            spec.parse_query([(name, raw)])
            accepted = True
        except spec.ParameterError:
            accepted = False
        assert accepted == validator.is_valid(value), (name, value)
