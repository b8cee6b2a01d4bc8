"""The contract suite's own mutation tests: run it, through pytester, against respx-routed
fakes of the API. Each broken server must fail with the broken rule named and a message that
says what was received and what the contract says; each correct variant must pass."""

from __future__ import annotations

import json
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote_plus

import httpx
import pytest
import respx

from rotor_leads import spec
from tests.fake_api import BASE_URL, KEYS, MUTANTS, VARIANTS, FakeApi, leads
from tests.servers import dripping, flooding, free_port, serve, silent
from tests.subtle_servers import SUBTLE, SUBTLE_2, SUBTLE_3, data_for
from tests.suite_runs import KEY_ARGS, SUITE, run_suite

pytest_plugins = ["pytester"]
INCONCLUSIVE = 2
DATA = leads(120)
pytestmark = pytest.mark.usefixtures("keep_hypothesis_profile")


@pytest.mark.parametrize("name", list(MUTANTS))
def test_suite__fails_a_server_that_breaks_one_rule(pytester: pytest.Pytester, name: str) -> None:
    broken = MUTANTS[name]
    result = run_suite(pytester, broken.api(DATA), planned_only=True, until_rule=broken.rule)
    output = result.stdout.str()
    assert result.ret == pytest.ExitCode.TESTS_FAILED, output[-3000:]
    assert f"[{broken.rule}]" in output, output[-3000:]
    assert "Received:" in output and "Documented:" in output
    assert result.requests <= 150  # type: ignore[attr-defined]


# Every correct-but-different server (tests.fake_api.VARIANTS, tests.subtle_servers.CORRECT)
# passes: tests/test_profiles.py runs the suite on each once, recording its profile.


@pytest.mark.parametrize("size", [0, 1, 2300])
def test_suite__passes_on_any_data_size(pytester: pytest.Pytester, size: int) -> None:
    result = run_suite(pytester, FakeApi(leads(size, seed=9)))
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()[-4000:]
    assert result.requests <= 150  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", ["default_limit_20", "search_case_sensitive", "unknown_key_403"])
def test_suite__strict_mode_fails_other_choices(pytester: pytest.Pytester, name: str) -> None:
    result = run_suite(pytester, VARIANTS[name](DATA), "--strict-contract")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert "Assumed:" in result.stdout.str()


def test_suite__lenient_run_lists_spec_gaps(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, VARIANTS["default_limit_20"](DATA))
    result.stdout.fnmatch_lines(["*Spec gaps: 1 assumed rule*", "*[[]page.default_limit[]]*"])


def test_suite__budget_is_enforced(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, FakeApi(DATA), "--max-requests", "10")
    assert result.ret == INCONCLUSIVE
    assert result.requests == 10  # type: ignore[attr-defined]
    result.stdout.fnmatch_lines(
        ["*INCONCLUSIVE: the request budget of 10*", "*requests used: 10 of a budget of 10*"]
    )
    assert "failed" not in result.stdout.str().splitlines()[-1]


def test_suite__429_on_the_main_key_is_inconclusive_without_retry(pytester: pytest.Pytester) -> None:
    api = FakeApi(DATA)
    main_calls = []

    def limited(request: httpx.Request) -> httpx.Response:
        if request.headers.get("x-api-key") != "good-key-0123456789":
            return api(request)
        main_calls.append(request.url)
        return api.error("RATE_LIMIT_EXCEEDED") if len(main_calls) > 2 else api(request)

    result = run_suite(pytester, limited)  # type: ignore[arg-type]
    assert result.ret == INCONCLUSIVE
    result.stdout.fnmatch_lines(["*INCONCLUSIVE: the key given with --api-key was refused with 429 after*"])
    assert len(main_calls) == 3, "the suite must stop at the first 429, with no retry"


class _EchoesKeys(FakeApi):
    """Echoes the key it was given everywhere it can: a header, error messages, lead names."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        key = request.headers.get("x-api-key", "")
        response = super().__call__(request)
        body = json.loads(response.content)
        if isinstance(body, dict) and "message" in body:
            body["message"] += f" (you sent {key!r})"
        for lead in body.get("data", []) if isinstance(body, dict) else []:
            lead["notes"] = f"seen by {key}"
        answer = self.respond(response.status_code, body)
        answer.headers["X-Echo-Key"] = key
        return answer

    def window(self, q: spec.LeadQuery, total: int) -> tuple[int, int]:  # page 1 shows page 2
        return FakeApi.window(self, q.with_(page=q.page + 1), total)


#: Keys holding / + = _ -, as real keys may (base64 and URL-safe alphabets).
SPECIAL_KEYS = {
    "sk_live/Main+key=0123-abc_XYZ": "ok",
    "sk_test/No+scope=4567-def_UVW": "no-scope",
    "sk_spent/Quota+gone=8901-ghi_RST": "exhausted",
}


def renderings(key: str) -> list[str]:
    """Every way a server may echo ``key``: as is, in other letter cases, percent-encoded (both
    hex cases), JSON-escaped (``\\/``, ``\\uXXXX`` in both hex cases), a mix of them, and with
    the letters Unicode folds to ASCII ones."""
    return [
        key,
        key.upper(),
        key.lower(),
        quote(key, safe=""),
        quote(key, safe="").lower(),
        key.replace("/", "\\/"),
        "".join(f"\\u{ord(c):04x}" for c in key),
        "".join(f"\\u{ord(c):04X}" for c in key),
        quote(key, safe="_-").replace("%2F", "\\/").swapcase(),
        # Unicode's case folding: the Kelvin sign and long s are "k" and "s" in any case.
        key.replace("k", "\u212a").replace("s", "\u017f"),
    ]


def test_redactor__every_spelling_in_a_body_is_redacted_whatever_its_escapes() -> None:
    from rotor_leads.contract_tests._secrets import Redactor, Secret

    for key in SPECIAL_KEYS:
        redactor = Redactor([Secret(key)])
        pieces = {key[i : i + 12].lower() for i in range(len(key) - 11)}
        for form in renderings(key):
            for ascii_only in (True, False):
                raw = json.dumps({"message": f"you sent {form}"}, ensure_ascii=ascii_only).encode()
                shown = str(redactor.decoded(redactor.bytes(raw))).lower()
                assert "redacted]" in shown and not [p for p in pieces if p in shown], (form, shown)


class _EchoesKeysEveryWay(FakeApi):
    """Echoes the key it was given in every rendering: in error messages, in each lead (a note
    and a field of its own), and in headers."""

    def authenticate(self, key: str | None) -> httpx.Response | None:
        kind = SPECIAL_KEYS.get(key or "")
        return super().authenticate(next((k for k, v in KEYS.items() if v == kind), key))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        forms = renderings(request.headers.get("x-api-key", "") or "none-given")
        response = super().__call__(request)
        body = json.loads(response.content)
        if isinstance(body, dict) and "message" in body:
            body["message"] += " (you sent " + " or ".join(forms) + ")"
        for n, lead in enumerate(body.get("data", []) if isinstance(body, dict) else []):
            lead["notes"] = f"seen by {forms[n % len(forms)]}"
            lead["seen_by"] = forms[(n + 1) % len(forms)]
        # Bodies as a PHP server writes them (/ escaped, the key's \\u escapes as they are), in UTF-8.
        text = json.dumps(body, ensure_ascii=False).replace("/", "\\/").replace("\\\\u", "\\u")
        echoes = [(f"X-Echo-{n}".encode(), form.encode("utf-8")) for n, form in enumerate(forms)]
        headers = response.headers.raw + echoes
        return httpx.Response(response.status_code, content=text.encode(), headers=headers)

    def window(self, q: spec.LeadQuery, total: int) -> tuple[int, int]:  # page 1 shows page 2
        return FakeApi.window(self, q.with_(page=q.page + 1), total)


def test_suite__never_shows_a_key_in_any_spelling(
    pytester: pytest.Pytester, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    files = {
        name: tmp_path / name
        for name in ("report.xml", "report.json", "run.log", "profile.json", "fixtures.json")
    }
    keys = [arg for key in SPECIAL_KEYS for arg in (_KEY_OPTION[SPECIAL_KEYS[key]], key)]
    result = run_suite(
        pytester,
        _EchoesKeysEveryWay(DATA),
        "-l",
        "--tb=long",
        "-vv",
        f"--junitxml={files['report.xml']}",
        f"--report={files['report.json']}",
        f"--log-file={files['run.log']}",
        "--log-file-level=DEBUG",
        f"--record-profile={files['profile.json']}",
        f"--record-fixtures={files['fixtures.json']}",
        keys=tuple(keys),
    )
    captured = capfd.readouterr()
    outputs = [result.stdout.str(), result.stderr.str(), captured.out, captured.err]
    text = "\n".join(outputs + [path.read_text() for path in files.values() if path.exists()]).lower()
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()[-2000:]
    assert files["fixtures.json"].exists() and files["profile.json"].exists()
    assert "redacted]" in text  # the echoes were there to be removed
    for key in SPECIAL_KEYS:
        pieces = {key[i : i + 12].lower() for i in range(len(key) - 11)}
        assert [p for p in pieces if p in text] == [], key
        assert [form for form in renderings(key) if form.lower() in text] == [], key


_KEY_OPTION = {"ok": "--api-key", "no-scope": "--no-scope-key", "exhausted": "--exhausted-key"}


LOGS_THE_KEY = f"""
import logging
import pytest

@pytest.fixture(autouse=True)
def log_a_key():
    logging.getLogger("someone.else").warning("sending key %s", {KEY_ARGS[1]!r})
    try:
        raise RuntimeError({KEY_ARGS[3]!r})
    except RuntimeError:
        logging.getLogger("someone.else").exception("it failed")
"""


@pytest.mark.parametrize(
    "options",
    [
        ("-l", "--tb=long", "-vv"),
        ("-rA", "--log-level=DEBUG", "-o", "log_cli=true", "--log-cli-level=DEBUG"),
        ("--tb=native", "-s"),
    ],
    ids=["locals_long_verbose", "logs", "native_no_capture"],
)
def test_suite__never_shows_a_key(
    pytester: pytest.Pytester, tmp_path: Path, options: tuple[str, ...], capfd: pytest.CaptureFixture[str]
) -> None:
    junit, report, log_file = tmp_path / "report.xml", tmp_path / "report.json", tmp_path / "run.log"
    pytester.makeconftest(LOGS_THE_KEY)
    suite = pytester.path / "suite"
    shutil.copytree(SUITE, suite, ignore=shutil.ignore_patterns("__pycache__", "conftest.py"))
    (suite / "conftest.py").write_text(Path(SUITE, "conftest.py").read_text() + "\n" + LOGS_THE_KEY)
    result = run_suite(
        pytester,
        _EchoesKeys(DATA),
        *options,
        f"--junitxml={junit}",
        f"--report={report}",
        f"--log-file={log_file}",
        "--log-file-level=DEBUG",
        suite=str(suite),
    )
    captured = capfd.readouterr()
    text = "\n".join(
        [
            result.stdout.str(),
            result.stderr.str(),
            captured.out,
            captured.err,
            junit.read_text(),
            report.read_text(),
        ]
        + [log_file.read_text()]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()[-2000:]
    assert "redacted]" in text  # the echoes were there to be removed
    for secret in KEY_ARGS[1::2]:
        assert secret not in text


def test_suite__failures_with_locals_stay_readable(pytester: pytest.Pytester) -> None:
    """``-l -vv`` shows every local whole: the context, the snapshot and each exchange show a
    summary, not every lead (260 MB of output for 120 leads, before)."""
    result = run_suite(
        pytester, MUTANTS["oldest_first"].api(DATA), "-l", "--tb=long", "-vv", planned_only=True
    )
    output = result.stdout.str()
    assert result.ret == pytest.ExitCode.TESTS_FAILED, output[-3000:]
    assert "snapshot = Snapshot(" in output and "leads with archived=true" in output
    assert len(output) < 5 << 20, f"{len(output):,} characters"


def _personal_values(leads: list[dict[str, Any]]) -> set[str]:
    """What of the fake's leads is personal: whole values, and the words of names (4 letters or more)."""
    values = {lead[f] for lead in leads for f in ("name", "email", "phone") if lead.get(f)}
    values |= {w for lead in leads for w in re.findall(r"[^\W\d_]{4,}", lead["name"])}
    return values


def test_suite__shows_no_personal_data_of_a_live_targets_leads(
    pytester: pytest.Pytester, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    name = "search_case_sensitive"  # a spec gap whose example is a search for a piece of a name
    files = [tmp_path / "report.json", tmp_path / "junit.xml", tmp_path / "run.log"]
    options = ("-rA", "-vv", f"--report={files[0]}", f"--junitxml={files[1]}", f"--log-file={files[2]}")
    result = run_suite(pytester, VARIANTS[name](DATA), *options, "--log-file-level=DEBUG")
    captured = capfd.readouterr()
    text = "\n".join(
        [result.stdout.str(), result.stderr.str(), captured.out, *(f.read_text() for f in files)]
    )
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()[-2000:]  # lenient: spec gaps only
    assert json.loads(files[0].read_text())["gaps"], "a gap, with an example that shows leads"
    leaked = sorted(v for v in _personal_values(DATA) if re.search(rf"(?i)\b{re.escape(v)}\b", text))
    assert leaked == [], leaked[:5]
    assert "GET /leads?search=[personal] (main key)" in files[0].read_text()
    assert "[name]" in text  # the debug log's excerpts of answers
    shown = run_suite(pytester, VARIANTS[name](DATA), "--show-personal-data", f"--report={files[0]}")
    (gap,) = json.loads(files[0].read_text())["gaps"]
    term = unquote_plus(gap["example"]["request"].split("search=")[1].split(" ")[0])
    assert shown.ret == pytest.ExitCode.OK and "[personal]" not in term
    assert any(term.casefold() in lead["name"].casefold() for lead in DATA)  # a piece of a name


BREAKS_ONE_TEST = """
import pytest

@pytest.fixture(autouse=True)
def break_one(request):
    if request.node.name == "test_first_answer__keeps_the_contract":
        raise MemoryError("as a run under a memory limit may")
"""


def test_suite__a_crash_is_no_verdict_never_a_broken_rule(pytester: pytest.Pytester, tmp_path: Path) -> None:
    suite = pytester.path / "suite"
    shutil.copytree(SUITE, suite, ignore=shutil.ignore_patterns("__pycache__", "conftest.py"))
    (suite / "conftest.py").write_text(Path(SUITE, "conftest.py").read_text() + "\n" + BREAKS_ONE_TEST)
    report = tmp_path / "report.json"
    result = run_suite(pytester, FakeApi(DATA), f"--report={report}", suite=str(suite), planned_only=True)
    assert result.ret == INCONCLUSIVE, result.stdout.str()[-2000:]
    assert json.loads(report.read_text())["verdict"] == "error"
    result.stdout.fnmatch_lines(["ERROR: a test of the suite failed without naming a rule*: no verdict"])


def test_suite__body_shows_one_full_example_per_rule(pytester: pytest.Pytester, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = run_suite(pytester, MUTANTS["page_zero_based"].api(DATA), f"--report={report}")
    output = result.stdout.str()
    document = json.loads(report.read_text())
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    for broken in document["rules_broken"]:
        # Once in the failures, once in the summary: never once per example.
        assert output.count(f"[{broken['rule']}] {spec.rule(broken['rule']).statement}") <= 2
    assert "Traceback" not in output and "def test_" not in output
    assert len(output.splitlines()) < 400


def test_suite__report_json_says_the_verdict(pytester: pytest.Pytester, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    result = run_suite(pytester, VARIANTS["default_limit_20"](DATA), f"--report={report}")
    document = json.loads(report.read_text())
    assert result.ret == pytest.ExitCode.OK
    assert document["verdict"] == "passed" and document["exit_code"] == 0
    assert document["rules_broken"] == []
    assert [gap["rule"] for gap in document["gaps"]] == ["page.default_limit"]
    assert document["requests"]["used"] == result.requests  # type: ignore[attr-defined]
    assert document["requests"]["budget"] == 150 and document["requests"]["deadline_seconds"] == 20


@pytest.mark.parametrize(
    ("name", "rules"), [(n, s) for n, s in SUBTLE.items()] + [(n, s) for n, s in SUBTLE_2.items()]
)
def test_suite__fails_a_subtly_broken_server(pytester: pytest.Pytester, name: str, rules: Any) -> None:
    # A kill is a first failure that names a rule (exit 1; a crash is exit 2): the run stops
    # there. Which rule the failures name is what the tests of SUBTLE_3 and MUTANTS check.
    api, kind = rules
    result = run_suite(pytester, api(data_for(kind)), "-x", planned_only=True)
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()[-3000:]
    assert result.requests <= 150  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", list(SUBTLE_3))
def test_suite__fails_a_server_broken_as_real_ones_break(pytester: pytest.Pytester, name: str) -> None:
    api, kind, rule = SUBTLE_3[name]
    result = run_suite(pytester, api(data_for(kind)), planned_only=True, until_rule=rule)
    output = result.stdout.str()
    assert result.ret == pytest.ExitCode.TESTS_FAILED, output[-3000:]
    assert f"[{rule}]" in output, output[-3000:]
    assert result.requests <= 150  # type: ignore[attr-defined]


def test_suite__429_on_another_key_stops_its_checks(pytester: pytest.Pytester) -> None:
    api = FakeApi(DATA)
    scopeless = []

    def limited(request: httpx.Request) -> httpx.Response:
        if request.headers.get("x-api-key") == "scopeless-key-0123456":
            scopeless.append(request.url)
            return api.error("RATE_LIMIT_EXCEEDED")
        return api(request)

    result = run_suite(pytester, limited, "-rs")  # type: ignore[arg-type]
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()[-2000:]
    assert len(scopeless) == 1
    result.stdout.fnmatch_lines(["*SKIPPED*--no-scope-key was refused with 429*"])


# -- a verdict only when one is possible: preflight, deadlines (real sockets on 127.0.0.1) ------


def run_against(
    pytester: pytest.Pytester, base_url: str, *args: str, key: str = KEY_ARGS[1], subprocess: bool = False
) -> pytest.RunResult:
    started = time.monotonic()
    options = (
        SUITE,
        "-p",
        "no:cacheprovider",
        "--assert=plain",
        "--base-url",
        base_url,
        "--api-key",
        key,
        *args,
    )
    if subprocess:
        result = pytester.runpytest_subprocess(*options, timeout=120)
    else:
        result = pytester.runpytest_inprocess(*options)
    result.seconds = time.monotonic() - started  # type: ignore[attr-defined]
    return result


def _inconclusive(result: pytest.RunResult, says: str) -> None:
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == INCONCLUSIVE, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    lines = [line for line in output.splitlines() if line.startswith("INCONCLUSIVE:")]
    assert len(lines) == 1 and says in lines[0], output[-3000:]
    assert " failed" not in output.splitlines()[-1]


def test_preflight__rejected_key_is_inconclusive_after_one_request(pytester: pytest.Pytester) -> None:
    api = FakeApi(DATA)
    with serve(api) as url:
        result = run_against(pytester, f"{url}/open-api", key="wrong-key-0123456789")
    _inconclusive(result, "the key given with --api-key was rejected: 401 INVALID_API_KEY")
    result.stdout.fnmatch_lines(["*requests used: 1 of a budget of 150*"])


def test_preflight__base_url_ending_in_leads(pytester: pytest.Pytester) -> None:
    with serve(FakeApi(DATA)) as url:
        result = run_against(pytester, f"{url}/open-api/leads")
    _inconclusive(result, "give the base URL without /leads")


def test_preflight__refused_connection(pytester: pytest.Pytester) -> None:
    result = run_against(pytester, f"http://127.0.0.1:{free_port()}")
    _inconclusive(result, "cannot connect to 127.0.0.1")


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("127.0.0.1:8080", "is not an http(s) URL"),
        ("api.getrotor.com/open-api", "is not an http(s) URL"),
        ("ftp://127.0.0.1/x", "is not an http(s) URL"),
        ("http://127.0.0.1:8099x", "is not a URL (Invalid port"),
        ("http://[::1", "is not a URL ("),
    ],
)
def test_usage__a_malformed_base_url_sends_nothing(pytester: pytest.Pytester, url: str, says: str) -> None:
    result = run_against(pytester, url)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    (line,) = [line for line in result.stderr.lines if line.strip()]
    assert line.startswith(f"ERROR: --base-url {url!r} {says}"), line
    assert "give it as http(s)://HOST[:PORT]/PATH" in line


def test_preflight__https_against_a_plain_http_port_says_to_use_http(pytester: pytest.Pytester) -> None:
    with serve(FakeApi(DATA)) as url:
        result = run_against(pytester, url.replace("http://", "https://") + "/open-api")
    _inconclusive(result, "give --base-url as http://, not https://")


#: Answers no contract suite should take whole: beyond its byte limit, or small but of a shape
#: that takes thirty times its size once parsed.
FLOODS = {
    "one_and_a_half_gigabytes": (b'{"id": "' + b"x" * 200 + b'"}', 1536 << 20, "is larger than 64 MB"),
    "many_small_objects": (b"{}", 20 << 20, "holds more than 1,000,000 JSON values"),
}


@pytest.mark.parametrize("flood", list(FLOODS))
def test_deadline__an_answer_too_large_ends_the_run_within_bounded_memory(
    pytester: pytest.Pytester, flood: str
) -> None:
    unit, total, says = FLOODS[flood]
    # The run's own peak: Linux's VmHWM of the process. Its ru_maxrss would be this test
    # process's, when larger: the child is started by vfork, and exec keeps the larger mark.
    probe = (
        "import re, resource, sys, pytest; code = pytest.main(sys.argv[1:]);"
        " status = open('/proc/self/status').read() if sys.platform == 'linux' else '';"
        " hwm = re.search(r'VmHWM:\\s*(\\d+) kB', status);"
        " rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss;"
        " print('MAXRSS', int(hwm[1]) if hwm else rss // 1024 if sys.platform == 'darwin' else rss);"
        " sys.exit(code)"
    )
    with flooding(unit, total) as url:
        result = pytester.run(
            sys.executable,
            "-c",
            probe,
            SUITE,
            "-p",
            "no:cacheprovider",
            "--base-url",
            url,
            *KEY_ARGS[:2],
            timeout=120,
        )
    output = result.stdout.str()
    assert result.ret == INCONCLUSIVE, output[-3000:]
    result.stdout.fnmatch_lines([f"INCONCLUSIVE: GET /leads: the answer {says}, more than the suite reads*"])
    peak_mb = int(output.split("MAXRSS ")[1].split()[0]) / 1024
    assert peak_mb < 400, f"peak RSS {peak_mb:.0f} MB"


def test_preflight__not_json(pytester: pytest.Pytester) -> None:
    def html(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, content=b"<!doctype html><p>Welcome", headers={"Content-Type": "text/html"}
        )

    with serve(html) as url:
        result = run_against(pytester, url)
    _inconclusive(result, "is not JSON (text/html")


def test_preflight__redirect(pytester: pytest.Pytester) -> None:
    def moved(request: httpx.Request) -> httpx.Response:
        return httpx.Response(301, headers={"Location": "https://elsewhere.invalid/leads"})

    with serve(moved) as url:
        result = run_against(pytester, url)
    _inconclusive(result, "redirected (301) to https://elsewhere.invalid/leads")


@pytest.mark.parametrize("server", ["dripping", "silent", "dripping_headers"])
def test_deadline__a_slow_server_ends_the_run_within_it(pytester: pytest.Pytester, server: str) -> None:
    slow = {
        "dripping": lambda: dripping(every=0.1),
        "dripping_headers": lambda: dripping(every=0.1, headers_first=False),
        "silent": silent,
    }[server]
    with slow() as url:
        result = run_against(pytester, url, "--request-timeout", "0.5", subprocess=True)
    _inconclusive(result, "no complete answer within 0.5 s")
    assert result.seconds < 30  # type: ignore[attr-defined]
    result.stdout.fnmatch_lines(["*each request within 0.5 s*"])


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--strict-contract", "--lenient"), "not both"),
        (("--request-timeout", "0"), "--request-timeout"),
        (("--max-requests", "0"), "--max-requests"),
        (("--report", "/no/such/dir/r.json"), "does not exist"),
    ],
)
def test_usage__bad_options_send_nothing(pytester: pytest.Pytester, args: tuple[str, ...], says: str) -> None:
    result = run_against(pytester, "http://127.0.0.1:9", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert says in result.stderr.str()


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


class _Listing500(FakeApi):
    """Answers 500 to the largest page, which the suite reads the whole listing with."""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.params.get("limit") == str(spec.MAX_LIMIT):
            return self.respond(500, {"status": "error", "message": "Internal error"})
        return super().__call__(request)


def test_suite__skips_say_the_listing_could_not_be_read(pytester: pytest.Pytester) -> None:
    result = run_suite(pytester, _Listing500(DATA), "-rs", planned_only=True)
    skipped = [line for line in result.stdout.lines if line.startswith("SKIPPED")]
    assert any("the whole listing could not be read" in line for line in skipped), result.stdout.str()[-3000:]
    assert not any("the target's data" in line for line in skipped), skipped
