"""The machinery of the ``rotor_api`` fixture (see ``pytest_plugin``): the mock app behind a
respx route. Imported when a test first uses the fixture, not when pytest loads the plugin."""

from __future__ import annotations

import time
from collections import deque
from pathlib import Path
from typing import Any, Final

import httpx
import orjson
import respx
from flask import Flask

from rotor_leads import spec
from rotor_leads.mock_server.engine._config import MAX_DELAY_MS, MockConfig
from rotor_leads.mock_server.engine._keys import keys_from
from rotor_leads.mock_server.web._app import create_app
from rotor_leads.mock_server.web._leads import DELAYS_ENV

BASE_URL: Final = "https://api.getrotor.com/open-api"


#: The errors the reference page documents, which fail_next gives.
FAILURES: Final = (401, 403, 429, 500)


class RotorApi:
    """The fake Rotor API of one test: the mock app behind a respx route for
    ``https://api.getrotor.com/open-api/…``.

    ``use(...)`` and the ``rotor_api`` marker take the mock's options: ``leads``, ``seed``,
    ``fixtures`` (your own leads, as for ``--fixtures``), ``keys`` (as in a ``--keys`` file:
    ``{"k1": {"scopes": ["leads:read"], "daily_limit": 2}}``), ``profile`` (a behaviour profile
    file: answer as the profiled server did), ``latency``, ``fail_rate``, ``retry_after``.
    Raises ``ValueError`` (a :class:`~rotor_leads.mock_server.KeysFileError`
    or :class:`~rotor_leads.mock_server.FixtureError` among them) for a bad one, at once.
    """

    def __init__(self, router: respx.MockRouter, **config: Any) -> None:
        self._scenarios: deque[str] = deque()
        self.router = router  # add routes of your own for other hosts
        self.app = self._build(**config)
        self.route = router.route(url__startswith=BASE_URL + "/").mock(side_effect=self._answer)

    @staticmethod
    def _build(*, fixtures: list[dict[str, Any]] | None = None, **config: Any) -> Flask:
        if "keys" in config:
            config["keys"] = keys_from(config["keys"], where="rotor_api keys")
        if config.get("profile") is not None:
            config["profile"] = Path(config["profile"])
        app = create_app(MockConfig(**config))
        if fixtures is not None:
            app.extensions["rotor_mock"].load_leads(fixtures)
        return app

    def use(self, **config: Any) -> None:
        """Replace the data set and keys: ``use(leads=5, seed=2)``, ``use(fixtures=[...])``,
        ``use(keys={...})``. Quotas start afresh."""
        self.app = self._build(**config)

    def fail_next(self, status: int, *, times: int = 1) -> None:
        """Answer the next ``times`` requests with the documented ``status`` error, whatever
        the key: 401, 403, 429 (with the headers a spent quota sends) or 500.

        Raises ``ValueError`` for another status or ``times`` below 1.
        """
        if status not in FAILURES or isinstance(status, bool):
            codes = ", ".join(map(str, FAILURES))
            raise ValueError(f"fail_next({status!r}): give one of {codes}, the errors the API documents")
        if times < 1:
            raise ValueError(f"fail_next(..., times={times}): give 1 or more")
        self._scenarios.extend([f"code={status}"] * times)

    def delay_next(self, milliseconds: int, *, times: int = 1) -> None:
        """Delay the next ``times`` answers by ``milliseconds`` (a slow API, for your timeouts).

        Raises ``ValueError`` outside 0 to 30000 milliseconds, or for ``times`` below 1.
        """
        if not 0 <= milliseconds <= MAX_DELAY_MS or times < 1:
            raise ValueError(
                f"delay_next({milliseconds}, times={times}): give 0 to {MAX_DELAY_MS} ms, 1 or more times"
            )
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
        delays: list[float] = []

        def app(environ: dict[str, Any], start_response: Any) -> Any:
            environ[DELAYS_ENV] = delays  # the answer's delay comes back here, to be kept below
            return self.app(environ, start_response)

        response = httpx.WSGITransport(app=app).handle_request(forwarded)
        _wait(sum(delays), request)
        return httpx.Response(response.status_code, headers=response.headers, content=response.read())


def _wait(seconds: float, request: httpx.Request) -> None:
    """Hold the answer back ``seconds``, as a served mock would: a client whose read timeout is
    shorter gets ``httpx.ReadTimeout`` when it runs out, as it would over a socket."""
    if seconds <= 0:
        return
    read = request.extensions.get("timeout", {}).get("read")
    if read is not None and seconds > read:
        time.sleep(read)
        raise httpx.ReadTimeout(f"no answer within the read timeout of {read:g} s", request=request)
    time.sleep(seconds)
