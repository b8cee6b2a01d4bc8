from __future__ import annotations

from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rotor_leads import spec


def test_parse_query__defaults() -> None:
    query = spec.parse_query([])
    assert (query.archived, query.limit, query.page) == (False, 50, 1)
    assert (query.search, query.stage, query.tags, query.tag_list) == (None, None, None, ())
    assert query.given == frozenset()


@pytest.mark.parametrize(
    ("pairs", "field", "value"),
    [
        ([("archived", "true")], "archived", True),
        ([("archived", "FALSE")], "archived", False),
        ([("limit", "1")], "limit", 1),
        ([("limit", "1000")], "limit", 1000),
        ([("page", "12")], "page", 12),
        ([("search", "ann")], "search", "ann"),
        ([("search", "")], "search", None),
        ([("stage", "won")], "stage", "won"),
        ([("tags", " a, b,,")], "tag_list", ("a", "b")),
        ([("sort", "x")], "limit", 50),
    ],
)
def test_parse_query__accepts(pairs: list[tuple[str, str]], field: str, value: object) -> None:
    assert getattr(spec.parse_query(pairs), field) == value


@pytest.mark.parametrize(
    ("name", "raw", "says"),
    [
        ("limit", "0", "from 1 to 1000"),
        ("limit", "1001", "from 1 to 1000"),
        ("limit", "abc", "from 1 to 1000"),
        ("limit", "", "from 1 to 1000"),
        ("limit", "5.0", "from 1 to 1000"),
        ("limit", "-1", "from 1 to 1000"),
        ("limit", "9" * 40, "from 1 to 1000"),
        ("page", "0", "from 1 to 1000000000"),
        ("page", "x", "from 1 to 1000000000"),
        ("page", "1000000001", "from 1 to 1000000000"),
        ("archived", "maybe", "true or false"),
        ("archived", "1", "true or false"),
        ("search", "a" * 257, "at most 256"),
        ("stage", "x\x00y", "Control characters"),
        ("tags", "a" * 1025, "at most 1024"),
    ],
)
def test_parse_query__rejects_naming_the_parameter(name: str, raw: str, says: str) -> None:
    with pytest.raises(spec.ParameterError) as caught:
        spec.parse_query([(name, raw)])
    assert caught.value.parameter == name
    assert f"'{name}'" in str(caught.value)
    assert says in str(caught.value)


def test_parse_query__repeated_parameter_is_an_error() -> None:
    with pytest.raises(spec.ParameterError, match="more than once"):
        spec.parse_query([("limit", "5"), ("limit", "6")])


def test_parse_query_string__decodes_percent_encoding() -> None:
    query = spec.parse_query_string(b"search=a%20b%2Bc&tags=x%2Cy&limit=7")
    assert (query.search, query.tag_list, query.limit) == ("a b+c", ("x", "y"), 7)


def test_parse_query_string__rejects_bytes_that_are_not_utf8() -> None:
    with pytest.raises(spec.ParameterError, match="UTF-8") as caught:
        spec.parse_query_string(b"search=%ff%fe")
    assert caught.value.parameter == "search"


def test_parse_query__long_value_is_shortened_in_the_message() -> None:
    with pytest.raises(spec.ParameterError) as caught:
        spec.parse_query([("limit", "7" * 500)])
    assert len(str(caught.value)) < 120


@given(
    st.builds(
        lambda **values: spec.LeadQuery().with_(**values),
        archived=st.booleans(),
        limit=st.integers(1, 1000),
        page=st.integers(1, 10**6),
        search=st.none()
        | st.text(
            st.characters(exclude_categories=("Cc", "Cs")),
            min_size=1,
            max_size=20,
        ),
        stage=st.none() | st.sampled_from(["new", "won"]),
        tags=st.none() | st.sampled_from(["a", "a,b", " b , c"]),
    )
)
def test_to_params__round_trips(query: spec.LeadQuery) -> None:
    assert spec.parse_query(query.to_params().items()) == query
    assert spec.parse_query_string(urlencode(query.to_params())) == query


def test_with___marks_parameters_given() -> None:
    query = spec.LeadQuery().with_(limit=5)
    assert query.to_params() == {"limit": "5"}


@pytest.mark.parametrize(
    ("raw", "tags"),
    [(None, ()), ("", ()), ("a", ("a",)), ("a,b", ("a", "b")), (" a ,, b ,", ("a", "b"))],
)
def test_split_tags(raw: str | None, tags: tuple[str, ...]) -> None:
    assert spec.split_tags(raw) == tags


def test_parse_query_string__raw_utf8_bytes() -> None:
    assert spec.parse_query_string("search=café".encode()).search == "café"
    assert spec.parse_query_string("search=caf%C3%A9").search == "café"
