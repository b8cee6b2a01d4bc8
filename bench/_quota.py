"""What quota accounting costs: the throughput a key with a daily limit loses against an unlimited
key, on each backend of the shared state."""

from __future__ import annotations

import statistics
import sys
from collections.abc import Callable
from pathlib import Path

from _processes import serving
from _wrk import alternating, wrk

UNLIMITED, LIMITED = "bench-unlimited", "bench-limited"


def quota_costs(
    mock_cmd: Callable[[int], list[str]],
    *,
    rounds: int,
    duration: int,
    logs: Path,
    name: str,
    env: dict[str, str] | None = None,
) -> dict[str, list[float]]:
    """What the limited key costs against the unlimited one, in ``rounds`` rounds of two
    alternating runs: the unlimited key against itself (the noise), and against the limited
    key (the cost), in turns first, each key in turns in the even phases. Each round has a
    mock of its own (``mock_cmd(round)``), freshly started: how one start happens to lay out its
    memory moves the cost by several points, and would weigh on every round alike."""
    costs: dict[str, list[float]] = {"noise": [], "cost": []}
    print(f"  quota rounds, {name}…", file=sys.stderr)
    for i in range(rounds):
        cmd = mock_cmd(i)
        base = f"http://127.0.0.1:{cmd[cmd.index('--port') + 1]}"
        with serving(cmd, f"{base}/__admin/health", log=logs / f"quota-{name}-{i}.log", env=env):
            wrk(f"{base}/leads", key=UNLIMITED, duration=1)  # warm the page caches
            runs = [("noise", UNLIMITED), ("cost", LIMITED)]
            for kind, other in runs[i % 2 :] + runs[: i % 2]:
                if i % 2:
                    theirs, ours = alternating(f"{base}/leads", other, UNLIMITED, duration=duration)
                else:
                    ours, theirs = alternating(f"{base}/leads", UNLIMITED, other, duration=duration)
                costs[kind].append(100 * (1 - theirs / ours))
    return costs


def spread(costs: list[float]) -> str:
    q1, median, q3 = statistics.quantiles(costs, n=4) if len(costs) > 1 else costs * 3
    return f"median {median:.1f}% (quartiles {q1:.1f}% to {q3:.1f}%)"


def report_quota(by_backend: dict[str, dict[str, list[float]]], *, duration: int) -> None:
    rounds = len(next(iter(by_backend.values()))["cost"])
    print(
        f"\nQuota accounting: throughput the key with a daily limit loses against the unlimited key,"
        f" {rounds} rounds per backend (each on a fresh start of the mock) of {duration} s wrk runs of"
        " the default page that switch keys every 200 ms; the unlimited key against itself is the noise.\n"
    )
    print("| shared state | cost | noise |")
    print("|---|---|---|")
    for backend, costs in by_backend.items():
        print(f"| {backend} | {spread(costs['cost'])} | {spread(costs['noise'])} |")
