"""Latency of distinct (mostly cache-missing) queries from 4 concurrent clients, per query shape."""

from __future__ import annotations

import random
import statistics
import threading
import time
from collections.abc import Callable

import httpx

UNLIMITED = "bench-unlimited"


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


def report_latency(base: str, size: int, needles: list[str], requests: int) -> None:
    print(f"Distinct queries (mostly cache misses), 4 concurrent clients, {requests} requests per shape:\n")
    print("| query shape | p50 ms | p99 ms | max ms |")
    print("|---|---|---|---|")
    rng = random.Random(11)
    for name, make in latency_shapes(rng, size, needles).items():
        p50, p99, worst = measure_latency(base, make, requests=requests)
        print(f"| {name} | {p50:.1f} | {p99:.1f} | {worst:.1f} |")
