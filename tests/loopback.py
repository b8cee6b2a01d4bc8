"""httpx's calls for the servers the tests start on 127.0.0.1, which speak plain HTTP.

Each is httpx's own with ``verify=False``: otherwise httpx builds a TLS context for every client
(every ``httpx.get`` too), loading the CA bundle, 28 ms of CPU each, and the tests made hundreds
of them for no TLS at all. Code that shows how a user calls the API keeps httpx's defaults.
"""

from __future__ import annotations

from typing import Any

import httpx


def get(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.get(url, verify=False, **kwargs)


def post(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.post(url, verify=False, **kwargs)


def put(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.put(url, verify=False, **kwargs)


def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
    return httpx.request(method, url, verify=False, **kwargs)


def client(**kwargs: Any) -> httpx.Client:
    return httpx.Client(verify=False, **kwargs)
