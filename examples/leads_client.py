"""A small Rotor client: page through every lead, backing off when the daily quota says so."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx

BASE_URL = "https://api.getrotor.com/open-api"


class QuotaExhausted(RuntimeError):
    """The API kept answering 429 after every retry."""


def iter_leads(
    api_key: str,
    *,
    page_size: int = 100,
    retries: int = 3,
    client: httpx.Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
    **filters: str,
) -> Iterator[dict[str, Any]]:
    """Every lead matching ``filters``, newest first, one page at a time.

    On a 429 it waits ``Retry-After`` seconds (at most 60) and tries again, ``retries`` times,
    then raises :class:`QuotaExhausted`. Other errors raise ``httpx.HTTPStatusError``.
    """
    http = client or httpx.Client(base_url=BASE_URL, timeout=10)
    page = 1
    while True:
        for attempt in range(retries + 1):
            response = http.get(
                "/leads",
                params={**filters, "limit": page_size, "page": page},
                headers={"x-api-key": api_key},
            )
            if response.status_code != 429:
                break
            if attempt == retries:
                raise QuotaExhausted(response.json().get("message", "rate limited"))
            sleep(min(60.0, float(response.headers.get("Retry-After", "1"))))
        response.raise_for_status()
        body = response.json()
        yield from body["data"]
        if not body["pagination"]["has_more"]:
            return
        page += 1
