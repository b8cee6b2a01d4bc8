"""Benchmark the mock side by side with WireMock and with the pre-serialized-bytes ceiling.

    python bench/run.py [--size 10000] [--duration 10] [--rounds 3]

Everything listens on 127.0.0.1 and every load is bounded in time. Throughput comes from wrk
(-t2 -c32), servers alternated round by round, medians reported; the cost of quota accounting
from wrk runs that switch between an unlimited and a limited key every 200 ms (and between the
unlimited key and itself, for the noise), on every backend of the shared state; latencies of
distinct (cache-missing) queries from 4 concurrent Python clients.

The jobs live beside: _processes (servers), _wrk (load), _wiremock (the peer), _quota, _latency.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from _latency import needles_from, report_latency
from _processes import free_port, rss_mb, serving
from _quota import UNLIMITED, quota_costs, report_quota
from _wiremock import wiremock_jar, wiremock_root
from _wrk import WrkResult, wrk

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
VENV_BIN = Path(sys.executable).parent


# -- the run ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency-requests", type=int, default=400)
    parser.add_argument("--quota-rounds", type=int, default=8, help="rounds of the quota cost and its noise")
    parser.add_argument("--quota-duration", type=int, default=5, help="seconds per quota run")
    args = parser.parse_args()
    if min(args.rounds, args.quota_rounds, args.duration) < 1:
        parser.error("--rounds, --quota-rounds and --duration must be 1 or more")
    if args.quota_duration < 2:
        parser.error("--quota-duration must be 2 or more (seconds of 200 ms phases of each key)")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: run bench/setup.sh (make bench does)")
    logs = Path(tempfile.mkdtemp(prefix="rotor-bench-"))
    CACHE.mkdir(exist_ok=True)
    mock_port, wm_port, ceiling_port = free_port(), free_port(), free_port()
    mock = f"http://127.0.0.1:{mock_port}"

    def mock_command(port: int) -> list[str]:
        cmd = [str(VENV_BIN / "rotor-mock"), "serve", "--port", str(port), "--workers", "2"]
        cmd += ["--leads", str(args.size), "--seed", "1", "--keys", str(HERE / "keys.yaml")]
        if args.size > 50_000:
            cmd += ["--db", str(CACHE / f"leads-{args.size}-seed1.sqlite")]
        return cmd

    mock_cmd = mock_command(mock_port)
    print(
        f"# Rotor mock benchmark: {args.size} leads, wrk -t2 -c32 -d{args.duration}s, "
        f"{args.rounds} rounds alternated, medians\n"
    )
    print(
        f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; "
        f"{subprocess.run(['java', '-version'], capture_output=True, text=True).stderr.splitlines()[0]}"
    )

    with serving(mock_cmd, f"{mock}/__admin/health", log=logs / "mock.log") as (mock_proc, first_start):
        print(f"mock first start (builds the data set if needed): {first_start:.1f} s")
        bodies = {
            "page50": httpx.get(f"{mock}/leads", headers={"x-api-key": UNLIMITED}, timeout=30).content,
            "page1000": httpx.get(
                f"{mock}/leads?limit=1000", headers={"x-api-key": UNLIMITED}, timeout=30
            ).content,
        }
        needles = needles_from(mock, UNLIMITED, random.Random(7))
    # A second start: the data set is reused (from the --db file for large sizes).
    with serving(mock_cmd, f"{mock}/__admin/health", log=logs / "mock2.log") as (mock_proc, restart):
        print(f"mock second start (reuses the data set): {restart:.2f} s\n")
        for name, body in bodies.items():
            (logs / f"{name}.json").write_bytes(body)
        ceiling_cmd = [
            str(VENV_BIN / "granian"),
            "--interface",
            "wsgi",
            "--workers",
            "2",
            "--no-ws",
            "--port",
            str(ceiling_port),
            "--log-level",
            "warning",
            "ceiling:app",
        ]
        wm_cmd = [
            "java",
            "-jar",
            str(wiremock_jar()),
            "--port",
            str(wm_port),
            "--root-dir",
            str(wiremock_root(bodies)),
            "--disable-banner",
            "--no-request-journal",
            "--disable-request-logging",
        ]
        with (
            serving(wm_cmd, f"http://127.0.0.1:{wm_port}/__admin/health", log=logs / "wiremock.log") as (
                wm_proc,
                _,
            ),
            serving(
                ceiling_cmd,
                f"http://127.0.0.1:{ceiling_port}/",
                log=logs / "ceiling.log",
                env={"BENCH_BODY": str(logs / "page50.json"), "PYTHONPATH": str(HERE)},
            ) as (ceil_proc, _),
        ):
            wiremock = f"http://127.0.0.1:{wm_port}"
            ceiling = f"http://127.0.0.1:{ceiling_port}"
            for url in (f"{wiremock}/leads", f"{wiremock}/leads?limit=1000"):  # JIT warm-up
                wrk(url, key=None, duration=min(10, args.duration))
            runs: dict[str, tuple[str, str | None]] = {
                "mock, 50 leads": (f"{mock}/leads", UNLIMITED),
                "WireMock static stub, same bytes": (f"{wiremock}/leads", None),
                "ceiling: pre-serialized bytes, granian 2 workers": (f"{ceiling}/leads", None),
                "mock, 1000 leads": (f"{mock}/leads?limit=1000", UNLIMITED),
                "WireMock, 1000 leads, same bytes": (f"{wiremock}/leads?limit=1000", None),
            }
            results: dict[str, list[WrkResult]] = {name: [] for name in runs}
            for _ in range(args.rounds):
                for name, (url, key) in runs.items():
                    results[name].append(wrk(url, key=key, duration=args.duration))
            memory = {"mock": rss_mb(mock_proc.pid), "WireMock": rss_mb(wm_proc.pid)}
        report_throughput(results)
        print(
            f"\nRSS per process (MB): mock {', '.join(f'{m:.0f}' for m in memory['mock'])}; "
            f"WireMock {', '.join(f'{m:.0f}' for m in memory['WireMock'])}\n"
        )
        report_latency(mock, args.size, needles, args.latency_requests)
        print(
            f"\nRSS per mock process after the latency runs (MB): "
            f"{', '.join(f'{m:.0f}' for m in rss_mb(mock_proc.pid))}"
        )
    # Each quota round starts a mock of its own: with --db (large sizes) on the same file, which
    # one server at a time may serve, so after the one above has stopped.
    print()
    report_quota(quota_by_backend(mock_command, args, logs), duration=args.quota_duration)
    print(f"\nlogs: {logs}")


def quota_by_backend(
    mock_command: Callable[[int], list[str]], args: argparse.Namespace, logs: Path
) -> dict[str, dict[str, list[float]]]:
    """The quota cost on each backend: the files of one host, with the C counter and without it
    (what an install without a C compiler gets), and a Redis shared by several hosts."""
    out: dict[str, dict[str, list[float]]] = {}
    rounds, duration = args.quota_rounds, args.quota_duration
    out["host (files, C counter)"] = quota_costs(
        lambda i: mock_command(free_port()), rounds=rounds, duration=duration, logs=logs, name="local"
    )
    out["host (files, pure Python)"] = quota_costs(
        lambda i: mock_command(free_port()),
        rounds=rounds,
        duration=duration,
        logs=logs,
        name="python",
        env={"ROTOR_MOCK_PURE_PYTHON": "1"},
    )
    out["host (files, pure Python, 1 worker)"] = quota_costs(
        lambda i: [*mock_command(free_port()), "--workers", "1"],
        rounds=rounds,
        duration=duration,
        logs=logs,
        name="python-1",
        env={"ROTOR_MOCK_PURE_PYTHON": "1"},
    )
    with redis(logs) as url:
        out["Redis (several hosts)"] = quota_costs(
            lambda i: [*mock_command(free_port()), "--shared-state", f"{url}?prefix=round-{i}"],
            rounds=rounds,
            duration=duration,
            logs=logs,
            name="redis",
        )
    return out


@contextmanager
def redis(logs: Path) -> Iterator[str]:
    port = free_port()
    cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    with serving(cmd, "", log=logs / "redis.log", probe=lambda: _redis_up(port)):
        yield f"redis://127.0.0.1:{port}/0"


def _redis_up(port: int) -> bool:
    import redis as client

    try:
        return bool(client.Redis(port=port, socket_connect_timeout=1).ping())
    except client.RedisError:
        return False


def _median(values: list[WrkResult], attr: str) -> float:
    return statistics.median(getattr(v, attr) for v in values)


def report_throughput(results: dict[str, list[WrkResult]]) -> None:
    wm50 = _median(results["WireMock static stub, same bytes"], "rps")
    wm1000 = _median(results["WireMock, 1000 leads, same bytes"], "rps")
    ceiling = _median(results["ceiling: pre-serialized bytes, granian 2 workers"], "rps")
    print("| server | req/s | p50 ms | p99 ms | × WireMock | × ceiling | non-2xx |")
    print("|---|---|---|---|---|---|---|")
    for name, values in results.items():
        rps = _median(values, "rps")
        wm = wm1000 if "1000" in name else wm50
        versus_ceiling = "—" if "1000" in name else f"{rps / ceiling:.2f}"
        print(
            f"| {name} | {rps:,.0f} | {_median(values, 'p50_ms'):.2f} | {_median(values, 'p99_ms'):.2f} | "
            f"{rps / wm:.2f} | {versus_ceiling} | {sum(v.errors for v in values)} |"
        )


if __name__ == "__main__":
    main()
