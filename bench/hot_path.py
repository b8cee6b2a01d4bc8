"""Microseconds per in-process ``GET /leads`` (the WSGI call alone, no server, no sockets), and
optionally a cProfile of it: where the hot path spends its time. The keys are
``bench/keys.yaml``'s: by default both, alternated, so the cost of quota accounting shows as a
difference measured in the same minute.

    .venv/bin/python bench/hot_path.py [--key bench-limited] [--query limit=50] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time
from pathlib import Path
from typing import Any

from rotor_leads.mock_server import create_app
from rotor_leads.mock_server.engine._keys import load_keys_file

KEYS = Path(__file__).with_name("keys.yaml")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--key", action="append", help="a key of bench/keys.yaml (default: each of them)")
    parser.add_argument("--query", default="")
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    keys = load_keys_file(KEYS)
    app = create_app(leads=args.leads, seed=1, keys=keys)

    def call(key: str) -> bytes:
        environ: dict[str, Any] = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": "/leads",
            "QUERY_STRING": args.query,
            "SERVER_NAME": "bench",
            "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(),
            "HTTP_X_API_KEY": key,
        }
        return b"".join(app(environ, lambda status, headers, exc_info=None: None))

    names = args.key or list(keys)
    if unknown := [name for name in names if name not in keys]:
        parser.error(f"--key {unknown[0]!r} is not in {KEYS.name}; use one of {', '.join(keys)}")
    for name in names:
        for _ in range(2_000):  # warm the caches
            call(name)
    times: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(5):  # alternate the keys, so that both see the same machine
        for name in names:
            started = time.perf_counter()
            for _ in range(args.requests // 5):
                call(name)
            times[name].append((time.perf_counter() - started) / (args.requests // 5))
    for name in names:
        best = min(times[name])
        print(f"{best * 1e6:.1f} µs per request, best of 5 × {args.requests // 5} (key {name})")
    if args.profile:
        for name in names:
            profiler = cProfile.Profile()
            profiler.runcall(lambda name=name: [call(name) for _ in range(args.requests)])
            print(f"# key {name}")
            pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
