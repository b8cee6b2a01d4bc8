"""Running the contract suite from a test: in-process through pytester, against a respx-routed
fake of the API, with the fake's keys. Shared by the suite's self-tests and the profile tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import respx
from hypothesis import HealthCheck, Phase, settings

from rotor_leads import contract_tests
from rotor_leads.contract_tests import (  # noqa: F401  (see below)
    _anonymize,
    _checks,
    _recording,
    _report,
    _secrets,
    _snapshot,
    _target,
)
from tests.fake_api import BASE_URL, FakeApi

SUITE = str(Path(contract_tests.__file__).parent)
# What the suite's plugin imports is imported here, once: pytester forgets the modules a run
# imported, and each run would import them again (and re-read the suite's sources for the words
# it never masks). A run's state lives on its config, so nothing carries over. The plugin itself
# is left to each run: a run with assertion rewriting must be the one to import it.
#: A Hypothesis profile that runs no generated query, for runs that must kill a broken server:
#: the planned checks kill every one of the corpus (tests/fake_api.py, tests/subtle_servers.py)
#: on their own, and half of a run's time went to the 25 generated queries. Runs that must pass
#: a correct server keep them: that is where a false alarm would show.
PLANNED_ONLY = "rotor-selftest-planned-only"
settings.register_profile(
    PLANNED_ONLY,
    phases=[Phase.explicit],
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
KEY_ARGS = (
    "--api-key",
    "good-key-0123456789",
    "--no-scope-key",
    "scopeless-key-0123456",
    "--exhausted-key",
    "spent-key-0123456789",
)


class StopAtRule:
    """Ends a run once a failure names ``rule``: a kill run is judged by whether the suite
    names the rule its broken server breaks, and the checks after that one change nothing of
    it. (``-x`` stops at the first failure, which may name another rule.) A run in which no
    failure names the rule goes on to its end, and its test fails.

    It stops the run as ``-x`` does (``shouldfail``): ``shouldstop`` would end it as an
    interruption, whose report pytest formats from the source of every frame, a sixth of a kill
    run's time."""

    def __init__(self, rule: str) -> None:
        self.named = f"[{rule}]"
        self.session: pytest.Session | None = None

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.session = session

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed and self.session is not None and self.named in report.longreprtext:
            self.session.shouldfail = f"a failure named {self.named}"


def run_suite(
    pytester: pytest.Pytester,
    api: FakeApi,
    *args: str,
    suite: str = SUITE,
    planned_only: bool = False,
    keys: tuple[str, ...] = KEY_ARGS,
    until_rule: str | None = None,
) -> pytest.RunResult:
    # The suite's failures carry their own messages: without assertion rewriting (re-done on
    # every in-process run) a run takes half the time. The key tests run with it.
    plain = () if suite != SUITE or "-l" in args else ("--assert=plain",)
    with respx.mock(assert_all_called=False) as router, pytest.MonkeyPatch.context() as patch:
        # pytest sizes its short summary to the terminal, and on CI (``CI`` or ``BUILD_NUMBER``
        # set) shows each failure's message in full: one shape, whatever runs these tests.
        patch.setenv("COLUMNS", "80")
        patch.delenv("CI", raising=False)
        patch.delenv("BUILD_NUMBER", raising=False)
        if planned_only:
            patch.setenv("HYPOTHESIS_PROFILE", PLANNED_ONLY)
        # A run that must kill a broken server is judged by its verdict and its summary of
        # broken rules; pytest's tracebacks of its failures (the source of each entry parsed
        # again) were a fifth of its time. A test that wants them gives its own --tb.
        tracebacks = ("--tb=line",) if planned_only else ()
        route = router.route(host="rotor.test").mock(side_effect=api)
        result = pytester.runpytest_inprocess(
            suite,
            "-p",
            "no:cacheprovider",
            # pytest's check for exceptions raised in finalizers collects all garbage twice at
            # each run's end, walking every object of this test process: a sixth of their time.
            "-p",
            "no:unraisableexception",
            *plain,
            *tracebacks,
            "--base-url",
            BASE_URL,
            *keys,
            *args,
            plugins=[StopAtRule(until_rule)] if until_rule else [],
        )
    result.requests = route.call_count  # type: ignore[attr-defined]
    return result
