"""The server under test, and the one client that talks to it: GET only, counted against a
hard request budget, each request within a total deadline, never retrying, never showing a key.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Final, TypeGuard
from urllib.parse import urlencode

import httpx
import orjson
import pytest

from rotor_leads import spec
from rotor_leads.contract_tests._privacy import PersonalData
from rotor_leads.contract_tests._secrets import Redactor, Secret

_log = logging.getLogger("contract_tests")
LIVE_BUDGET: Final = 150
#: Seconds each request may take in all: connect, headers and body (``--request-timeout``).
DEFAULT_DEADLINE: Final = 20.0
#: Megabytes of one answer the suite reads, decompressed (``--max-response-mb``): the whole
#: listing at limit=1000 is about one. Beyond it the answer is not read further.
DEFAULT_MAX_RESPONSE_MB: Final = 64
#: What a run reads in all, in answers' allowances: a hostile target cannot grow it further.
RUN_ALLOWANCE: Final = 4
#: JSON values an answer may hold to be parsed (1000 leads hold about 30,000): a small body of
#: ``[{},{},…]`` takes thirty times its size once parsed.
MAX_JSON_VALUES: Final = 1_000_000
#: The header the reference page shows, sent with every request as it shows it.
API_VERSION_HEADER: Final = ("rotor-api-version", "1.1.0")
UNKNOWN_KEY: Final = "rotor-contract-suite-unknown-key"
#: The keys a request can be sent with: the three given ones, an unknown one, or none.
KEY_OPTIONS: Final = {"main": "--api-key", "no-scope": "--no-scope-key", "exhausted": "--exhausted-key"}


class RunStopped(Exception):
    """The run cannot go on (budget spent, main key rate limited, deadline, network down):
    no verdict can be given. ``cause`` is the network error or status that stopped it."""

    def __init__(self, reason: str, cause: BaseException | int | None = None) -> None:
        super().__init__(reason)
        self.cause = cause


@dataclass(frozen=True)
class Exchange:
    """One request the suite sent and what came back (every key already redacted from it)."""

    query: spec.LeadQuery
    url: str  # path and query string, as sent (no key)
    status: int
    headers: Mapping[str, str]
    body: Any  # parsed JSON, or None if the body was not JSON
    text: str  # the start of the raw body, for messages
    key_name: str = "main"  # which key was used: main, none, no-scope, exhausted, unknown
    raw_params: bool = False  # sent as raw parameters (maybe bad ones), not as ``query``

    def __repr__(self) -> str:
        # What -l shows of an exchange in a failure (whole, with -vv): what was asked and a
        # summary of the answer; a listing's thousand leads in every frame made gigabytes.
        leads = f"{len(self.leads)} leads, " if isinstance(self.body, dict) else ""
        return f"Exchange({self.describe()}: {leads}pagination={self.pagination!r}, text={self.text[:120]!r})"

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
        """``(page, limit, total)`` from the pagination, if all three are whole numbers."""
        whole = [int(v) for v in (self.pagination.get(n) for n in ("page", "limit", "total")) if _whole(v)]
        return (whole[0], whole[1], whole[2]) if len(whole) == 3 else None

    def describe(self) -> str:
        return f"GET {self.url} ({self.key_name} key) → {self.status}"


def _whole(value: Any) -> TypeGuard[int | float]:
    # JSON does not tell 12 from 12.0, and JSON Schema's "integer" accepts both.
    return (type(value) is int) or (type(value) is float and value.is_integer())


class AnswerTooLarge(Exception):
    """An answer larger than the suite reads (what it is, in words)."""


@dataclass(frozen=True)
class Answer:
    """What came back: status, headers and the body, read in full within the limits."""

    status_code: int
    headers: httpx.Headers
    content: bytes


class _Sender:
    """Sends one request within a total deadline (connect + headers + body).

    httpx's timeouts bound each network operation, so a server that drips one byte every few
    seconds would never time out. Here the request runs in a daemon thread; at the deadline the
    connection's socket is shut down (it is known from httpx's ``trace`` extension), which wakes
    the thread, and the caller moves on even if it does not wake.
    """

    def __init__(self, client: httpx.Client, deadline: float | None, max_bytes: int) -> None:
        self.client = client
        self.deadline = deadline
        self.max_bytes = max_bytes
        self._stream: Any = None  # the network stream of the connection in use

    def _trace(self, event: str, info: Mapping[str, Any]) -> None:
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            self._stream = info.get("return_value") or self._stream

    def _fetch(self, url: str, headers: Mapping[str, str]) -> Answer:
        extensions = {"trace": self._trace} if self.deadline is not None else {}
        too_large = AnswerTooLarge(f"the answer is larger than {self.max_bytes / 2**20:g} MB")
        with self.client.stream("GET", url, headers=headers, extensions=extensions) as response:
            length = response.headers.get("content-length", "")
            if length.isdigit() and int(length) > self.max_bytes:
                raise too_large  # not a byte of it read
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():  # decompressed: a gzip bomb is counted as it opens
                size += len(chunk)
                if size > self.max_bytes:
                    raise too_large
                chunks.append(chunk)
        return Answer(response.status_code, response.headers, b"".join(chunks))

    def send(self, url: str, headers: Mapping[str, str]) -> Answer:
        """The answer; raises :class:`TimeoutError` past the deadline, :class:`AnswerTooLarge`,
        ``httpx.HTTPError``."""
        if self.deadline is None:
            return self._fetch(url, headers)
        outcome: dict[str, Any] = {}

        def work() -> None:
            try:
                outcome["response"] = self._fetch(url, headers)
            except BaseException as exc:  # handed to the caller
                outcome["error"] = exc

        worker = threading.Thread(target=work, name="rotor-contract-request", daemon=True)
        worker.start()
        worker.join(self.deadline)
        if worker.is_alive():
            self._abort()
            worker.join(2.0)
            raise TimeoutError(f"no complete answer within {self.deadline:g} s")
        if isinstance(outcome.get("error"), httpx.TimeoutException):
            # httpx's own timeout (the same span, per read) can fire first: the same verdict.
            raise TimeoutError(f"no complete answer within {self.deadline:g} s") from None
        if "error" in outcome:
            raise outcome["error"]
        answer: Answer = outcome["response"]
        return answer

    def _abort(self) -> None:
        sock = self._stream.get_extra_info("socket") if self._stream is not None else None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@dataclass
class Target:
    """Where the suite sends requests, with which keys, and how many it may send."""

    client: httpx.Client = field(repr=False)
    label: str  # shown in the report header: a URL or "in-process mock"
    api_key: Secret
    no_scope_key: Secret | None = None
    exhausted_key: Secret | None = None
    budget: int | None = LIVE_BUDGET
    deadline: float | None = DEFAULT_DEADLINE
    used: int = 0
    path: str = "/leads"
    exchanges: list[Exchange] = field(default_factory=list, repr=False)
    stopped: str | None = None  # once set, no further request is sent
    #: Keys that got a 429 (other than the exhausted key): no more requests are sent with them.
    spent_keys: dict[str, str] = field(default_factory=dict)
    redactor: Redactor = field(default_factory=Redactor, repr=False)
    base_url: str | None = None  # None: the in-process mock
    max_response_mb: int = DEFAULT_MAX_RESPONSE_MB
    received: int = 0  # bytes of answers read so far

    def __post_init__(self) -> None:
        self._sender = _Sender(self.client, self.deadline, self.max_response_mb << 20)

    @property
    def secrets(self) -> list[Secret]:
        return [k for k in (self.api_key, self.no_scope_key, self.exhausted_key) if k]

    def has_key(self, key: str) -> bool:
        return key in ("none", "unknown") or self._secret(key) is not None

    def _secret(self, key: str) -> Secret | None:
        return {"main": self.api_key, "no-scope": self.no_scope_key, "exhausted": self.exhausted_key}.get(key)

    def _headers(self, key: str) -> dict[str, str]:
        headers = dict([API_VERSION_HEADER])
        if key == "unknown":
            headers[spec.API_KEY_HEADER] = UNKNOWN_KEY
        else:
            secret = self._secret(key)
            if secret is not None:
                headers[spec.API_KEY_HEADER] = secret.get_secret_value()
        return headers

    def stop(self, reason: str, cause: BaseException | int | None = None) -> RunStopped:
        self.stopped = self.stopped or reason
        return RunStopped(self.stopped, cause)

    def get(
        self,
        query: spec.LeadQuery | None = None,
        *,
        params: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
        key: str = "main",
    ) -> Exchange:
        """Send ``GET /leads`` with ``query`` (or raw ``params``: a mapping, or pairs for a
        parameter given twice) and the named key.

        Raises :class:`RunStopped` when the budget is spent, the main key is rate limited or the
        server cannot be reached in time; skips the test when ``key`` was rate limited before.
        """
        if self.stopped is None and self.budget is not None and self.used >= self.budget:
            self.stop(f"the request budget of {self.budget} is spent (--max-requests); the run stops here")
        if self.stopped is not None:
            raise RunStopped(self.stopped)
        if key in self.spent_keys:
            pytest.skip(self.spent_keys[key])
        query = query or spec.LeadQuery()
        if params is None:
            sent = list(query.to_params().items())
        else:
            sent = list(params.items()) if isinstance(params, Mapping) else list(params)
        url = self.path + ("?" + urlencode(sent) if sent else "")
        self.used += 1
        try:
            response = self._sender.send(url, self._headers(key))
            self.received += len(response.content)
            allowance = RUN_ALLOWANCE * self.max_response_mb
            if self.received > allowance << 20:
                raise AnswerTooLarge(f"the answers so far hold more than {allowance} MB in all")
            exchange = _exchange(query, url, response, key, self.redactor, raw_params=params is not None)
        except TimeoutError as exc:
            reason = f"GET {url}: {exc} (--request-timeout); the server is too slow to judge"
            raise self.stop(reason, exc) from None
        except AnswerTooLarge as exc:
            reason = f"GET {url}: {exc}, more than the suite reads (--max-response-mb); no verdict"
            raise self.stop(reason, exc) from None
        except httpx.HTTPError as exc:
            message = _hint(self.redactor.text(str(exc)))
            raise self.stop(f"GET {url} failed: {type(exc).__name__}: {message}", exc) from None
        self.exchanges.append(exchange)
        _log.debug("%s %s", exchange.describe(), exchange.text[:200])
        if response.status_code == 429 and key == "main":
            raise self.stop(
                f"the key given with --api-key was refused with 429 after {self.used} requests"
                f" ({exchange.text[:120]}); its daily quota is spent, so no verdict can be given",
                429,
            )
        if response.status_code == 429 and key != "exhausted":
            option = KEY_OPTIONS.get(key)
            who = f"the key given with {option}" if option else f"a request with the {key} key"
            self.spent_keys[key] = (
                f"{who} was refused with 429 (rate limited): its checks are skipped, without a verdict"
            )
            pytest.skip(self.spent_keys[key])
        return exchange


def _hint(message: str) -> str:
    """An error's message, with what to do where it is a common mistake."""
    if "WRONG_VERSION_NUMBER" in message or "wrong version number" in message.lower():
        return f"{message} — the server speaks plain HTTP there: give --base-url as http://, not https://"
    return message


def _exchange(
    query: spec.LeadQuery,
    url: str,
    response: Answer,
    key: str,
    redactor: Redactor,
    *,
    raw_params: bool = False,
) -> Exchange:
    if (
        response.content.count(b",") + response.content.count(b"{") + response.content.count(b"[")
        > MAX_JSON_VALUES
    ):
        raise AnswerTooLarge(f"the answer holds more than {MAX_JSON_VALUES:,} JSON values")
    raw = redactor.bytes(response.content)
    try:
        body = redactor.decoded(raw)
    except orjson.JSONDecodeError:
        body = None
    if redactor.personal is not None and isinstance(body, dict) and isinstance(body.get("data"), list):
        redactor.personal.learn(body["data"])  # before anything about them is shown
    return Exchange(
        query=query,
        url=url,
        status=response.status_code,
        headers={k: redactor.text(v) for k, v in response.headers.items()},
        body=body,
        # Cut after redacting, so that no key is cut in two (its start would show).
        text=redactor.text(raw[:4096].decode("utf-8", "replace"))[:300],
        key_name=key,
        raw_params=raw_params,
    )


#: The in-process mock's main key: a daily limit no run reaches, so that answers carry the
#: rate-limit headers a real key's do.
IN_PROCESS_KEY: Final = "contract-suite-key"


def in_process_target(*, leads: int, seed: int, profile: str | None = None) -> Target:
    """The mock, in-process through WSGI (serving the behaviour ``profile`` file, if given): no
    sockets, no budget, no deadline."""
    from rotor_leads.mock_server import create_app
    from rotor_leads.mock_server.engine._keys import DEMO_KEYS, keys_from

    keys = {
        **DEMO_KEYS,
        **keys_from({IN_PROCESS_KEY: {"scopes": [spec.REQUIRED_SCOPE], "daily_limit": 10**9}}, where="suite"),
    }
    app = create_app(leads=leads, seed=seed, keys=keys, profile=Path(profile) if profile else None)
    client = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://mock.invalid")
    served = f", serving {profile}" if profile else ""
    return Target(
        client=client,
        label=f"in-process mock ({leads} leads, seed {seed}{served})",
        api_key=Secret(IN_PROCESS_KEY),
        no_scope_key=Secret("demo-key-no-scope"),
        exhausted_key=Secret("demo-key-exhausted"),
        budget=None,
        deadline=None,
    )


@cache
def _tls() -> ssl.SSLContext:
    """Certificates checked against certifi's bundle, as httpx does without ``trust_env``:
    loaded once per process (20 ms each time otherwise, for every target made)."""
    return httpx.create_ssl_context(trust_env=False)


def url_target(
    base_url: str,
    *,
    api_key: str,
    no_scope_key: str | None,
    exhausted_key: str | None,
    budget: int | None,
    deadline: float = DEFAULT_DEADLINE,
    max_response_mb: int = DEFAULT_MAX_RESPONSE_MB,
    show_personal_data: bool = False,
) -> Target:
    """A server at ``base_url`` (``…/open-api`` or the mock's root). Sends nothing yet. Its
    leads' personal values are masked in what the suite shows, unless ``show_personal_data``.

    Raises ``ValueError`` saying what is wrong with a ``base_url`` that is not an http(s) URL.
    """
    check_base_url(base_url)
    secrets = [Secret(k) for k in (api_key, no_scope_key, exhausted_key) if k]
    client = httpx.Client(
        base_url=base_url.rstrip("/"),
        timeout=httpx.Timeout(deadline, connect=min(deadline, 10.0)),
        follow_redirects=False,
        # One connection: the one whose socket the deadline shuts down is the one in use.
        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        trust_env=False,
        verify=_tls(),
    )
    return Target(
        client=client,
        label=base_url,
        api_key=Secret(api_key),
        no_scope_key=Secret(no_scope_key) if no_scope_key else None,
        exhausted_key=Secret(exhausted_key) if exhausted_key else None,
        budget=budget,
        deadline=deadline,
        redactor=Redactor(secrets, personal=None if show_personal_data else PersonalData()),
        base_url=base_url,
        max_response_mb=max_response_mb,
    )


def check_base_url(base_url: str) -> None:
    """Raises ``ValueError`` saying what is wrong with ``base_url`` for the suite, if anything."""
    example = "give it as http(s)://HOST[:PORT]/PATH, e.g. https://api.getrotor.com/open-api"
    try:
        url = httpx.URL(base_url)
    except httpx.InvalidURL as exc:
        raise ValueError(f"{base_url!r} is not a URL ({exc}): {example}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"{base_url!r} is not an http(s) URL: {example}")


def preflight(target: Target) -> tuple[Exchange | None, str | None]:
    """One ``GET /leads`` with the main key, before the budget is spent on checks.

    Returns the exchange, and a line saying what the user must fix if the answer shows that no
    verdict is possible (a rejected key, a wrong URL, nothing listening, not the API).
    """
    url = httpx.URL(target.base_url or "http://mock.invalid")  # checked by url_target
    try:
        exchange = target.get()
    except RunStopped as stopped:
        if isinstance(stopped.cause, httpx.ConnectError | httpx.ConnectTimeout):
            port = url.port or {"http": 80, "https": 443}[url.scheme]
            detail = _hint(target.redactor.text(str(stopped.cause)) or type(stopped.cause).__name__)
            return None, (
                f"cannot connect to {url.host}:{port} ({detail}): is the server running there, and"
                " is --base-url right?"
            )
        if stopped.cause == 429:
            return None, (
                "the key given with --api-key is rate limited (429): its daily quota is spent;"
                " run again after the quota resets"
            )
        return None, str(stopped)
    where = f"{target.label.rstrip('/')}{target.path}"
    body = exchange.body if isinstance(exchange.body, dict) else {}
    said = body.get("error_code") or body.get("message") or exchange.text[:80].strip()
    if exchange.status in (401, 403):
        return exchange, (
            f"the key given with --api-key was rejected: {exchange.status} {said} — check the key"
            " (it needs the scope leads:read)"
        )
    if exchange.status in (404, 405):
        hint = (
            "give the base URL without /leads"
            if url.path.rstrip("/").endswith("/leads")
            else "check --base-url (the real API's is https://api.getrotor.com/open-api)"
        )
        return exchange, f"no GET /leads at {where} ({exchange.status}): {hint}"
    if 300 <= exchange.status < 400:
        location = exchange.headers.get("location", "?")
        return exchange, (
            f"GET {where} is redirected ({exchange.status}) to {location}: give --base-url as the"
            " address it redirects to"
        )
    if exchange.status < 300 and exchange.body is None:
        kind = exchange.headers.get("content-type", "no content type")
        return exchange, (
            f"the answer to GET {where} is not JSON ({kind}: {exchange.text[:60]!r}): is --base-url"
            " the API's address?"
        )
    return exchange, None
