"""The contract suite's own mutation tests: run it, through pytester, against respx-routed
fakes of the API. Each broken server must fail with the broken rule named and a message that
says what was received and what the contract says; each correct variant must pass."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import respx
from hypothesis import settings

import contract_tests
from tests.fake_api import BASE_URL, MUTANTS, VARIANTS, FakeApi, leads

pytest_plugins = ["pytester"]
SUITE = str(Path(contract_tests.__file__).parent)
DATA = leads(260)
KEY_ARGS = (
    "--api-key",
    "good-key-0123456789",
    "--no-scope-key",
    "scopeless-key-0123456",
    "--exhausted-key",
    "spent-key-0123456789",
)


@pytest.fixture(autouse=True)
def keep_hypothesis_profile() -> Iterator[None]:
    # The inner run loads the suite's "live" profile into this process: put ours back.
    name = settings.get_current_profile_name()
    yield
    settings.load_profile(name)


def run_suite(pytester: pytest.Pytester, api: FakeApi, *args: str) -> pytest.RunResult:
    with respx.mock(assert_all_called=False) as router:
        route = router.route(host="rotor.test").mock(side_effect=api)
        result = pytester.runpytest_inprocess(
            SUITE, "-p", "no:cacheprovider", "--base-url", BASE_URL, *KEY_ARGS, *args
        )
    result.requests = route.call_count  # type: ignore[attr-defined]
    return result


@pytest.mark.parametrize("name", list(MUTANTS))
def test_suite__fails_a_server_that_breaks_one_rule(pytester: pytest.Pytester, name: str) -> None:
    broken = MUTANTS[name]
    result = run_suite(pytester, broken.api(DATA))
    output = result.stdout.str()
    assert result.ret == pytest.ExitCode.TESTS_FAILED, output[-3000:]
    assert f"[{broken.rule}]" in output, output[-3000:]
    assert "Received:" in output and "Documented:" in output
    assert result.requests <= 150  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", list(VARIANTS))
def test_suite__passes_a_correct_server_with_other_choices(pytester: pytest.Pytester, name: str) -> None:
    result = run_suite(pytester, VARIANTS[name](DATA))
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()[-4000:]
    assert result.requests <= 150  # type: ignore[attr-defined]


@pytest.mark.parametrize("size", [0, 1, 2300])
def test_suite__passes_on_any_data_size(pytester: pytest.Pytester, size: int) -> None:
    result = run_suite(pytester, FakeApi(leads(size, seed=9)))
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()[-4000:]
    assert result.requests <= 150  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", ["default_limit_20", "search_case_sensitive", "unknown_key_403"])
def test_suite__strict_mode_fails_other_choices(pytester: pytest.Pytester, name: str) -> None:
    result = run_suite(pytester, VARIANTS[name](DATA), "--strict")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert "Assumed:" in result.stdout.str()


def test_suite__lenient_run_lists_spec_gaps(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, VARIANTS["default_limit_20"](DATA))
    result.stdout.fnmatch_lines(["*spec gaps: 1 assumed rule*", "*[[]page.default_limit[]]*"])


def test_suite__budget_is_enforced(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, FakeApi(DATA), "--max-requests", "10")
    assert result.ret != pytest.ExitCode.OK
    assert result.requests == 10  # type: ignore[attr-defined]
    result.stdout.fnmatch_lines(
        ["*requests used: 10 of a budget of 10*", "*INCONCLUSIVE: the request budget of 10*"]
    )


def test_suite__429_on_the_main_key_is_inconclusive_without_retry(pytester: pytest.Pytester) -> None:
    api = FakeApi(DATA)
    main_calls = []

    def limited(request: httpx.Request) -> httpx.Response:
        if request.headers.get("x-api-key") != "good-key-0123456789":
            return api(request)
        main_calls.append(request.url)
        return api.error("RATE_LIMIT_EXCEEDED") if len(main_calls) > 2 else api(request)

    result = run_suite(pytester, limited)  # type: ignore[arg-type]
    assert result.ret != pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*INCONCLUSIVE: the main API key was refused with 429 after*"])
    assert len(main_calls) == 3, "the suite must stop at the first 429, with no retry"


def test_suite__never_shows_the_keys(pytester: pytest.Pytester, tmp_path: Path) -> None:
    junit = tmp_path / "report.xml"
    result = run_suite(pytester, MUTANTS["page_zero_based"].api(DATA), "-v", "-l", f"--junitxml={junit}")
    text = result.stdout.str() + result.stderr.str() + junit.read_text()
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    for secret in KEY_ARGS[1::2]:
        assert secret not in text


def test_suite__report_header_names_the_target(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, FakeApi(DATA), "--co")
    result.stdout.fnmatch_lines([f"*rotor contract target: {BASE_URL}*"])


def test_suite__base_url_without_key_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_inprocess(SUITE, "--base-url", BASE_URL)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--api-key" in result.stderr.str()


def test_suite__missing_optional_keys_skip_with_the_option_named(pytester: pytest.Pytester) -> None:
    with respx.mock(assert_all_called=False) as router:
        router.route(host="rotor.test").mock(side_effect=FakeApi(DATA))
        result = pytester.runpytest_inprocess(
            SUITE,
            "-rs",
            "--base-url",
            BASE_URL,
            "--api-key",
            "good-key-0123456789",
            "-k",
            "scope or exhausted",
        )
    result.stdout.fnmatch_lines(["*SKIPPED*--no-scope-key*", "*SKIPPED*--exhausted-key*"])
