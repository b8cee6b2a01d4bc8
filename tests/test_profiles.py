"""Behaviour profiles, end to end: the suite records a server's choices where the reference page
is silent (``--record-profile``) and its listing with nothing personal in it
(``--record-fixtures``); the mock serving both answers as that server did, which the strict
suite given the profile confirms with no spec gap; ``--compare-profile`` reports exactly what
changed since.

The servers are the suite's correct-but-different fakes (``tests.fake_api.VARIANTS``), run
in-process through respx like the suite's own self-tests.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from rotor_leads import spec
from rotor_leads.mock_server import MockConfig, create_app
from rotor_leads.mock_server.engine._keys import keys_from
from tests.fake_api import BASE_URL, KEYS, VARIANTS, FakeApi, leads
from tests.served import command, serve
from tests.subtle_servers import CORRECT, rare_leads
from tests.suite_runs import KEY_ARGS, SUITE, run_suite

pytest_plugins = ["pytester"]
pytestmark = pytest.mark.usefixtures("keep_hypothesis_profile")
DATA = leads(120)
#: The fake's keys, in the mock's --keys format.
MOCK_KEYS = {
    key: {
        "scopes": [] if kind == "no-scope" else ["leads:read"],
        "daily_limit": 1000 if kind == "exhausted" else 10**6,
        "exhausted": kind == "exhausted",
    }
    for key, kind in KEYS.items()
}
MAIN_KEY = next(key for key, kind in KEYS.items() if kind == "ok")

#: Every correct-but-different server of the suite's self-tests: (server, its data).
SERVERS: dict[str, Callable[[], tuple[FakeApi, list[dict[str, Any]]]]] = {
    **{name: functools.partial(lambda api: (api(DATA), DATA), api) for name, api in VARIANTS.items()},
    **{
        name: functools.partial(lambda api, shape: (api(data := shape(rare_leads())), data), api, shape)
        for name, (api, shape) in CORRECT.items()
    },
}

#: What each variant's profile changes from the correct server's: the choice ids of the drift.
CHANGES: dict[str, set[str]] = {
    "correct": set(),
    "default_limit_20": {"page.default_limit"},
    "default_limit_100": {"page.default_limit"},
    # It refuses no bad value: which error comes first is not seen, so not a change.
    "clamps_bad_values": {f"bad_value.{kind}" for kind in spec.BAD_VALUE_PROBES},
    "search_case_sensitive": {"filter.search"},
    "stage_ignoring_case": {"filter.stage"},
    "unknown_key_403": {"error.unknown_key"},
    "unknown_key_401_unauthorized": {"error.unknown_key"},
    "null_and_absent_fields": {"lead.fields.lead_source"},
    "ties_by_id_ascending": {"order.ties"},
    "extra_fields": {"extra_fields.lead.score_v2"},
    "validation_code_differs": {f"bad_value.{kind}" for kind in spec.BAD_VALUE_PROBES},
    "many_choices_at_once": {
        "page.default_limit",
        *(f"bad_value.{kind}" for kind in spec.BAD_VALUE_PROBES),
        "request.unknown_parameters",
        "error.unknown_key",
        "error.order",
        "filter.search",
        "filter.stage",
        "filter.tags",
        "order.ties",
        "extra_fields.lead.team",
        "extra_fields.pagination.pages",
        "headers.content_type",
        "headers.rate_limit",
        "headers.on_429",
        "headers.other",
        *(f"lead.fields.{name}" for name in ("archived_at", "assigned_to", "follow_up_date", "notes")),
        *(f"lead.fields.{name}" for name in ("property_street2",)),
    },
}


def record(pytester: pytest.Pytester, api: FakeApi, tmp_path: Path, *args: str) -> tuple[Path, Path]:
    """Run the suite against ``api`` recording its profile and fixtures; the two files. The
    servers recorded are correct: the (lenient) suite must pass each, within the budget."""
    tmp_path.mkdir(exist_ok=True)
    profile, fixtures = tmp_path / "profile.json", tmp_path / "fixtures.json"
    result = run_suite(pytester, api, f"--record-profile={profile}", f"--record-fixtures={fixtures}", *args)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()[-3000:]
    assert result.requests <= 150  # type: ignore[attr-defined]
    return profile, fixtures


_RECORDED: dict[str, tuple[Path, Path]] = {}


def recorded(pytester: pytest.Pytester, factory: pytest.TempPathFactory, name: str) -> tuple[Path, Path]:
    """The profile and fixtures of the correct-but-different server ``name`` (``correct``: the
    correct fake), recorded once in a test process for the tests that only read them."""
    if name not in _RECORDED:
        _RECORDED[name] = record(pytester, VARIANTS[name](DATA), factory.mktemp(name))
    return _RECORDED[name]


@pytest.fixture
def base(pytester: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The correct fake's: what the other servers are compared with, and the fixtures' source."""
    return recorded(pytester, tmp_path_factory, "correct")


@pytest.fixture
def many_choices(pytester: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The server that chooses differently wherever the page is silent."""
    return recorded(pytester, tmp_path_factory, "many_choices_at_once")


class Mock:
    """The mock serving a profile and a fixtures file, with the fake's keys, behind respx."""

    def __init__(self, profile: Path | None, fixtures: Path | None = None) -> None:
        config = MockConfig(profile=profile, fixtures=fixtures, keys=keys_from(MOCK_KEYS, where="test keys"))
        self.app = create_app(config)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        forwarded = httpx.Request(
            request.method,
            "http://mock.invalid" + request.url.raw_path.decode("ascii"),
            headers=request.headers,
        )
        response = httpx.WSGITransport(app=self.app).handle_request(forwarded)
        return httpx.Response(response.status_code, headers=response.headers, content=response.read())


@pytest.mark.parametrize("name", list(SERVERS))
def test_correct_server__passes_and_the_mock_serving_its_profile_answers_as_it_did(
    pytester: pytest.Pytester, tmp_path: Path, name: str, base: tuple[Path, Path]
) -> None:
    server, data = SERVERS[name]()
    # The suite passes it, and what changed from the correct fake is exactly what it chose.
    report = tmp_path / "drift.json"
    profile, fixtures = record(
        pytester, server, tmp_path, f"--compare-profile={base[0]}", f"--report={report}"
    )
    if name in CHANGES:
        drift = json.loads(report.read_text())["drift"]["changes"]
        assert {d["choice"] for d in drift} == CHANGES[name], name
        assert all(d["seen_in"].startswith("GET /leads") for d in drift), drift
    mock = Mock(profile, fixtures)
    # Request by request, where the page is silent and around it.
    for params, key in compared(data):
        url = f"{BASE_URL}/leads" + (f"?{urlencode(params)}" if params else "")
        request = httpx.Request("GET", url, headers={"x-api-key": key} if key else {})
        want, got = _shape(server(request)), _shape(mock(request))
        if key != MAIN_KEY:  # no quota counted (the contract's order): the mock sends no rate-limit headers
            want.pop("rate-limit headers"), got.pop("rate-limit headers")
        if want["status"] == 429 or got["status"] == 429:
            want.pop("body", None), got.pop("body", None)  # the mock's own message names its reset time
        assert got == want, url
    # And the strict suite, given the profile, passes against it: no spec gap, no drift. Its
    # planned checks are what recorded the profile, and they hold the mock to each choice;
    # generated queries were sent to the server itself, above.
    report = tmp_path / "report.json"
    result = run_suite(
        pytester,
        mock,  # type: ignore[arg-type]
        "--strict-contract",
        f"--profile={profile}",
        f"--compare-profile={profile}",
        f"--report={report}",
        planned_only=True,
    )
    document = json.loads(report.read_text())
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()[-4000:]
    assert document["gaps"] == [] and document["rules_broken"] == []
    assert document["drift"]["changes"] == []


def test_drift__named_since_the_profile(pytester: pytest.Pytester, base: tuple[Path, Path]) -> None:
    result = run_suite(pytester, VARIANTS["default_limit_20"](DATA), f"--compare-profile={base[0]}")
    assert result.ret == pytest.ExitCode.OK  # drift is news, not a broken rule
    result.stdout.fnmatch_lines([f"Drift since the profile of {BASE_URL} recorded at *: 1 choice(s) changed"])


def test_profile__the_in_process_mock_takes_it_too(
    pytester: pytest.Pytester, many_choices: tuple[Path, Path]
) -> None:
    profile, _ = many_choices
    result = pytester.runpytest_inprocess(
        SUITE, "-p", "no:cacheprovider", "--assert=plain", "--strict-contract", f"--profile={profile}"
    )
    output = result.stdout.str()
    assert result.ret == pytest.ExitCode.OK, output[-4000:]
    assert "choices where the page is silent: the profile of https://rotor.test/open-api" in output


def test_profile__fail_on_drift_fails_the_run(
    pytester: pytest.Pytester, tmp_path: Path, base: tuple[Path, Path]
) -> None:
    report = tmp_path / "report.json"
    result = run_suite(
        pytester,
        VARIANTS["default_limit_20"](DATA),
        f"--compare-profile={base[0]}",
        "--fail-on-drift",
        f"--report={report}",
    )
    output = result.stdout.str()
    document = json.loads(report.read_text())
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert document["verdict"] == "failed" and document["exit_code"] == 1
    assert [d["choice"] for d in document["drift"]["changes"]] == ["page.default_limit"]
    assert "[page.default_limit] was 50, now 20" in output
    result.stdout.fnmatch_lines(["FAILED: drift: 1 choice(s) changed since the profile (--fail-on-drift);*"])


# -- the profile file ---------------------------------------------------------------------------


def test_profile__says_which_request_showed_each_choice_and_nothing_secret(
    many_choices: tuple[Path, Path],
) -> None:
    profile, _ = many_choices
    text = profile.read_text()
    document = json.loads(text)
    assert document["format"] == "rotor-leads-profile" and document["version"] == 1
    assert set(document["choices"]) | set(document["unobserved"]) >= set(spec.PROFILE_CHOICES)
    for choice in document["choices"].values():
        assert re.fullmatch(
            r"GET /leads\S* \((main|unknown|missing|no-scope|exhausted) key\) → \d{3}", choice["seen_in"]
        )
    for key in KEYS:
        assert key[:8] not in text
    for lead in DATA:
        for field in ("name", "email", "phone", "id", "notes", "property_street1"):
            value = lead.get(field)
            if isinstance(value, str) and len(value) > 3:
                assert value not in text, field


# -- fixtures -------------------------------------------------------------------------------------


def _personal(lead: dict[str, Any]) -> list[str]:
    return [lead[f] for f in ("id", "name", "email", "phone", "property_street1", "notes") if lead.get(f)]


def test_fixtures__hold_nothing_personal_and_the_same_totals(base: tuple[Path, Path]) -> None:
    source = FakeApi(DATA)
    _, fixtures = base
    text = fixtures.read_text()
    served = json.loads(text)
    assert len(served) == len(DATA)
    for lead in DATA:
        for value in _personal(lead):
            assert value not in text
        for word in re.findall(r"\w+", lead["name"]):
            assert not any(word in fake["name"].split() for fake in served), word
    mock = Mock(None, fixtures)
    queries: list[dict[str, str]] = [{}, {"archived": "true"}, {"archived": "false"}]
    queries += [{"stage": stage} for stage in {lead["stage"] for lead in DATA if lead.get("stage")}]
    queries += [{"tags": tag} for tag in {tag for lead in DATA for tag in lead.get("tags") or []}]
    queries += [{"tags": "vip,solar", "archived": "true"}]
    # Each email domain has one fake (public providers' are kept): a search by the fake finds as
    # many leads as one by the real domain did. The file keeps the listing's order.
    fake_domain = {
        real["email"].partition("@")[2]: fake["email"].partition("@")[2]
        for real, fake in zip(spec.newest_first(DATA), served, strict=True)
        if real.get("email")
    }
    assert len(set(fake_domain.values())) == len(fake_domain)
    pairs = [(params, params) for params in queries]
    pairs += [
        ({"search": real, "archived": "true"}, {"search": fake, "archived": "true"})
        for real, fake in fake_domain.items()
    ]
    for on_source, on_fixtures in pairs:
        headers = {"x-api-key": MAIN_KEY}
        want = source(httpx.Request("GET", f"{BASE_URL}/leads?{urlencode(on_source)}", headers=headers))
        got = mock(httpx.Request("GET", f"{BASE_URL}/leads?{urlencode(on_fixtures)}", headers=headers))
        assert got.json()["pagination"]["total"] == want.json()["pagination"]["total"], on_source


def test_fixtures__one_person_keeps_one_fake_identity(pytester: pytest.Pytester, tmp_path: Path) -> None:
    twin = {**DATA[5], "id": "00000000-0000-4000-8000-000000000001"}  # the same person on a second lead
    source = [*DATA, twin]
    _, fixtures = record(pytester, FakeApi(source), tmp_path)
    served = json.loads(fixtures.read_text())
    # The fixtures keep the full listing's order: the two leads are where the listing had them.
    listing = spec.newest_first(source)
    fakes = [served[i] for i, lead in enumerate(listing) if lead["id"] in (DATA[5]["id"], twin["id"])]
    assert len(fakes) == 2
    assert len({(lead["name"], lead["email"], lead["phone"]) for lead in fakes}) == 1
    # A search by the fake name finds the lead, as a search by the real one found it.
    # (Another fake name may hold this one, as "Joann Leeds" holds "Ann Lee": ask for them all.)
    name = fakes[0]["name"]
    response = Mock(None, tmp_path / "fixtures.json")(
        httpx.Request(
            "GET",
            f"{BASE_URL}/leads?{urlencode({'search': name, 'archived': 'true', 'limit': 100})}",
            headers={"x-api-key": MAIN_KEY},
        )
    )
    found = [lead for lead in response.json()["data"] if lead["name"] == name]
    assert sorted(lead["id"] for lead in found) == sorted(lead["id"] for lead in fakes)


# -- as users run it: rotor-mock serve --profile, the suite against its URL -----------------------


def test_served_mock__with_the_profile_passes_the_strict_suite_over_http(
    pytester: pytest.Pytester, tmp_path: Path, many_choices: tuple[Path, Path]
) -> None:
    profile, fixtures = many_choices
    keys = tmp_path / "keys.json"
    keys.write_text(json.dumps(MOCK_KEYS))
    with serve(tmp_path, "--profile", str(profile), "--fixtures", str(fixtures), "--keys", str(keys)) as mock:
        assert "Behaviour: the profile of https://rotor.test/open-api" in mock.output()
        result = pytester.runpytest_inprocess(
            SUITE,
            "-p",
            "no:cacheprovider",
            "--assert=plain",
            "--base-url",
            mock.url,
            *KEY_ARGS,
            "--strict-contract",
            f"--profile={profile}",
            f"--compare-profile={profile}",
        )
    output = result.stdout.str()
    assert result.ret == pytest.ExitCode.OK, output[-4000:]
    assert "Spec gaps: none" in output and "no choice changed" in output, output[-2000:]


# -- a bad profile file: one line that says what is wrong ----------------------------------------

BAD_PROFILES = {
    "not_json": ("{", "not valid JSON"),
    "not_a_profile": ('{"hello": 1}', "not a rotor-leads profile"),
    "newer": ('{"format": "rotor-leads-profile", "version": 99, "choices": {}}', "newer rotor-leads"),
    "bad_reading": (
        json.dumps(
            {
                "format": "rotor-leads-profile",
                "version": 1,
                "recorded": {},
                "choices": {"filter.search": {"value": "backwards", "seen_in": "GET /leads"}},
                "unobserved": {},
            }
        ),
        "'backwards' is not a reading of search",
    ),
}


def _nested(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = {"x": value}
    return value


def _profile_with(choice_id: str, value: Any) -> str:
    return json.dumps(
        {
            "format": "rotor-leads-profile",
            "version": 1,
            "choices": {choice_id: {"value": value, "seen_in": "GET"}},
        }
    )


def _refusal(status: int) -> dict[str, Any]:
    return {"action": "refuse", "status": status, "body": {"status": "error", "message": "no"}}


#: Files the schema once accepted and the mock could not serve faithfully or safely.
HOSTILE_PROFILES = {
    "default_page_zero": (
        _profile_with("page.default_page", 0),
        "not a rotor-leads profile at choices/page.default_page/value: 0 is less than the minimum of 1",
    ),
    "default_limit_huge": (
        _profile_with("page.default_limit", 10**30),
        "choice page.default_limit, at value: 1000000000000000000000000000000 is beyond ±2^53",
    ),
    "unknown_key_body_deep": (
        _profile_with("error.unknown_key", {"status": 401, "body": _nested(300)}),
        "choice error.unknown_key, at value/body/x/",
    ),
    "extra_field_example_deep": (
        _profile_with("extra_fields", {"lead": {"team": {"type": "object", "example": _nested(300)}}}),
        "choice extra_fields, at value/lead/team/example/x/",
    ),
    "extra_field_example_huge": (
        _profile_with("extra_fields", {"lead": {"score": {"type": "integer", "example": 10**30}}}),
        "choice extra_fields, at value/lead/score/example: 1000000000000000000000000000000 is beyond ±2^53",
    ),
    **{
        f"refusal_status_{status}": (
            _profile_with("bad_value.limit.zero", _refusal(status)),
            f"choice bad_value.limit.zero, at value/status: {status} is not a status whose answer carries",
        )
        for status in (101, 204, 304)
    },
    "other_header_sets_a_cookie": (
        _profile_with(
            "headers",
            {"content_type": "application/json", "rate_limit": [], "other": {"set-cookie": "session=stolen"}},
        ),
        "choice headers: other header 'set-cookie': the mock does not send it for a profile",
    ),
}
BAD_PROFILES.update(HOSTILE_PROFILES)


@pytest.mark.parametrize("name", list(BAD_PROFILES))
def test_bad_profile__the_mock_refuses_to_start_in_one_line(tmp_path: Path, name: str) -> None:
    text, message = BAD_PROFILES[name]
    bad = tmp_path / "profile.json"
    bad.write_text(text)
    run = subprocess.run(command("--profile", str(bad)), capture_output=True, text=True, timeout=60)
    assert run.returncode == 2, run.stdout + run.stderr
    assert message in run.stderr and str(bad) in run.stderr
    if "deep" in name:
        assert "nested more than 24 levels deep in the file" in run.stderr
    # click's usage error: the usage line, where to get help, and one line that says it all.
    assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) <= 4, run.stderr


@pytest.mark.parametrize(
    ("option", "name"),
    [("--compare-profile", "newer"), *(("--profile", name) for name in BAD_PROFILES)],
)
def test_bad_profile__the_suite_stops_before_any_request(
    pytester: pytest.Pytester, tmp_path: Path, option: str, name: str
) -> None:
    text, message = BAD_PROFILES[name]
    bad = tmp_path / "profile.json"
    bad.write_text(text)
    result = run_suite(pytester, FakeApi(DATA), f"{option}={bad}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert result.stderr.lines[0] == f"ERROR: {option}: " + result.stderr.lines[0].split(": ", 2)[2]
    assert message in result.stderr.str() and "Traceback" not in result.stderr.str()
    assert result.requests == 0  # type: ignore[attr-defined]


def test_record_options__refuse_a_directory_that_does_not_exist(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    for option in ("--record-profile", "--record-fixtures"):
        result = run_suite(pytester, FakeApi(DATA), f"{option}={tmp_path / 'nowhere' / 'file.json'}")
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        assert "does not exist" in result.stderr.str()
        assert result.requests == 0  # type: ignore[attr-defined]


# -- request by request: the profiled server and the mock serving its profile --------------------


def compared(data: list[dict[str, Any]]) -> list[tuple[tuple[tuple[str, str], ...], str | None]]:
    """(query pairs, key) of the requests compared: where the page is silent, and around it."""
    stage = next(lead["stage"] for lead in data if lead.get("stage"))
    tag = next(tag for lead in data for tag in lead.get("tags") or [])
    unknown = "not-a-key-0000000000"
    return [
        ((), MAIN_KEY),
        ((("limit", "3"), ("page", "2")), MAIN_KEY),
        ((("archived", "true"),), MAIN_KEY),
        ((("stage", stage),), MAIN_KEY),
        ((("stage", stage.upper()),), MAIN_KEY),
        ((("tags", tag),), MAIN_KEY),
        ((("tags", f" {tag.upper()} , "),), MAIN_KEY),
        ((("page", "999"),), MAIN_KEY),
        *(((params, MAIN_KEY)) for params in spec.BAD_VALUE_PROBES.values()),
        ((("limit", "0"), ("page", "abc")), MAIN_KEY),
        ((("archived", "yes"),), MAIN_KEY),
        (spec.UNKNOWN_PARAMETER_PROBE, MAIN_KEY),
        ((), unknown),
        ((("limit", "abc"),), unknown),
        ((), None),
        ((), next(key for key, kind in KEYS.items() if kind == "no-scope")),
        ((), next(key for key, kind in KEYS.items() if kind == "exhausted")),
    ]


def _shape(response: httpx.Response) -> dict[str, Any]:
    """What a client of either sees, but for the leads' values (the fixtures are fakes)."""
    body = response.json()
    shape: dict[str, Any] = {
        "status": response.status_code,
        "content-type": response.headers.get("content-type"),
        "rate-limit headers": sorted(
            k.lower()
            for k in response.headers
            if k.lower().startswith(("x-ratelimit", "ratelimit", "retry-after"))
        ),
    }
    if response.status_code != 200:
        return {**shape, "body": body}
    pagination = dict(body["pagination"])
    pagination.pop("pages", None)  # an undocumented field: its meaning is the server's own
    return {
        **shape,
        "pagination": pagination,
        "fields": [sorted(lead) for lead in body["data"]],
        "other fields": sorted(set(body) - {"data"}),
    }
