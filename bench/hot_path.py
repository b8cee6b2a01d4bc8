"""Microseconds per in-process ``GET /leads`` (the WSGI call alone, no server, no sockets), and
optionally a cProfile of it: where the hot path spends its time.

    .venv/bin/python bench/hot_path.py [--key demo-key] [--query limit=50] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time
from typing import Any

from mock_server import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--key", default="demo-key-unlimited")
    parser.add_argument("--query", default="")
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    app = create_app(leads=args.leads, seed=1)

    def call() -> bytes:
        environ: dict[str, Any] = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": "/leads",
            "QUERY_STRING": args.query,
            "SERVER_NAME": "bench",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(),
            "HTTP_X_API_KEY": args.key,
        }
        return b"".join(app(environ, lambda status, headers, exc_info=None: None))

    for _ in range(2_000):  # warm the caches
        call()
    started = time.perf_counter()
    for _ in range(args.requests):
        call()
    elapsed = time.perf_counter() - started
    print(f"{elapsed / args.requests * 1e6:.1f} µs per request ({args.requests} requests, key {args.key})")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(lambda: [call() for _ in range(args.requests)])
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
