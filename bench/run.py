"""Benchmark the mock side by side with WireMock and with the pre-serialized-bytes ceiling.

    python bench/run.py [--size 10000] [--duration 10] [--rounds 3]

Everything listens on 127.0.0.1 and every load is bounded in time. Throughput comes from wrk
(-t2 -c32), servers alternated round by round, medians reported; the cost of quota accounting
from wrk runs that switch between an unlimited and a limited key every 200 ms (and between the
unlimited key and itself, for the noise); latencies of distinct (cache-missing) queries from 4
concurrent Python clients.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
VENV_BIN = Path(sys.executable).parent
UNLIMITED, LIMITED = "bench-unlimited", "bench-limited"
STARTUP_SECONDS = 600  # a first start on a million leads builds the database


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], *, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1)
            return time.monotonic() - started
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


@contextmanager
def serving(
    cmd: list[str], probe: str, *, env: dict[str, str] | None = None, log: Path
) -> Iterator[tuple[subprocess.Popen[bytes], float]]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
        try:
            yield process, wait_until_up(probe, process, timeout=STARTUP_SECONDS)
        finally:
            # The whole process group: a worker still starting when its server stops can outlive it.
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
            time.sleep(0.5)
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)


def rss_mb(pid: int) -> list[float]:
    """Resident memory of ``pid`` and its descendants, in MB, one number per process."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    out.append(int(line.split()[1]) / 1024)
        except OSError:
            continue
    return out


@dataclass
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if not match:
        raise ValueError(f"cannot read wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _run_wrk(
    url: str, *options: str, duration: int, connections: int = 32, env: dict[str, str] | None = None
) -> str:
    """What ``wrk -t2`` printed for a run of ``duration`` seconds (bounded: a hung wrk fails)."""
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", *options, url]
    return subprocess.run(
        cmd, capture_output=True, text=True, check=True, env=env, timeout=duration + 30
    ).stdout


def wrk(url: str, *, key: str | None, duration: int, connections: int = 32) -> WrkResult:
    header = ["-H", f"x-api-key: {key}"] if key else []
    text = _run_wrk(url, "--latency", *header, duration=duration, connections=connections)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", text).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", text).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    return WrkResult(rps, p50, p99, int(bad.group(1)) if bad else 0)


def wiremock_jar() -> Path:
    jars = sorted((CACHE / "node_modules" / "wiremock" / "build").glob("wiremock-standalone-*.jar"))
    if not jars:
        raise SystemExit("WireMock is not installed: run bench/setup.sh (make bench does)")
    return jars[-1]


def wiremock_root(bodies: dict[str, bytes]) -> Path:
    root = Path(tempfile.mkdtemp(prefix="wiremock-"))
    (root / "mappings").mkdir()
    (root / "__files").mkdir()
    for name, body in bodies.items():
        (root / "__files" / f"{name}.json").write_bytes(body)
        query = {"limit": {"equalTo": "1000"}} if name == "page1000" else {"limit": {"absent": True}}
        mapping = {
            "request": {"method": "GET", "urlPath": "/leads", "queryParameters": query},
            "response": {
                "status": 200,
                "bodyFileName": f"{name}.json",
                "headers": {"Content-Type": "application/json"},
            },
        }
        (root / "mappings" / f"{name}.json").write_text(json.dumps(mapping))
    return root


# -- latency of distinct queries at 4 concurrent clients --------------------------------------


def latency_shapes(rng: random.Random, size: int, needles: list[str]) -> dict[str, Callable[[], str]]:
    pages = max(1, size // 50)

    def page(limit: int = 50) -> int:
        return rng.randint(1, max(1, size // limit))

    return {
        "default page": lambda: f"page={page()}",
        "deep page": lambda: f"page={rng.randint(max(1, pages * 9 // 10), pages)}",
        "limit 1000": lambda: f"limit=1000&page={page(1000)}",
        "archived=true": lambda: f"archived=true&page={page()}",
        "stage": lambda: f"stage={rng.choice(['won', 'lost', 'new', 'proposal'])}&page={rng.randint(1, 50)}",
        "tags (one)": lambda: (
            f"tags={rng.choice(['vip', 'solar', 'hvac', 'referral'])}&page={rng.randint(1, 50)}"
        ),
        "tags (three)": lambda: (
            f"tags=vip,solar,{rng.choice(['hvac', 'roofing', 'repeat'])}&page={rng.randint(1, 50)}"
        ),
        "search (3+ chars)": lambda: f"search={rng.choice(needles)}",
        "combined": lambda: (
            f"stage={rng.choice(['won', 'new'])}&tags=vip,solar&search={rng.choice(needles)}&archived=true"
        ),
    }


def needles_from(base: str, key: str, rng: random.Random) -> list[str]:
    names = [
        lead["name"]
        for lead in httpx.get(f"{base}/leads?limit=1000", headers={"x-api-key": key}, timeout=30).json()[
            "data"
        ]
    ]
    out = []
    for name in names:
        length = rng.randint(3, 6)
        if len(name) >= length:
            start = rng.randint(0, len(name) - length)
            needle = name[start : start + length]
            if needle.strip() == needle and " " not in needle:
                out.append(needle)
    return out


def measure_latency(
    base: str, make: Callable[[], str], *, requests: int, clients: int = 4
) -> tuple[float, ...]:
    urls = [f"{base}/leads?{make()}" for _ in range(requests)]
    times: list[float] = []
    lock = threading.Lock()

    def worker(chunk: list[str]) -> None:
        with httpx.Client(headers={"x-api-key": UNLIMITED}, timeout=30) as client:
            for url in chunk:
                started = time.perf_counter()
                response = client.get(url)
                elapsed = (time.perf_counter() - started) * 1000
                if response.status_code != 200:
                    raise RuntimeError(f"{url}: {response.status_code} {response.text[:200]}")
                with lock:
                    times.append(elapsed)

    threads = [threading.Thread(target=worker, args=(urls[i::clients],)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1], times[-1]


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
            quota = quota_costs(
                mock_command(free_port()), rounds=args.quota_rounds, duration=args.quota_duration, logs=logs
            )
            memory = {"mock": rss_mb(mock_proc.pid), "WireMock": rss_mb(wm_proc.pid)}
        report_throughput(results)
        report_quota(quota, duration=args.quota_duration)
        print(
            f"\nRSS per process (MB): mock {', '.join(f'{m:.0f}' for m in memory['mock'])}; "
            f"WireMock {', '.join(f'{m:.0f}' for m in memory['WireMock'])}\n"
        )
        report_latency(mock, args.size, needles, args.latency_requests)
        print(
            f"\nRSS per mock process after the latency runs (MB): "
            f"{', '.join(f'{m:.0f}' for m in rss_mb(mock_proc.pid))}"
        )
    print(f"\nlogs: {logs}")


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


def alternating(url: str, key_a: str, key_b: str, *, duration: int) -> tuple[int, int]:
    """Requests answered for ``key_a`` and for ``key_b`` in one wrk run that switches every
    connection from one key to the other every 200 ms (``bench/alternate.lua``), over the same
    number of complete phases of each."""
    env = {**os.environ, "KEY_A": key_a, "KEY_B": key_b, "PHASE_MS": "200"}
    text = _run_wrk(url, "-s", str(HERE / "alternate.lua"), duration=duration, env=env)
    match = re.search(r"PHASES (\d+) (\d+) (\d+)", text)
    if match is None or int(match.group(3)) < 2:
        raise RuntimeError(f"wrk with alternate.lua printed no complete phases:\n{text}")
    return int(match.group(1)), int(match.group(2))


def quota_costs(mock_cmd: list[str], *, rounds: int, duration: int, logs: Path) -> dict[str, list[float]]:
    """What the limited key costs against the unlimited one, in ``rounds`` rounds of two
    alternating runs: the unlimited key against itself (the noise), and against the limited
    key (the cost), in turns first, each key in turns in the even phases. Each round has a
    mock of its own (``mock_cmd``), freshly started: how one start happens to lay out its
    memory moves the cost by several points, and would weigh on every round alike."""
    base = f"http://127.0.0.1:{mock_cmd[mock_cmd.index('--port') + 1]}"
    costs: dict[str, list[float]] = {"noise": [], "cost": []}
    for i in range(rounds):
        with serving(mock_cmd, f"{base}/__admin/health", log=logs / f"quota-{i}.log"):
            wrk(f"{base}/leads", key=UNLIMITED, duration=1)  # warm the page caches
            runs = [("noise", UNLIMITED), ("cost", LIMITED)]
            for name, other in runs[i % 2 :] + runs[: i % 2]:
                if i % 2:
                    theirs, ours = alternating(f"{base}/leads", other, UNLIMITED, duration=duration)
                else:
                    ours, theirs = alternating(f"{base}/leads", UNLIMITED, other, duration=duration)
                costs[name].append(100 * (1 - theirs / ours))
    return costs


def _spread(costs: list[float]) -> str:
    q1, median, q3 = statistics.quantiles(costs, n=4) if len(costs) > 1 else costs * 3
    return f"median {median:.1f}%, quartiles {q1:.1f}% to {q3:.1f}%"


def report_quota(costs: dict[str, list[float]], *, duration: int) -> None:
    print(
        f"\nQuota accounting: throughput lost by the key with a daily limit against the unlimited key,"
        f" {len(costs['cost'])} rounds (each on a fresh start of the mock) of {duration} s wrk runs of"
        f" the default page that switch keys every 200 ms: {_spread(costs['cost'])}. The unlimited key"
        f" against itself (the noise): {_spread(costs['noise'])}."
    )


def report_latency(base: str, size: int, needles: list[str], requests: int) -> None:
    print(f"Distinct queries (mostly cache misses), 4 concurrent clients, {requests} requests per shape:\n")
    print("| query shape | p50 ms | p99 ms | max ms |")
    print("|---|---|---|---|")
    rng = random.Random(11)
    for name, make in latency_shapes(rng, size, needles).items():
        p50, p99, worst = measure_latency(base, make, requests=requests)
        print(f"| {name} | {p50:.1f} | {p99:.1f} | {worst:.1f} |")


if __name__ == "__main__":
    main()
