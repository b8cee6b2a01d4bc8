"""Fixtures shared by the project's own tests: a small mock app and a client that validates
every ``/leads`` answer it sees against the spec."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

# What the fixtures need is imported when a test asks for them: a small test file pays for
# none of Flask, the mock or Hypothesis.
if TYPE_CHECKING:
    from flask import Flask
    from flask.testing import FlaskClient


#: Modules whose session-scoped servers (fresh venvs, Chromium, a served mock, the fuzzers'
#: servers) must be made once: under pytest-xdist each is sent whole to one worker. (xdist's own
#: xdist_group marks do not reach its scheduler with pytest 9.2, whose nodes no longer read
#: ``item._nodeid``.)
ONE_WORKER = frozenset(
    {"tests/test_install.py", "tests/test_browser.py", "tests/test_served_mock.py", "tests/test_mock_fuzz.py"}
)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``-n N`` (make test): tests one by one, as xdist's default, but for :data:`ONE_WORKER`."""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class OneWorkerModules(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if module in ONE_WORKER else nodeid

    return OneWorkerModules(config, log)


def _skipped_plugins(config: pytest.Config) -> str:
    """The ``-p no:`` options of ``addopts`` in ``pyproject.toml``, as ``PYTEST_ADDOPTS``."""
    options = config.getini("addopts")
    return " ".join(
        f"-p {options[i + 1]}"
        for i, o in enumerate(options[:-1])
        if o == "-p" and options[i + 1].startswith("no:")
    )


def pytest_configure(config: pytest.Config) -> None:
    """The pytest runs the tests start (``rotor-contract`` processes, pytester's runs) skip the
    plugins this project's own runs skip (``addopts`` in ``pyproject.toml``): importing them was
    a fifth of each such process's time. The install tests clear it, to run commands as a user
    would.

    Every process started from here on (the test workers too) skips Hypothesis' own plugins:
    this venv has one, Trio's (Selenium's dependency, for the browser tests), which made
    ``import hypothesis`` take twice as long (230 against 115 ms). An install of the package
    has none."""
    os.environ.setdefault("HYPOTHESIS_NO_PLUGINS", "1")
    os.environ.setdefault("PYTEST_ADDOPTS", _skipped_plugins(config))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    """A test's pytester runs skip them too: its fixture cleared ``PYTEST_ADDOPTS`` (and its
    teardown puts back what was there)."""
    if "pytester" in getattr(item, "fixturenames", ()):
        os.environ["PYTEST_ADDOPTS"] = _skipped_plugins(item.config)


@pytest.fixture
def app() -> Iterator[Flask]:
    import orjson
    from flask.testing import FlaskClient

    from rotor_leads import spec
    from rotor_leads.mock_server import create_app

    class ValidatingClient(FlaskClient):
        """A Flask test client that checks each ``/leads`` response against ``spec`` (strictly)."""

        def open(self, *args: Any, **kwargs: Any) -> Any:
            response = super().open(*args, **kwargs)
            if response.request.path.endswith("/leads") and response.status_code != 204:
                spec.validate_response(
                    response.status_code, response.headers, orjson.loads(response.get_data()), strict=True
                )
            return response

    app = create_app(leads=120, seed=7)
    app.test_client_class = ValidatingClient
    yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def keep_hypothesis_profile() -> Iterator[None]:
    """For tests that run the contract suite in-process: it loads its "live" Hypothesis profile
    into this process; put ours back."""
    from hypothesis import settings

    name = settings.get_current_profile_name()
    yield
    settings.load_profile(name)
