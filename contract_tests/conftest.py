"""The contract suite's pytest plugin: which target, which keys, how many requests, how strict.

python -m pytest contract_tests                                  # the mock, in-process
python -m pytest contract_tests --base-url URL --api-key KEY     # any server
"""

from __future__ import annotations

import os
from collections.abc import Generator, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings

from contract_tests._checks import Context
from contract_tests._snapshot import Snapshot, take_snapshot
from contract_tests._target import LIVE_BUDGET, RunStopped, Target, in_process_target, url_target

MOCK_LEADS = 1300
MOCK_SEED = 5

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


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("rotor", "Rotor GET /leads contract suite")
    group.addoption(
        "--base-url",
        default=os.environ.get("ROTOR_BASE_URL"),
        help="Server to check, e.g. https://api.getrotor.com/open-api (env ROTOR_BASE_URL)."
        " Without it, the mock runs in-process.",
    )
    group.addoption(
        "--api-key",
        default=os.environ.get("ROTOR_API_KEY"),
        help="Key with scope leads:read (env ROTOR_API_KEY). Never printed.",
    )
    group.addoption(
        "--no-scope-key",
        default=os.environ.get("ROTOR_NO_SCOPE_KEY"),
        help="Key without leads:read, for the 403 checks (env ROTOR_NO_SCOPE_KEY).",
    )
    group.addoption(
        "--exhausted-key",
        default=os.environ.get("ROTOR_EXHAUSTED_KEY"),
        help="Key whose daily quota is spent, for the 429 checks (env ROTOR_EXHAUSTED_KEY).",
    )
    group.addoption(
        "--max-requests",
        type=int,
        default=None,
        help=f"Hard request budget (default {LIVE_BUDGET} for a URL, none in-process).",
    )
    group.addoption(
        "--lenient",
        action="store_true",
        help="Report broken assumed rules as spec gaps instead of failing (default for a URL)."
        " --strict makes them failures (default for the in-process mock).",
    )


def _option(config: pytest.Config, name: str) -> Any:
    return config.getoption(name)


def pytest_configure(config: pytest.Config) -> None:
    base_url = _option(config, "base_url")
    if base_url and not _option(config, "api_key"):
        raise pytest.UsageError("--base-url needs --api-key (or ROTOR_API_KEY): a key with scope leads:read")
    budget = _option(config, "max_requests")
    if budget is not None and budget < 1:
        raise pytest.UsageError(f"--max-requests must be 1 or more, got {budget}")
    if "HYPOTHESIS_PROFILE" in os.environ:
        settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])
    else:
        settings.load_profile("live" if base_url else "ci" if os.environ.get("CI") else "dev")


def is_strict(config: pytest.Config) -> bool:
    if _option(config, "lenient"):
        return False
    return bool(config.getini("strict")) or not _option(config, "base_url")


def pytest_report_header(config: pytest.Config) -> list[str]:
    base_url = _option(config, "base_url")
    target = base_url or f"in-process mock ({MOCK_LEADS} leads, seed {MOCK_SEED})"
    budget = _option(config, "max_requests") or (LIVE_BUDGET if base_url else None)
    return [
        f"rotor contract target: {target}",
        f"rotor contract mode: {'strict' if is_strict(config) else 'lenient'}; "
        f"request budget: {budget or 'none'}; hypothesis profile: {settings.get_current_profile_name()}",
    ]


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    config = request.config
    base_url = _option(config, "base_url")
    if base_url:
        tgt = url_target(
            base_url,
            api_key=_option(config, "api_key"),
            no_scope_key=_option(config, "no_scope_key"),
            exhausted_key=_option(config, "exhausted_key"),
            budget=_option(config, "max_requests") or LIVE_BUDGET,
        )
    else:
        tgt = in_process_target(leads=MOCK_LEADS, seed=MOCK_SEED)
    config.stash[_TARGET] = tgt
    yield tgt
    tgt.client.close()


@pytest.fixture(scope="session")
def contract(request: pytest.FixtureRequest) -> Context:
    """The checks' context: strictness and the gaps found so far (no snapshot)."""
    ctx = Context(strict=is_strict(request.config))
    _contexts(request.config).append(ctx)
    return ctx


@pytest.fixture(scope="session")
def snapshot(target: Target) -> Snapshot:
    """The target's whole listing, read once (a few requests at limit=1000), or what of it
    could be read."""
    return take_snapshot(target)


@pytest.fixture(scope="session")
def model(request: pytest.FixtureRequest, snapshot: Snapshot) -> Context:
    """The checks' context; with a complete snapshot, the differential checks are on."""
    ctx = Context(strict=is_strict(request.config), snapshot=snapshot if snapshot.complete else None)
    _contexts(request.config).append(ctx)
    return ctx


def _contexts(config: pytest.Config) -> list[Context]:
    return config.stash.setdefault(_CONTEXTS, [])


_TARGET = pytest.StashKey[Target]()
_CONTEXTS = pytest.StashKey[list[Context]]()
_STOPPED = pytest.StashKey[str]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    if call.excinfo is not None and call.excinfo.errisinstance(RunStopped):
        reason = str(call.excinfo.value)
        item.config.stash[_STOPPED] = reason
        item.session.shouldstop = f"rotor contract suite stopped: {reason}"
    return report


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    tgt = config.stash.get(_TARGET, None)
    if tgt is None:
        return
    write = terminalreporter.write_line
    terminalreporter.section("rotor contract summary")
    budget = f" of a budget of {tgt.budget}" if tgt.budget is not None else ""
    checked = sum(ctx.checked for ctx in config.stash.get(_CONTEXTS, []))
    write(f"target: {tgt.label}; requests used: {tgt.used}{budget}; responses checked: {checked}")
    stopped = config.stash.get(_STOPPED, None)
    if stopped:
        write(f"INCONCLUSIVE: {stopped}", red=True)
    gaps = {g.rule_id: g for ctx in config.stash.get(_CONTEXTS, []) for g in ctx.gaps}
    if gaps:
        write(
            f"spec gaps: {len(gaps)} assumed rule(s) this server reads differently (not failures;"
            " --strict makes them so):",
            yellow=True,
        )
        for gap in gaps.values():
            first, *rest = gap.message.splitlines()
            write(f"  - {first}")
            for line in rest[:2]:
                write(f"      {line}")
    else:
        write("spec gaps: none")
