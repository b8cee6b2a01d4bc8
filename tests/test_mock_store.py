from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rotor_leads import spec
from rotor_leads.mock_server.engine._data import STAGES, TAGS, generate_leads
from rotor_leads.mock_server.engine.store import LeadStore, StoreError, open_or_build
from rotor_leads.mock_server.engine.store._files import _verified


def _lead(i: int, created: str = "2026-01-01T00:00:00.000Z", **fields: Any) -> dict[str, Any]:
    return {"id": f"id-{i:04d}", "created_at": created, **fields}


def _answer(store: LeadStore, **params: str) -> dict[str, Any]:
    body: dict[str, Any] = orjson.loads(store.page(spec.parse_query(params.items())))
    return body


def _store(leads: list[dict[str, Any]]) -> LeadStore:
    store = LeadStore()
    store.load(leads, source="test")
    return store


def test_store__empty_data_set() -> None:
    body = _answer(_store([]))
    assert body == {
        "data": [],
        "pagination": {"has_more": False, "limit": 50, "page": 1, "total": 0},
        "status": "success",
    }


def test_store__single_lead() -> None:
    body = _answer(_store([_lead(1)]))
    assert [lead["id"] for lead in body["data"]] == ["id-0001"]
    assert body["pagination"] == {"has_more": False, "limit": 50, "page": 1, "total": 1}


@pytest.mark.parametrize(
    ("count", "page", "ids", "has_more"),
    [
        (5, "1", 5, False),  # exactly limit leads
        (6, "1", 5, True),  # limit + 1
        (6, "2", 1, False),
        (6, "3", 0, False),  # past the end
    ],
)
def test_store__page_edges(count: int, page: str, ids: int, has_more: bool) -> None:
    store = _store([_lead(i, f"2026-01-{i + 1:02d}T00:00:00.000Z") for i in range(count)])
    body = _answer(store, limit="5", page=page)
    assert len(body["data"]) == ids
    assert body["pagination"] == {"has_more": has_more, "limit": 5, "page": int(page), "total": count}


def test_store__ties_keep_one_order_across_pages() -> None:
    leads = [_lead(i) for i in range(7)]  # all created at the same instant
    store = _store(leads)
    walked = [lead["id"] for p in ("1", "2", "3") for lead in _answer(store, limit="3", page=p)["data"]]
    assert walked == [f"id-{i:04d}" for i in reversed(range(7))]


def test_store__newest_first_across_time_zones() -> None:
    store = _store([_lead(1, "2026-01-01T10:00:00+02:00"), _lead(2, "2026-01-01T09:00:00Z")])
    assert [lead["id"] for lead in _answer(store)["data"]] == ["id-0002", "id-0001"]


def test_store__serves_each_lead_as_loaded() -> None:
    leads = list(generate_leads(20, seed=3))
    body = _answer(_store(leads), archived="true")
    assert sorted(body["data"], key=lambda lead: lead["id"]) == sorted(leads, key=lambda lead: lead["id"])


def _open(path: Any, reasons: list[str], *, source: str = "seeded:30:1", count: int = 30) -> LeadStore:
    return open_or_build(
        path, source=source, leads=lambda: generate_leads(count, seed=1), building=reasons.append
    )


def test_store__database_file_is_built_checked_and_reused(tmp_path: Any) -> None:
    path, reasons = tmp_path / "leads.sqlite", []
    first = _open(path, reasons)
    assert _answer(first, archived="true")["pagination"]["total"] == 30
    first.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["leads.sqlite", "leads.sqlite.check"]
    before = path.stat().st_mtime_ns
    again = _open(path, reasons)
    assert again.count == 30 and reasons == [] and path.stat().st_mtime_ns == before  # reused as it was
    other = _open(path, reasons, source="seeded:12:1", count=12)
    assert other.count == 12 and reasons == ["it holds other data (seeded:30:1)"]


def _flip_a_body_byte(path: Any) -> None:
    data = bytearray(path.read_bytes())
    at = data.find(b'"email":"') + 12
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


def _delete_some_bodies(path: Any) -> None:
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM bodies WHERE pos % 10 = 3")
    conn.commit()
    conn.close()


def _garbage_in_the_middle(path: Any) -> None:
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 4096] = bytes(range(256)) * 16
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [_flip_a_body_byte, _delete_some_bodies, _garbage_in_the_middle])
def test_store__a_damaged_file_is_built_again_never_served(tmp_path: Any, damage: Any) -> None:
    path, reasons = tmp_path / "leads.sqlite", []
    expected = [lead["id"] for lead in spec.newest_first(list(generate_leads(30, seed=1)))]
    _open(path, reasons).close()
    _verified.clear()  # another process: it has not checked the file yet
    damage(path)
    store = _open(path, reasons)
    assert reasons == ["it is damaged: its contents differ from the checksum written when it was built"]
    body = _answer(store, archived="true", limit="1000")
    assert [lead["id"] for lead in body["data"]] == expected


def test_store__a_file_without_its_check_is_built_again(tmp_path: Any) -> None:
    path, reasons = tmp_path / "leads.sqlite", []
    _open(path, reasons).close()
    _verified.clear()
    (tmp_path / "leads.sqlite.check").unlink()
    assert _open(path, reasons).count == 30
    assert reasons == ["it has no .check file beside it (an older build, or one that was interrupted)"]


@pytest.mark.parametrize("content", [b"just some notes\n" * 100, b"SQLite format 3\x00" + bytes(4000)])
def test_store__a_file_it_did_not_build_is_never_overwritten(tmp_path: Any, content: bytes) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(content)
    with pytest.raises(StoreError, match="is not a database this mock built"):
        _open(path, [])
    assert path.read_bytes() == content


def test_store__a_database_that_is_someone_elses_is_never_overwritten(tmp_path: Any) -> None:
    path = tmp_path / "theirs.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (name TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="is not a database this mock built"):
        _open(path, [])
    assert sqlite3.connect(path).execute("SELECT count(*) FROM customers").fetchone() == (0,)


def test_store__a_place_it_cannot_write_is_one_clear_error(tmp_path: Any) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(StoreError, match=r"cannot build .*a-file/leads.sqlite: Not a directory"):
        _open(blocker / "leads.sqlite", [])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_store__file_answers_from_each_thread(tmp_path: Any) -> None:
    leads = list(generate_leads(30, seed=1))
    store = _open(tmp_path / "leads.sqlite", [])
    queries = [{"archived": "true", "limit": "7", "page": str(p)} for p in range(1, 6)]
    expected = [_answer(_store(leads), **q) for q in queries]
    with ThreadPoolExecutor(4) as pool:  # each thread reads with a connection of its own
        assert list(pool.map(lambda q: _answer(store, **q), queries * 4)) == expected * 4
    store.close()


def test_store__presorted_stream_out_of_order_is_an_error() -> None:
    with pytest.raises(ValueError, match="not newest first"):
        LeadStore().load(
            [_lead(1, "2026-01-01T00:00:00Z"), _lead(2, "2026-02-01T00:00:00Z")], source="x", presorted=True
        )


# -- the store agrees with spec's plain-Python model ----------------------------------------

SEARCH_ALPHABET = st.sampled_from(list("aAeEnN o-@.1%_'\"\\") + ["é", "É", "ß", "🙂"])
leads_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "id": st.uuids().map(str),
            "created_at": st.sampled_from(
                ["2026-01-01T00:00:00.000Z", "2026-01-02T00:00:00.000Z", "2026-01-01T03:00:00+02:00"]
            ),
            "archived": st.booleans() | st.none(),
            "stage": st.sampled_from(STAGES[:3]) | st.none(),
            "tags": st.lists(st.sampled_from(TAGS[:4]), max_size=3, unique=True) | st.none(),
            "name": st.text(SEARCH_ALPHABET, max_size=10) | st.none(),
            "email": st.text(SEARCH_ALPHABET, max_size=10),
            "phone": st.text(st.sampled_from("0123-"), max_size=6),
        }
    ),
    max_size=40,
    unique_by=lambda lead: lead["id"],
)
queries = st.builds(
    lambda **values: spec.LeadQuery().with_(**values),
    archived=st.booleans(),
    limit=st.integers(1, 15),
    page=st.integers(1, 5),
    search=st.none() | st.text(SEARCH_ALPHABET, min_size=1, max_size=4),
    stage=st.none() | st.sampled_from(STAGES[:4]),
    tags=st.none() | st.lists(st.sampled_from([*TAGS[:5], " ", ""]), max_size=3).map(",".join),
)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(leads=leads_strategy, data=st.data())
def test_store__agrees_with_the_spec_model(leads: list[dict[str, Any]], data: st.DataObject) -> None:
    store = _store(leads)
    for _ in range(5):
        query = data.draw(queries)
        expected = spec.apply(query, leads)
        body = orjson.loads(store.page(query))
        assert [lead["id"] for lead in body["data"]] == [lead["id"] for lead in expected.data]
        assert body["pagination"] == {
            "has_more": expected.has_more,
            "limit": query.limit,
            "page": query.page,
            "total": expected.total,
        }


@pytest.mark.parametrize(
    "params",
    [
        {"tags": "t69"},
        {"tags": "t1,t69"},
        {"tags": "t65,t66,nope"},
        {"tags": "t1", "search": "lead"},  # a tag with a bit in the search index's rowids
        {"tags": "t1,t20", "search": "lead"},  # a tag with a bit, but not in the rowids
        {"tags": "t69", "search": "ead 6"},  # a tag without a bit (70 tags, 62 bits)
        {"tags": "nope", "search": "lead"},
        {"stage": "s3", "search": "lead", "archived": "true"},  # a stage with a code
        {"stage": "s19", "search": "lead"},  # a stage without a code (15 codes)
        {"stage": "s19", "tags": "t1", "search": "lead", "archived": "true"},
        {"stage": "s2", "tags": "t2,t22", "search": "le"},  # a short search, read from the text
    ],
)
def test_store__tags_and_stages_beyond_the_codes_still_filter(params: dict[str, str]) -> None:
    # Lead 0 is the newest: tags t0, t1, … and stages s0, s1, … are seen (and coded) in order.
    leads = [
        _lead(
            i,
            f"2026-01-01T01:{59 - i // 60:02d}:{59 - i % 60:02d}.000Z",
            tags=[f"t{i}", f"t{i % 3}"],
            stage=f"s{i % 20}",
            name=f"Lead {i}",
            archived=i % 4 == 0,
        )
        for i in range(70)
    ]
    store = _store(leads)
    query = spec.parse_query([*params.items(), ("limit", "100")])
    body = orjson.loads(store.page(query))
    expected = spec.apply(query, leads)
    assert [lead["id"] for lead in body["data"]] == [lead["id"] for lead in expected.data]
    assert body["pagination"]["total"] == expected.total
    assert expected.total > 0 or params["tags"] == "nope"


@pytest.mark.parametrize("search", ["lead", "le"])  # the trigram index, and the text read as it is
@pytest.mark.parametrize("archived", ["true", "false"])
def test_store__a_search_pages_in_order_across_the_stages_it_keeps(search: str, archived: str) -> None:
    # The search index is ordered by stage code first: a page of a search merges the ranges
    # of the stages kept (here the three spellings of "won" a case-insensitive reading
    # selects, each with its code; or every stage when no stage is asked for).
    stages = ["won", "Won", "WON", "lost", None]
    leads = [
        _lead(
            i,
            f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}.000Z",
            stage=stages[i % 5],
            name=f"Lead {i}",
            archived=i % 7 == 0,
        )
        for i in range(120)
    ]
    readings = {"stage": "case_insensitive"}
    store = LeadStore(profile=spec.Profile({"filter.stage": spec.Choice("case_insensitive")}))
    store.load(leads, source="test")
    for stage in ("won", "", "lost"):
        for page in range(1, 6):
            params = [("search", search), ("archived", archived), ("limit", "11"), ("page", str(page))]
            query = spec.parse_query([*params, ("stage", stage)] if stage else params)
            body = orjson.loads(store.page(query))
            expected = spec.apply(query, leads, readings=readings)
            assert [lead["id"] for lead in body["data"]] == [lead["id"] for lead in expected.data]
            assert body["pagination"]["total"] == expected.total


def test_store__page_cache_stays_within_its_byte_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("rotor_leads.mock_server.engine.store._cache.CACHE_BYTES", 6_000)
    leads = [_lead(i, f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}.000Z", name="x" * 40) for i in range(200)]
    store = _store(leads)
    for page in [*range(1, 41), *range(1, 41)]:  # twice: cached pages and evicted ones
        query = spec.parse_query([("limit", "5"), ("page", str(page))])
        body = orjson.loads(store.page(query))
        assert [lead["id"] for lead in body["data"]] == [lead["id"] for lead in spec.apply(query, leads).data]
        assert store._pages.size <= 6_000
    assert 0 < len(store._pages) < 40
