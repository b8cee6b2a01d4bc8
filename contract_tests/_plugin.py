"""The contract suite's pytest plugin: which target, which keys, how many requests, how strict;
one preflight request before the budget is spent; no key in any output; one verdict.

python -m pytest contract_tests                                  # the mock, in-process
python -m pytest contract_tests --base-url URL --api-key KEY     # any server
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator
from importlib import import_module
from pathlib import Path
from typing import Any, Final

import orjson
import pytest
from hypothesis import HealthCheck, Phase, settings

from rotor_leads import spec
from rotor_leads.contract_tests._anonymize import anonymize
from rotor_leads.contract_tests._checks import Context, examples_of
from rotor_leads.contract_tests._recording import record_profile
from rotor_leads.contract_tests._report import Exit, Findings, Outcome, outcome, report_json, summary_lines
from rotor_leads.contract_tests._secrets import RedactingRecords, Redactor
from rotor_leads.contract_tests._snapshot import Snapshot, take_snapshot
from rotor_leads.contract_tests._target import (
    DEFAULT_DEADLINE,
    DEFAULT_MAX_RESPONSE_MB,
    LIVE_BUDGET,
    RUN_ALLOWANCE,
    Exchange,
    RunStopped,
    Target,
    check_base_url,
    in_process_target,
    preflight,
    url_target,
)

MOCK_LEADS = 1300
MOCK_SEED = 5
#: Tests that spend whatever budget the others left: they run last.
RUN_LAST = ("test_generated_queries__keep_the_contract",)

settings.register_profile("dev", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "ci", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
# Live targets: every example is a request against a daily quota. Derandomized (the same
# requests every run), few examples, and no shrinking (it would spend requests to minimise).
settings.register_profile(
    "live",
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


#: The suite's options, one row each: ``rotor-contract --help`` and pytest's both read them.
#: Defaults that come from the environment are read when the options are registered.
OPTIONS: Final[tuple[tuple[str, dict[str, Any]], ...]] = (
    (
        "--base-url",
        {
            "env": "ROTOR_BASE_URL",
            "metavar": "URL",
            "help": "Server to check, e.g. https://api.getrotor.com/open-api (env ROTOR_BASE_URL)."
            " Without it, the mock runs in-process.",
        },
    ),
    (
        "--api-key",
        {
            "env": "ROTOR_API_KEY",
            "metavar": "KEY",
            "help": "Key with scope leads:read (env ROTOR_API_KEY). Never printed.",
        },
    ),
    (
        "--no-scope-key",
        {
            "env": "ROTOR_NO_SCOPE_KEY",
            "metavar": "KEY",
            "help": "Key without leads:read, for the 403 checks (env ROTOR_NO_SCOPE_KEY). Never printed.",
        },
    ),
    (
        "--exhausted-key",
        {
            "env": "ROTOR_EXHAUSTED_KEY",
            "metavar": "KEY",
            "help": "Key whose daily quota is spent, for the 429 checks (env ROTOR_EXHAUSTED_KEY)."
            " Never printed.",
        },
    ),
    (
        "--max-requests",
        {
            "type": int,
            "default": None,
            "metavar": "N",
            "help": f"Hard request budget (default {LIVE_BUDGET} for a URL, none in-process).",
        },
    ),
    (
        "--request-timeout",
        {
            "type": float,
            "default": DEFAULT_DEADLINE,
            "metavar": "SECONDS",
            "help": "Total time each request may take: connect, headers and body"
            f" (default {DEFAULT_DEADLINE:g}).",
        },
    ),
    (
        "--max-response-mb",
        {
            "type": int,
            "default": DEFAULT_MAX_RESPONSE_MB,
            "metavar": "MB",
            "help": "The most of one answer the suite reads, decompressed (default"
            f" {DEFAULT_MAX_RESPONSE_MB}; a run reads at most {RUN_ALLOWANCE} times that in all):"
            " beyond it the run ends without a verdict.",
        },
    ),
    (
        "--strict-contract",
        {
            "action": "store_true",
            "help": "Fail the assumed rules too, where the reference page is silent (default in-process).",
        },
    ),
    (
        "--lenient",
        {
            "action": "store_true",
            "help": "Report broken assumed rules as spec gaps instead of failing (default for a URL).",
        },
    ),
    (
        "--report",
        {
            "metavar": "FILE",
            "default": None,
            "help": "Write the verdict, broken rules, spec gaps and requests used as JSON to FILE.",
        },
    ),
    (
        "--profile",
        {
            "metavar": "FILE",
            "default": None,
            "help": "Hold the target to a behaviour profile's choices (--record-profile) where the page"
            " is silent, instead of this project's assumptions. In-process, the mock serves it too.",
        },
    ),
    (
        "--record-profile",
        {
            "metavar": "FILE",
            "default": None,
            "help": "Write the target's choices where the page is silent to FILE (JSON,"
            " spec/profile.schema.json), from this run's requests: no extra request, no key, no lead data.",
        },
    ),
    (
        "--compare-profile",
        {
            "metavar": "FILE",
            "default": None,
            "help": "Report every choice that changed since the profile FILE was recorded (drift).",
        },
    ),
    (
        "--fail-on-drift",
        {"action": "store_true", "help": "With --compare-profile: a drift fails the run (exit code 1)."},
    ),
    (
        "--show-personal-data",
        {
            "action": "store_true",
            "help": "Show the personal fields of a live target's leads (name, email, phone, streets,"
            " notes, assigned_to) in what the suite prints and writes; masked by default.",
        },
    ),
    (
        "--record-fixtures",
        {
            "metavar": "FILE",
            "default": None,
            "help": "Write the target's listing to FILE as a fixtures file for rotor-mock serve --fixtures,"
            " with names, emails, phones, addresses, notes and ids replaced by consistent fakes.",
        },
    ),
)
#: pytest-base-url's entry point: where it is loaded, ``--base-url`` is its option, shared.
SHARED_BASE_URL_PLUGIN: Final = "base_url"


def option_settings(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` as ``addoption`` keywords, with an environment default read now."""
    settings_ = {k: v for k, v in row.items() if k != "env"}
    if "env" in row:
        settings_["default"] = os.environ.get(row["env"])
    return settings_


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    group = parser.getgroup("rotor", "Rotor GET /leads contract suite")
    for name, row in OPTIONS:
        if name == "--base-url" and pluginmanager.has_plugin(SHARED_BASE_URL_PLUGIN):
            continue  # the same option, the same meaning; ROTOR_BASE_URL is read in configure
        group.addoption(name, **option_settings(row))


def _option(config: pytest.Config, name: str) -> Any:
    return config.getoption(name)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "live_safe: a check that is cheap enough in requests to run against a live target"
    )
    try:
        spec.load_document()
    except spec.DeclarationError as exc:
        raise pytest.UsageError(str(exc)) from None
    base_url = _option(config, "base_url") or os.environ.get("ROTOR_BASE_URL")
    config.option.base_url = base_url
    if base_url and not _option(config, "api_key"):
        raise pytest.UsageError("--base-url needs --api-key (or ROTOR_API_KEY): a key with scope leads:read")
    budget = _option(config, "max_requests")
    if budget is not None and budget < 1:
        raise pytest.UsageError(f"--max-requests must be 1 or more, got {budget}")
    deadline = _option(config, "request_timeout")
    if not 0 < deadline <= 600:
        raise pytest.UsageError(
            f"--request-timeout must be more than 0 and at most 600 seconds, got {deadline:g}"
        )
    max_response_mb = _option(config, "max_response_mb")
    if not 1 <= max_response_mb <= 4096:
        raise pytest.UsageError(f"--max-response-mb must be 1 to 4096 megabytes, got {max_response_mb}")
    if base_url:
        try:
            check_base_url(base_url)
        except ValueError as exc:
            raise pytest.UsageError(f"--base-url {exc}") from None
    if _option(config, "strict_contract") and _option(config, "lenient"):
        raise pytest.UsageError("give --strict-contract or --lenient, not both")
    for option in ("report", "record_profile", "record_fixtures"):
        path = _option(config, option)
        if path and not Path(path).resolve().parent.is_dir():
            raise pytest.UsageError(
                f"--{option.replace('_', '-')} {path}: the directory {Path(path).resolve().parent}"
                " does not exist"
            )
        if path and Path(path).is_dir():
            raise pytest.UsageError(f"--{option.replace('_', '-')} {path} is a directory: give a file name")
    for option, key in (("profile", _PROFILE), ("compare_profile", _COMPARED)):
        path = _option(config, option)
        if path:
            try:
                config.stash[key] = spec.load_profile(path)
            except spec.ProfileError as exc:
                raise pytest.UsageError(f"--{option.replace('_', '-')}: {exc}") from None
    if _option(config, "fail_on_drift") and not _option(config, "compare_profile"):
        raise pytest.UsageError("--fail-on-drift needs --compare-profile FILE: the profile to compare with")
    if "HYPOTHESIS_PROFILE" in os.environ:
        settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])
    else:
        settings.load_profile("live" if base_url else "ci" if os.environ.get("CI") else "dev")
    config.stash[_FINDINGS] = Findings()
    if not base_url and not config.option.help:
        _require_the_mock()
    if base_url:
        target = url_target(
            base_url,
            api_key=_option(config, "api_key"),
            no_scope_key=_option(config, "no_scope_key"),
            exhausted_key=_option(config, "exhausted_key"),
            budget=budget or LIVE_BUDGET,
            deadline=deadline,
            max_response_mb=max_response_mb,
            show_personal_data=bool(_option(config, "show_personal_data")),
        )
        config.stash[_TARGET] = target
        records = RedactingRecords(target.redactor)
        records.install()
        config.stash[_RECORDS] = records


def _require_the_mock() -> None:
    """Without --base-url the suite checks the mock in-process: say at once if it is missing."""
    try:
        with spec.requires_extra("mock", what="checking the in-process mock (no --base-url)"):
            import_module("rotor_leads.mock_server.web._app")
    except spec.MissingExtra as exc:
        raise pytest.UsageError(
            f"{exc}; or give --base-url URL and --api-key KEY to check a server"
        ) from None
    except spec.DeclarationError as exc:
        raise pytest.UsageError(str(exc)) from None


def pytest_unconfigure(config: pytest.Config) -> None:
    records = config.stash.get(_RECORDS, None)
    if records is not None:
        records.uninstall()
    target = config.stash.get(_TARGET, None)
    if target is not None:
        target.client.close()


def is_strict(config: pytest.Config) -> bool:
    if _option(config, "lenient"):
        return False
    return bool(_option(config, "strict_contract")) or not _option(config, "base_url")


def _get_target(config: pytest.Config) -> Target:
    target = config.stash.get(_TARGET, None)
    if target is None:
        target = config.stash[_TARGET] = in_process_target(
            leads=MOCK_LEADS, seed=MOCK_SEED, profile=_option(config, "profile")
        )
    return target


def _profile(config: pytest.Config) -> spec.Profile:
    """The choices the target is held to where the page is silent."""
    return config.stash.get(_PROFILE, spec.ASSUMED)


def _redactor(config: pytest.Config) -> Redactor:
    target = config.stash.get(_TARGET, None)
    return target.redactor if target is not None else Redactor()


def pytest_report_header(config: pytest.Config) -> list[str]:
    base_url = _option(config, "base_url")
    target = base_url or f"in-process mock ({MOCK_LEADS} leads, seed {MOCK_SEED})"
    budget = _option(config, "max_requests") or (LIVE_BUDGET if base_url else None)
    deadline = f"; each request within {_option(config, 'request_timeout'):g} s" if base_url else ""
    return [
        f"rotor contract target: {target}",
        f"rotor contract mode: {'strict' if is_strict(config) else 'lenient'}; "
        f"request budget: {budget or 'none'}{deadline};"
        f" hypothesis profile: {settings.get_current_profile_name()}",
        f"rotor contract choices where the page is silent: {_profile(config).describe()}",
    ]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: getattr(item, "originalname", item.name) in RUN_LAST)
    for item in items:
        if _ours(item) and isinstance(item, pytest.Function):
            item.repr_failure = _compact_failures(item, item.repr_failure)  # type: ignore[method-assign,assignment]


def _compact_failures(
    item: pytest.Function, default: Callable[[pytest.ExceptionInfo[BaseException]], Any]
) -> Callable[[pytest.ExceptionInfo[BaseException]], Any]:
    """A contract failure is shown as its message (see :func:`_compact`), made here instead of
    a traceback of the suite's own code that would be thrown away: pytest reads the source of
    every frame and the repr of every argument for one, which made a failing run three times
    as slow as a passing one. A stopped run's traceback is thrown away likewise."""

    def repr_failure(excinfo: pytest.ExceptionInfo[BaseException]) -> Any:
        if isinstance(excinfo.value, RunStopped):
            return f"INCONCLUSIVE: {excinfo.value}"
        examples = examples_of(excinfo.value)
        if examples is not None and _compact(item.config):
            return _findings(item.config).render(examples)
        return default(excinfo)

    return repr_failure


def _ours(item: pytest.Item) -> bool:
    return Path(__file__).parent in Path(str(item.path)).parents


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> bool | None:
    """Before any check: one request, to learn whether a verdict is possible at all."""
    config = session.config
    if (
        config.option.collectonly
        or config.pluginmanager.has_plugin("dsession")  # pytest-xdist's controller runs no test
        or not any(_ours(item) for item in session.items)
    ):
        return None
    target = _get_target(config)
    exchange, problem = preflight(target)
    if exchange is not None:
        config.stash[_FIRST] = exchange
    if problem is not None:
        target.stopped = problem
        return True  # no test runs: the summary says what to fix
    return None


# -- the fixtures the tests use ---------------------------------------------------------------


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    yield _get_target(request.config)


@pytest.fixture(scope="session")
def first_answer(request: pytest.FixtureRequest, target: Target) -> Exchange:
    """The preflight's answer: ``GET /leads`` with no parameters and the main key."""
    exchange = request.config.stash.get(_FIRST, None)
    if exchange is None:
        exchange = request.config.stash[_FIRST] = target.get()
    return exchange


@pytest.fixture(scope="session")
def contract(request: pytest.FixtureRequest) -> Context:
    """The checks' context: strictness and the run's findings (no snapshot)."""
    return _context(request.config, None)


@pytest.fixture(scope="session")
def snapshot(request: pytest.FixtureRequest, target: Target) -> Snapshot:
    """The target's whole listing, read once (a few requests at limit=1000), or what of it
    could be read."""
    snap = take_snapshot(target, _profile(request.config).readings)
    request.config.stash[_SNAPSHOT] = snap
    return snap


@pytest.fixture(scope="session")
def model(request: pytest.FixtureRequest, snapshot: Snapshot) -> Context:
    """The checks' context; with a complete snapshot, the differential checks are on."""
    if not snapshot.complete:
        _findings(request.config).notes.append(
            f"the whole listing could not be read ({snapshot.problem}): answers were not compared with it"
        )
    return _context(request.config, snapshot if snapshot.complete else None)


def _context(config: pytest.Config, snapshot: Snapshot | None) -> Context:
    ctx = Context(
        strict=is_strict(config), findings=_findings(config), snapshot=snapshot, profile=_profile(config)
    )
    config.stash.setdefault(_CONTEXTS, []).append(ctx)
    return ctx


def _findings(config: pytest.Config) -> Findings:
    return config.stash.setdefault(_FINDINGS, Findings())


_TARGET = pytest.StashKey[Target]()
_FIRST = pytest.StashKey[Exchange]()
_FINDINGS = pytest.StashKey[Findings]()
_CONTEXTS = pytest.StashKey[list[Context]]()
_RECORDS = pytest.StashKey[RedactingRecords]()
_PROFILE = pytest.StashKey[spec.Profile]()
_COMPARED = pytest.StashKey[spec.Profile]()
_SNAPSHOT = pytest.StashKey[Snapshot]()
_DRIFT = pytest.StashKey[list[spec.Drift]]()
_WRITTEN = pytest.StashKey[list[tuple[str, bool]]]()  # (line, failed) for the summary


# -- reports: compact, redacted -----------------------------------------------------------------


def _compact(config: pytest.Config) -> bool:
    """Contract failures are shown as their message only (the traceback is the suite's own code,
    not the server's), unless the user asked for long tracebacks or locals."""
    return config.option.tbstyle in ("auto", "short") and not config.option.showlocals


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report: pytest.TestReport = yield
    config = item.config
    error = call.excinfo.value if call.excinfo is not None else None
    if isinstance(error, RunStopped):
        reason = str(error)
        item.session.shouldstop = f"rotor contract suite stopped: {reason}"
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, f"INCONCLUSIVE: {reason}")
    redactor = _redactor(config)
    if redactor:
        _redact_report(report, redactor)
    return report


def _redact_report(report: pytest.TestReport, redactor: Redactor) -> None:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple):
        path, line, message = longrepr
        report.longrepr = (path, line, redactor.shown(message))
    elif longrepr is not None:
        text = str(longrepr) if isinstance(longrepr, str) else report.longreprtext
        redacted = redactor.shown(text)
        if redacted != text or not isinstance(longrepr, str):
            report.longrepr = redacted
    report.sections = [(title, redactor.shown(content)) for title, content in report.sections]


# -- the end of a run: verdict, summary, JSON report --------------------------------------------


def _outcome(session: pytest.Session) -> Any:
    config = session.config
    target = config.stash.get(_TARGET, None)
    return outcome(
        _findings(config),
        stopped=target.stopped if target is not None else None,
        failed_tests=session.testsfailed,
        pytest_status=int(session.exitstatus),
    )


def _requests_line(config: pytest.Config, target: Target) -> str:
    budget = f" of a budget of {target.budget}" if target.budget is not None else ""
    deadline = f"; each within {target.deadline:g} s (connect + headers + body)" if target.deadline else ""
    checked = sum(ctx.checked for ctx in config.stash.get(_CONTEXTS, []))
    return (
        f"target: {target.label}; requests used: {target.used}{budget}{deadline};"
        f" responses checked: {checked}"
    )


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    target = config.stash.get(_TARGET, None)
    if target is None or config.pluginmanager.has_plugin("dsession"):
        return
    result = _outcome(session)
    _record(config, target)
    drifted = config.stash.get(_DRIFT, [])
    if drifted and _option(config, "fail_on_drift") and result.verdict == "passed":
        result = Outcome("failed", Exit.FAILED, f"drift: {len(drifted)} choice(s) changed since the profile")
    config.stash[_OUTCOME] = result
    session.exitstatus = int(result.exit_code)
    path = _option(config, "report")
    if path:
        document = report_json(
            _findings(config),
            result,
            target=target.label,
            strict=is_strict(config),
            requests={"used": target.used, "budget": target.budget, "deadline_seconds": target.deadline},
            tests={"collected": session.testscollected, "failed": session.testsfailed},
        )
        document["profile"] = {
            "checked_against": _profile(config).describe(),
            "recorded_to": _option(config, "record_profile"),
        }
        compared = config.stash.get(_COMPARED, None)
        document["drift"] = (
            None
            if compared is None
            else {
                "since": compared.describe(),
                "changes": [d.to_json() for d in config.stash.get(_DRIFT, [])],
            }
        )
        problem = _write_json(path, _redactor(config).shown_value(document))
        if problem:
            config.stash[_REPORT_ERROR] = f"--report {path}: cannot write it ({problem})"


_OUTCOME = pytest.StashKey[Any]()
_REPORT_ERROR = pytest.StashKey[str]()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    target = config.stash.get(_TARGET, None)
    result = config.stash.get(_OUTCOME, None)
    if target is None or result is None:
        return
    redactor = _redactor(config)
    terminalreporter.section("rotor contract summary")
    lines = summary_lines(
        _findings(config), result, strict=is_strict(config), requests=_requests_line(config, target)
    )
    for text, markup in lines:
        terminalreporter.write_line(redactor.shown(text), **markup)
    compared = config.stash.get(_COMPARED, None)
    if compared is not None:
        drifted = config.stash.get(_DRIFT, [])
        fail = bool(drifted) and bool(_option(config, "fail_on_drift"))
        changed = f"{len(drifted)} choice(s) changed" if drifted else "no choice changed"
        title = f"Drift since {compared.describe()}: {changed}"
        terminalreporter.write_line(redactor.shown(title), red=fail, yellow=bool(drifted) and not fail)
        for change in drifted:
            terminalreporter.write_line(redactor.shown(f"  - {change}"))
    for line, failed in config.stash.get(_WRITTEN, []):
        terminalreporter.write_line(redactor.shown(line), red=failed)
    error = config.stash.get(_REPORT_ERROR, None)
    if error:
        terminalreporter.write_line(error, red=True)
    terminalreporter.write_line(f"exit code {int(result.exit_code)}: {result.verdict}")


# -- profiles and fixtures: written from what the run saw ---------------------------------------


def _write_json(path: str, document: Any) -> str | None:
    """Write ``document`` to ``path`` whole or not at all (an existing file stays as it was if
    the write fails); returns why it failed, if it did."""
    target = Path(path)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        temporary.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
        os.replace(temporary, target)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        return exc.strerror or str(exc)
    return None


def _record(config: pytest.Config, target: Target) -> None:
    """--record-profile, --compare-profile and --record-fixtures, from this run's exchanges."""
    record_to = _option(config, "record_profile")
    compared = config.stash.get(_COMPARED, None)
    fixtures_to = _option(config, "record_fixtures")
    if not (record_to or compared or fixtures_to):
        return
    written: list[tuple[str, bool]] = []
    snapshot = config.stash.get(_SNAPSHOT, None)
    redactor = _redactor(config)
    if record_to or compared:
        profile = record_profile(target, snapshot)
        if compared is not None:
            config.stash[_DRIFT] = spec.profile_drift(compared, profile)
        if record_to:
            # Keys only: a profile holds no lead data, and its values are read by machines.
            problem = _write_json(record_to, redactor.value(profile.to_json()))
            if problem:
                written.append((f"--record-profile {record_to}: cannot write it ({problem})", True))
            else:
                missed = (
                    f"; {len(profile.unobserved)} not observed (listed in the file)"
                    if profile.unobserved
                    else ""
                )
                written.append(
                    (f"Profile recorded to {record_to}: {len(profile.choices)} choices{missed}", False)
                )
    if fixtures_to:
        if snapshot is None or not snapshot.complete:
            why = snapshot.problem if snapshot is not None else "the listing was not read"
            written.append(
                (
                    f"--record-fixtures {fixtures_to}: not written, the whole listing could not be"
                    f" read ({why})",
                    True,
                )
            )
        else:
            leads = anonymize(snapshot.everything, archived_ids=snapshot.archived_ids)
            problem = _write_json(fixtures_to, redactor.value(leads))
            if problem:
                written.append((f"--record-fixtures {fixtures_to}: cannot write it ({problem})", True))
            else:
                written.append(
                    (
                        f"Fixtures recorded to {fixtures_to}: {len(leads)} leads, names, emails, phones,"
                        " addresses, notes and ids replaced (serve: rotor-mock serve --fixtures FILE)",
                        False,
                    )
                )
    config.stash[_WRITTEN] = written
