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

from collections import deque
from collections.abc import Iterator
from typing import Any, Final

import httpx
import orjson
import pytest
import respx
from flask import Flask
from rotor_leads import spec
from rotor_leads.mock_server._app import create_app
from rotor_leads.mock_server._config import MockConfig

BASE_URL: Final = "https://api.getrotor.com/open-api"


class RotorApi:
    """The fake API of one test: the mock app behind a respx route."""

    def __init__(self, router: respx.MockRouter, **config: Any) -> None:
        self._scenarios: deque[str] = deque()
        self.router = router  # add routes of your own for other hosts
        self.app = self._build(**config)
        self.route = router.route(url__startswith=BASE_URL + "/").mock(side_effect=self._answer)

    @staticmethod
    def _build(*, fixtures: list[dict[str, Any]] | None = None, **config: Any) -> Flask:
        app = create_app(MockConfig(**config))
        if fixtures is not None:
            app.extensions["rotor_mock"].load_leads(fixtures)
        return app

    def use(self, **config: Any) -> None:
        """Replace the data set and keys: ``use(leads=5, seed=2)``, ``use(fixtures=[...])``,
        ``use(keys={...})``. Quotas start afresh."""
        self.app = self._build(**config)

    def fail_next(self, status: int, *, times: int = 1) -> None:
        """Answer the next ``times`` requests with the documented ``status`` error (401, 403,
        429 or 500), whatever the key."""
        self._scenarios.extend([f"code={status}"] * times)

    def delay_next(self, milliseconds: int, *, times: int = 1) -> None:
        """Delay the next ``times`` answers (a slow API, for your timeouts)."""
        self._scenarios.extend([f"delay={milliseconds}"] * times)

    @property
    def calls(self) -> respx.models.CallList:
        """respx's call log: every request your code made, with its response."""
        return self.route.calls

    def total(self, **params: str) -> int:
        """How many leads the fake holds for ``params`` (no quota is spent)."""
        store = self.app.extensions["rotor_mock"].store
        query = spec.parse_query(params.items()).with_(limit=1)
        return int(orjson.loads(store.page(query))["pagination"]["total"])

    def _answer(self, request: httpx.Request) -> httpx.Response:
        path = request.url.raw_path.decode("ascii").removeprefix("/open-api")
        headers = dict(request.headers)
        if self._scenarios:
            headers["prefer"] = self._scenarios.popleft()
        forwarded = httpx.Request(
            request.method, "http://mock.invalid" + path, headers=headers, content=request.content
        )
        response = httpx.WSGITransport(app=self.app).handle_request(forwarded)
        return httpx.Response(response.status_code, headers=response.headers, content=response.read())


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "rotor_api(leads=N, seed=S, fixtures=[...], keys={...}): the data of the rotor_api fake"
    )


@pytest.fixture
def rotor_api(request: pytest.FixtureRequest) -> Iterator[RotorApi]:
    """The Rotor API, faked in-process for ``httpx`` (see :class:`RotorApi`)."""
    marker = request.node.get_closest_marker("rotor_api")
    config = dict(marker.kwargs) if marker else {}
    config.setdefault("leads", 60)
    # Requests to other hosts raise (respx's default): a test never reaches the network by accident.
    with respx.mock(assert_all_called=False) as router:
        yield RotorApi(router, **config)
