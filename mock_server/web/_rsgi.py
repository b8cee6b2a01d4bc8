"""``rotor-mock serve``'s front door: granian's RSGI interface in front of the mock.

Waiting costs no thread here: a ``Prefer: delay`` or ``--latency`` is an ``asyncio.sleep``,
and a request body is read as it arrives, within a deadline and a size limit, so slow clients
cannot starve the others. ``/leads`` is answered by ``_leads``' pipeline on the event loop (a
cached page is a dictionary lookup; a page not cached is read in a thread). Every other path goes
to the Flask app in a thread, through a WSGI environ built here. Header names are read exactly as
sent: only ``x-api-key`` is the key (``x_api_key`` is another header, which WSGI would have merged).

Why a WSGI environ of our own: granian serves one interface per server, and offers no adapter
that runs a WSGI app inside an RSGI one. Serving everything on its WSGI interface would give back
a thread to every delayed or slow request; its ASGI interface would need a second adapter
(a2wsgi) in front of Flask. The admin and documentation paths are not hot: the environ is built
for them as PEP 3333 says, raw bytes as latin-1 text.
"""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final

from flask import Flask

from rotor_leads import spec
from rotor_leads.mock_server.engine._runtime import Runtime
from rotor_leads.mock_server.web._errors import JSON, ApiError
from rotor_leads.mock_server.web._leads import (
    PATHS,
    Answer,
    LeadsPipeline,
    LeadsRequest,
    Read,
    Spend,
    Wait,
    crash,
)

#: Threads per worker for Flask routes and for pages not cached.
THREADS: Final = 16
_BODY_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})

TOO_LARGE: Final = spec.ErrorSpec(
    413, "PAYLOAD_TOO_LARGE", "The request body is larger than {limit} bytes.", "schema.shape"
)
TOO_SLOW: Final = spec.ErrorSpec(
    408,
    "REQUEST_TIMEOUT",
    "The request body did not arrive in full within {seconds} seconds.",
    "schema.shape",
)


class RsgiApp:
    """The mock on granian's RSGI interface (``__rsgi__``), around the Flask app of ``create_app``."""

    def __init__(self, app: Flask, *, threads: int = THREADS) -> None:
        self.app = app
        self.rt: Runtime = app.extensions["rotor_mock"]
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="rotor-mock")
        self.pipeline = LeadsPipeline(self.rt)

    async def __rsgi__(self, scope: Any, proto: Any) -> None:
        if scope.proto != "http":
            return
        try:
            if scope.path in PATHS and scope.method != "OPTIONS":
                await self._leads(scope, proto)
            else:
                await self._flask(scope, proto)
        except Exception:
            error = crash(self.rt, scope.path[:200])
            proto.response_bytes(error.status, [("content-type", JSON)], error.render())

    async def _leads(self, scope: Any, proto: Any) -> None:
        headers_in = scope.headers
        request = LeadsRequest(
            scope.method,
            headers_in.get(spec.API_KEY_HEADER),
            headers_in.get("prefer"),
            _raw(scope.query_string),
        )
        rt, steps, loop = self.rt, self.pipeline.answer(request, scope.path), asyncio.get_running_loop()
        step = next(steps)
        while type(step) is not Answer:
            try:
                if type(step) is Spend:
                    done: Any = await rt.state.spend_async(step.key, step.now)
                elif type(step) is Read:
                    done = await loop.run_in_executor(self.pool, step.store.page, step.query)
                elif type(step) is Wait:
                    await asyncio.sleep(step.seconds)
                    done = None
                else:  # catching up may rebuild the data set: not on the event loop
                    await loop.run_in_executor(self.pool, rt.sync)
                    done = None
            except Exception as exc:  # the pipeline answers it
                step = steps.throw(exc)
            else:
                step = steps.send(done)
        proto.response_bytes(step.status, step.headers, step.body)

    async def _flask(self, scope: Any, proto: Any) -> None:
        try:
            body = await self._body(scope, proto)
        except ApiError as error:
            proto.response_bytes(
                error.status, [("content-type", JSON), ("connection", "close")], error.render()
            )
            return
        environ = _environ(scope, body)
        loop = asyncio.get_running_loop()
        status, headers, content = await loop.run_in_executor(self.pool, _call, self.app, environ)
        proto.response_bytes(status, headers, content)

    async def _body(self, scope: Any, proto: Any) -> bytes:
        """The request body, read as it arrives, within :data:`BODY_SECONDS` and the size limit.
        Raises :class:`ApiError` (408, 413)."""
        limit = self.rt.config.max_body_bytes
        length = scope.headers.get("content-length")
        if scope.method not in _BODY_METHODS and not length:
            return b""
        if length is not None and (not length.isascii() or not length.isdigit() or int(length) > limit):
            raise ApiError(TOO_LARGE, limit=limit)
        chunks: list[bytes] = []
        size = 0

        async def read() -> None:
            nonlocal size
            async for chunk in proto:
                size += len(chunk)
                if size > limit:
                    raise ApiError(TOO_LARGE, limit=limit)
                chunks.append(chunk)

        try:
            await asyncio.wait_for(read(), self.rt.config.body_seconds)
        except TimeoutError:
            raise ApiError(TOO_SLOW, seconds=f"{self.rt.config.body_seconds:g}") from None
        return b"".join(chunks)


def _raw(text: str) -> bytes:
    """The bytes a client sent of a path or query, which granian hands over decoded as UTF-8
    (curl sends UTF-8 without percent-encoding it; granian refuses, with an empty 400, bytes
    that are not UTF-8 before any app sees them)."""
    return text.encode("utf-8", "surrogateescape")


def _environ(scope: Any, body: bytes) -> dict[str, Any]:
    """A WSGI environ for one RSGI request (PEP 3333: the path and query as latin-1 text of
    their bytes, whatever characters those bytes are in UTF-8)."""
    host, _, port = (scope.server or "127.0.0.1:80").rpartition(":")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope.method,
        "SCRIPT_NAME": "",
        "PATH_INFO": _raw(scope.path).decode("latin-1"),
        "QUERY_STRING": _raw(scope.query_string).decode("latin-1"),
        "SERVER_NAME": host,
        "SERVER_PORT": port,
        "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
        "REMOTE_ADDR": (scope.client or "").rpartition(":")[0],
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "CONTENT_LENGTH": str(len(body)) if body else "",
    }
    for name, value in scope.headers.items():
        if "_" in name:  # as Werkzeug's server does: a_b must not pass for a-b
            continue
        if name == "content-type":
            environ["CONTENT_TYPE"] = value
        elif name != "content-length":
            key = "HTTP_" + name.upper().replace("-", "_")
            environ[key] = f"{environ[key]}, {value}" if key in environ else value
    return environ


def _call(
    app: Callable[..., Iterable[bytes]], environ: dict[str, Any]
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Run the WSGI ``app`` on ``environ``: status, headers, body."""
    started: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        started["status"], started["headers"] = status, headers

    result = app(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    status = int(str(started["status"]).split(" ", 1)[0])
    headers = [(k, v) for k, v in started["headers"] if k.lower() != "content-length"]
    return status, headers, body
