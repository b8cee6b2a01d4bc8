"""Small real HTTP servers on 127.0.0.1 for the suite's self-tests: a fake API over a socket,
and servers that misbehave at the network level (drip the answer, say nothing)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

Handler = Callable[[httpx.Request], httpx.Response]


class _Quiet(BaseHTTPRequestHandler):
    """A request handler that logs nothing (the tests read what the suite says, not the server)."""

    def log_message(self, *args: object) -> None:
        pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve(api: Handler) -> Iterator[str]:
    """Serve ``api`` (an httpx request → response function) over HTTP; yields the base URL."""

    class Handle(_Quiet):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            request = httpx.Request("GET", f"http://127.0.0.1{self.path}", headers=dict(self.headers))
            response = api(request)
            body = response.content
            self.send_response(response.status_code)
            for name, value in response.headers.items():
                if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    with _running(Handle) as url:
        yield url


@contextmanager
def dripping(*, every: float, headers_first: bool = True) -> Iterator[str]:
    """A server that answers every request slowly: the status line and headers at once (or not),
    then one byte of the body every ``every`` seconds, for ever."""

    class Handle(_Quiet):
        def do_GET(self) -> None:  # noqa: N802
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
            if headers_first:
                self.wfile.write(head)
            drip = iter(b"" if headers_first else head)
            try:
                while True:
                    self.wfile.write(bytes([next(drip, 32)]))
                    self.wfile.flush()
                    time.sleep(every)
            except OSError:
                return

    with _running(Handle) as url:
        yield url


@contextmanager
def flooding(unit: bytes, total: int) -> Iterator[str]:
    """A server that answers every request 200 with a JSON body of ``unit`` repeated up to
    ``total`` bytes (``[unit,unit,…]``), made as it is sent (chunked, never held whole)."""

    class Handle(_Quiet):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            block = b"[" + (unit + b",") * (65536 // (len(unit) + 1))
            sent = 0
            try:
                while sent < total:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(block), block))
                    sent += len(block)
                    block = block.removeprefix(b"[")
                self.wfile.write(b"1\r\n0\r\n1\r\n]\r\n0\r\n\r\n")
            except OSError:
                return

    with _running(Handle) as url:
        yield url


@contextmanager
def silent() -> Iterator[str]:
    """A server that accepts connections and never says anything."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(2)
        for conn in held:
            conn.close()
        listener.close()


@contextmanager
def _running(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """``handler`` served on a free port of 127.0.0.1 in a thread; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
