"""The mock of this working tree served beside the mock of another commit: throughput per query
shape, one server at a time, wrk runs alternated, so that a redesign shows what it costs.

    python bench/side_by_side.py --against 5e8a3de [--rounds 5] [--duration 4] [--size 10000]
    python bench/side_by_side.py --against 16648be --latency [--size 1000000]

The other commit is checked out into ``bench/.cache/worktree-COMMIT`` (``git worktree``) and
served from there with this environment's packages (its own pinned versions are not
installed: what is compared is the code). Both serve with ``--workers 2`` and the same flags,
on 127.0.0.1, started fresh each round and warmed with 1 s of load per shape; wrk then loads
one at a time, the two runs of a shape back to back, which one first in turns. Printed: per
shape, the median requests per second of each and the median of the per-round ratios (this
tree / the other), with their range.

With ``--latency``, each round measures ``make bench``'s query shapes instead (distinct
queries from 4 concurrent clients, the same queries for both, one server at a time, which one
first in turns): per shape, the medians of each one's p50 and p99 and the median of the
per-round p99 ratios. Beyond 50,000 leads each serves a database file of its own in
``bench/.cache`` (the other commit's is named after it), built by its first start.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from _latency import latency_shapes, measure_latency, needles_from
from _processes import free_port, serving
from _quota import LIMITED, UNLIMITED
from _wrk import wrk

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CACHE = HERE / ".cache"
#: Query shapes: the default page (a cached page) and a filtered page.
SHAPES = {"default page": "", "filtered page": "?stage=won&tags=vip,solar&limit=20"}
ROOMS = ("spec", "mock_server", "contract_tests")


def checkout(commit: str) -> Path:
    """A directory from which ``import rotor_leads`` imports ``commit``'s code: a worktree of it,
    and beside it a ``rotor_leads`` directory of links to its three rooms (as the editable
    install maps them), with this tree's compiled quota counter if it has one."""
    tree = CACHE / f"worktree-{commit}"
    if not tree.exists():
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), commit], check=True)
    shim = CACHE / f"import-{commit}"
    package = shim / "rotor_leads"
    package.mkdir(parents=True, exist_ok=True)
    for room in ROOMS:
        link = package / room
        if not link.exists():
            link.symlink_to(tree / room, target_is_directory=True)
    for built in (ROOT / "mock_server/engine/state").glob("_tally*.so"):
        shutil.copy2(built, tree / "mock_server/engine/state" / built.name)
    return shim


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", required=True, help="the commit to compare with")
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=4, help="seconds per wrk run")
    parser.add_argument("--key", default=UNLIMITED, choices=[UNLIMITED, LIMITED])
    parser.add_argument("--latency", action="store_true", help="latency per query shape, not throughput")
    parser.add_argument("--latency-requests", type=int, default=400)
    args = parser.parse_args()
    if min(args.rounds, args.duration, args.latency_requests) < 1:
        parser.error("--rounds, --duration and --latency-requests must be 1 or more")
    if shutil.which("wrk") is None and not args.latency:
        raise SystemExit("wrk is not installed: run bench/setup.sh (make bench does)")
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", args.against], capture_output=True, text=True
    ).stdout.strip()
    if not commit:
        parser.error(f"--against {args.against!r} is not a commit of this repository")
    CACHE.mkdir(exist_ok=True)
    envs = {"this tree": {}, commit: {"PYTHONPATH": str(checkout(commit))}}
    dbs = {"this tree": f"leads-{args.size}-seed1.sqlite", commit: f"leads-{args.size}-seed1-{commit}.sqlite"}
    logs = Path(tempfile.mkdtemp(prefix="rotor-side-by-side-"))
    measure = "latency of make bench's query shapes" if args.latency else f"wrk -t2 -c32 -d{args.duration}s"
    print(
        f"# This tree beside {commit}: {args.size} leads, --workers 2, key {args.key}, "
        f"{measure}, {args.rounds} rounds alternated\n"
    )
    runs: dict[tuple[str, str], list[tuple[float, ...]]] = {}
    needles: list[str] = []
    for round_ in range(args.rounds):
        # Both served, fresh each round; one is loaded at a time, the two runs of a shape back
        # to back (in turns first), so that each ratio compares the same seconds of the machine.
        with ExitStack() as stack:
            bases = {}
            for name, env in envs.items():
                port = free_port()
                cmd = [sys.executable, "-m", "rotor_leads.mock_server", "serve", "--port", str(port)]
                cmd += ["--workers", "2", "--leads", str(args.size), "--seed", "1"]
                cmd += ["--keys", str(HERE / "keys.yaml")]
                if args.size > 50_000:
                    cmd += ["--db", str(CACHE / dbs[name])]
                bases[name] = f"http://127.0.0.1:{port}"
                log = logs / f"{name.replace(' ', '-')}-{round_}.log"
                stack.enter_context(serving(cmd, f"{bases[name]}/__admin/health", env=env, log=log))
            order = list(envs) if round_ % 2 == 0 else list(reversed(envs))
            if args.latency:
                needles = needles or needles_from(bases["this tree"], UNLIMITED, random.Random(7))
                shapes = list(latency_shapes(random.Random(0), args.size, needles))
                for shape in shapes:
                    for name in order:
                        make = latency_shapes(random.Random(round_), args.size, needles)[shape]
                        result = measure_latency(bases[name], make, requests=args.latency_requests)
                        runs.setdefault((name, shape), []).append(result)
                continue
            for base in bases.values():
                for query in SHAPES.values():
                    wrk(f"{base}/leads{query}", key=args.key, duration=1)  # warm the caches
            for shape, query in SHAPES.items():
                for name in order:
                    done = wrk(f"{bases[name]}/leads{query}", key=args.key, duration=args.duration)
                    if done.errors:
                        raise SystemExit(f"{name} answered {done.errors} non-2xx to {query!r}: see {logs}")
                    runs.setdefault((name, shape), []).append((done.rps,))
    shapes = list(dict.fromkeys(shape for _, shape in runs))
    if args.latency:
        heads = f"this tree p50 ms | {commit} p50 ms | this tree p99 ms | {commit} p99 ms"
        print(f"| shape | {heads} | p99 ratio | range |")
        print("|---|---|---|---|---|---|---|")
    else:
        print(f"| shape | this tree req/s | {commit} req/s | ratio (median of rounds) | range |")
        print("|---|---|---|---|---|")
    for shape in shapes:
        ours, theirs = runs[("this tree", shape)], runs[(commit, shape)]
        column = 1 if args.latency else 0  # p99, or requests per second
        ratios = [a[column] / b[column] for a, b in zip(ours, theirs, strict=True)]
        figures = [statistics.median(r[column] for r in rs) for rs in (ours, theirs)]
        if args.latency:
            p50s = [statistics.median(r[0] for r in rs) for rs in (ours, theirs)]
            shown = f"{p50s[0]:.1f} | {p50s[1]:.1f} | {figures[0]:.1f} | {figures[1]:.1f}"
        else:
            shown = f"{figures[0]:,.0f} | {figures[1]:,.0f}"
        print(
            f"| {shape} | {shown} | {statistics.median(ratios):.3f} | {min(ratios):.3f}–{max(ratios):.3f} |"
        )
    print(f"\nlogs: {logs}")


if __name__ == "__main__":
    main()
