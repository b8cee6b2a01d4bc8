"""A pytest fixture that fakes the Rotor API for your own code: ``rotor_api``.

While it is active, every ``httpx`` request to ``https://api.getrotor.com/open-api/…`` is
answered in-process by the mock (same data, keys, quotas and errors), through respx::

    def test_my_client(rotor_api):
        rotor_api.fail_next(429)                       # the next request gets the documented 429
        leads = my_client.all_leads(api_key="demo-key")
        assert len(leads) == rotor_api.total()
        assert rotor_api.calls.call_count == 2

Choose the data with ``@pytest.mark.rotor_api(leads=20, seed=4)`` (or ``fixtures=[...]``, your
own leads), or with ``rotor_api.use(...)`` inside the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from rotor_leads.mock_server._fixture import RotorApi


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "rotor_api(leads=N, seed=S, fixtures=[...], keys={...}, profile=FILE): the rotor_api fake's data"
        " and behaviour",
    )


@pytest.fixture
def rotor_api(request: pytest.FixtureRequest) -> Iterator[RotorApi]:
    """The Rotor API, faked in-process: every ``httpx`` request to
    ``https://api.getrotor.com/open-api/…`` is answered by the mock (same data, keys, quotas
    and errors); requests to other hosts raise. Choose the data with
    ``@pytest.mark.rotor_api(leads=250, seed=4)`` (or ``fixtures=[...]``, ``keys={...}`` as in a
    --keys file, ``profile="profile.json"`` to answer as a profiled server did), or
    ``rotor_api.use(...)``. Then ``rotor_api.fail_next(429, times=2)`` (401, 403,
    429, 500), ``rotor_api.delay_next(ms)``, ``rotor_api.total(stage="won")``, and
    ``rotor_api.calls`` (respx's call log). Demo keys: demo-key, demo-key-unlimited,
    demo-key-no-scope, demo-key-exhausted."""
    marker = request.node.get_closest_marker("rotor_api")
    config = dict(marker.kwargs) if marker else {}
    config.setdefault("leads", 60)
    # Imported here, not when pytest loads this plugin: a run that uses no rotor_api pays nothing.
    from rotor_leads.spec import MissingExtra, requires_extra

    problem = None
    try:
        with requires_extra("mock", what="the rotor_api fixture"):
            import respx

            from rotor_leads.mock_server._fixture import RotorApi
    except MissingExtra as exc:
        problem = str(exc)
    if problem is not None:
        pytest.fail(problem, pytrace=False)  # outside the except: one line, no chained error

    # Requests to other hosts raise (respx's default): a test never reaches the network by accident.
    with respx.mock(assert_all_called=False) as router:
        yield RotorApi(router, **config)
