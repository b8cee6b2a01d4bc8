"""The server under test, and the one client that talks to it: GET only, counted against a
hard request budget, never retrying, never showing a key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlencode

import httpx
import orjson

import spec

LIVE_BUDGET: Final = 150
TIMEOUT: Final = httpx.Timeout(20.0, connect=5.0)


class Secret:
    """An API key that never shows itself: not in ``repr``, ``str``, logs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({self})"

    def __str__(self) -> str:
        value = self._value
        return value[:3] + "…" + value[-2:] if len(value) >= 12 else "…"

    def __bool__(self) -> bool:
        return bool(self._value)


class RunStopped(Exception):
    """The run cannot go on (budget spent, main key rate limited, network down): no verdict."""


@dataclass(frozen=True)
class Exchange:
    """One request the suite sent and what came back."""

    query: spec.LeadQuery
    url: str  # path and query string, as sent (no key)
    status: int
    headers: Mapping[str, str]
    body: Any  # parsed JSON, or None if the body was not JSON
    text: str  # the start of the raw body, for messages
    key_name: str = "main"  # which key was used: main, none, no-scope, exhausted, unknown

    @property
    def leads(self) -> list[dict[str, Any]]:
        data = self.body.get("data") if isinstance(self.body, dict) else None
        return [lead for lead in data if isinstance(lead, dict)] if isinstance(data, list) else []

    @property
    def pagination(self) -> dict[str, Any]:
        pagination = self.body.get("pagination") if isinstance(self.body, dict) else None
        return pagination if isinstance(pagination, dict) else {}

    @property
    def numbers(self) -> tuple[int, int, int] | None:
        """``(page, limit, total)`` from the pagination, if all three are integers."""
        page, limit, total = (self.pagination.get(name) for name in ("page", "limit", "total"))
        if all(type(v) is int for v in (page, limit, total)):
            return int(page), int(limit), int(total)  # type: ignore[arg-type]
        return None

    def describe(self) -> str:
        return f"GET {self.url} ({self.key_name} key) → {self.status}"


@dataclass
class Target:
    """Where the suite sends requests, with which keys, and how many it may send."""

    client: httpx.Client = field(repr=False)
    label: str  # shown in the report header: a URL or "in-process mock"
    api_key: Secret
    no_scope_key: Secret | None = None
    exhausted_key: Secret | None = None
    budget: int | None = LIVE_BUDGET
    used: int = 0
    path: str = "/leads"
    exchanges: list[Exchange] = field(default_factory=list, repr=False)
    stopped: str | None = None  # once set, no further request is sent

    def get(
        self,
        query: spec.LeadQuery | None = None,
        *,
        params: Mapping[str, str] | None = None,
        key: str = "main",
    ) -> Exchange:
        """Send ``GET /leads`` with ``query`` (or raw ``params``) and the named key.

        Raises :class:`RunStopped` when the budget is spent or the main key is rate limited.
        """
        if self.stopped is None and self.budget is not None and self.used >= self.budget:
            self.stopped = (
                f"the request budget of {self.budget} is spent (--max-requests); the run stops here"
            )
        if self.stopped is not None:
            raise RunStopped(self.stopped)
        query = query or spec.LeadQuery()
        sent = dict(query.to_params() if params is None else params)
        url = self.path + ("?" + urlencode(sent) if sent else "")
        headers = {"rotor-api-version": "1.1.0"}
        secret = {"main": self.api_key, "no-scope": self.no_scope_key, "exhausted": self.exhausted_key}.get(
            key
        )
        if key == "unknown":
            headers[spec.API_KEY_HEADER] = "rotor-contract-suite-unknown-key"
        elif secret is not None:
            headers[spec.API_KEY_HEADER] = secret.reveal()
        self.used += 1
        try:
            response = self.client.get(url, headers=headers)
        except httpx.HTTPError as exc:
            raise RunStopped(f"GET {url} failed: {type(exc).__name__}: {exc}") from None
        exchange = _exchange(query, url, response, key)
        self.exchanges.append(exchange)
        if key == "main" and response.status_code == 429:
            self.stopped = (
                f"the main API key was refused with 429 after {self.used} requests"
                f" ({exchange.text[:120]}); its daily quota is spent, so no verdict can be given"
            )
            raise RunStopped(self.stopped)
        return exchange


def _exchange(query: spec.LeadQuery, url: str, response: httpx.Response, key: str) -> Exchange:
    raw = response.content
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        body = None
    return Exchange(
        query=query,
        url=url,
        status=response.status_code,
        headers=dict(response.headers),
        body=body,
        text=raw[:300].decode("utf-8", "replace"),
        key_name=key,
    )


def in_process_target(*, leads: int, seed: int) -> Target:
    """The mock, in-process through WSGI: no sockets, no budget."""
    from mock_server import create_app

    app = create_app(leads=leads, seed=seed)
    client = httpx.Client(
        transport=httpx.WSGITransport(app=app), base_url="http://mock.invalid", timeout=TIMEOUT
    )
    return Target(
        client=client,
        label=f"in-process mock ({leads} leads, seed {seed})",
        api_key=Secret("demo-key-unlimited"),
        no_scope_key=Secret("demo-key-no-scope"),
        exhausted_key=Secret("demo-key-exhausted"),
        budget=None,
    )


def url_target(
    base_url: str,
    *,
    api_key: str,
    no_scope_key: str | None,
    exhausted_key: str | None,
    budget: int | None,
) -> Target:
    """A server at ``base_url`` (``…/open-api`` or the mock's root)."""
    client = httpx.Client(base_url=base_url.rstrip("/"), timeout=TIMEOUT, follow_redirects=False)
    return Target(
        client=client,
        label=base_url,
        api_key=Secret(api_key),
        no_scope_key=Secret(no_scope_key) if no_scope_key else None,
        exhausted_key=Secret(exhausted_key) if exhausted_key else None,
        budget=budget,
    )
