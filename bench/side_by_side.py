"""The mock of this working tree served beside the mock of another commit: throughput per query
shape, one server at a time, wrk runs alternated, so that a redesign shows what it costs.

    python bench/side_by_side.py --against 5e8a3de [--rounds 5] [--duration 4] [--size 10000]

The other commit is checked out into ``bench/.cache/worktree-COMMIT`` (``git worktree``) and
served from there with this environment's packages (its own pinned versions are not
installed: what is compared is the code). Both serve with ``--workers 2`` and the same flags,
on 127.0.0.1, started fresh each round and warmed with 1 s of load per shape; wrk then loads
one at a time, the two runs of a shape back to back, which one first in turns. Printed: per
shape, the median requests per second of each and the median of the per-round ratios (this
tree / the other), with their range.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

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
    args = parser.parse_args()
    if min(args.rounds, args.duration) < 1:
        parser.error("--rounds and --duration must be 1 or more")
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: run bench/setup.sh (make bench does)")
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", args.against], capture_output=True, text=True
    ).stdout.strip()
    if not commit:
        parser.error(f"--against {args.against!r} is not a commit of this repository")
    CACHE.mkdir(exist_ok=True)
    envs = {"this tree": {}, commit: {"PYTHONPATH": str(checkout(commit))}}
    logs = Path(tempfile.mkdtemp(prefix="rotor-side-by-side-"))
    rps: dict[tuple[str, str], list[float]] = {(name, shape): [] for name in envs for shape in SHAPES}
    print(
        f"# This tree beside {commit}: {args.size} leads, --workers 2, key {args.key}, "
        f"wrk -t2 -c32 -d{args.duration}s, {args.rounds} rounds alternated\n"
    )
    for round_ in range(args.rounds):
        # Both served, fresh each round; wrk loads one at a time, the two runs of a shape back
        # to back (in turns first), so that each ratio compares the same seconds of the machine.
        with ExitStack() as stack:
            bases = {}
            for name, env in envs.items():
                port = free_port()
                cmd = [sys.executable, "-m", "rotor_leads.mock_server", "serve", "--port", str(port)]
                cmd += ["--workers", "2", "--leads", str(args.size), "--seed", "1"]
                cmd += ["--keys", str(HERE / "keys.yaml")]
                bases[name] = f"http://127.0.0.1:{port}"
                log = logs / f"{name.replace(' ', '-')}-{round_}.log"
                stack.enter_context(serving(cmd, f"{bases[name]}/__admin/health", env=env, log=log))
            for base in bases.values():
                for query in SHAPES.values():
                    wrk(f"{base}/leads{query}", key=args.key, duration=1)  # warm the caches
            order = list(envs) if round_ % 2 == 0 else list(reversed(envs))
            for shape, query in SHAPES.items():
                for name in order:
                    result = wrk(f"{bases[name]}/leads{query}", key=args.key, duration=args.duration)
                    if result.errors:
                        raise SystemExit(f"{name} answered {result.errors} non-2xx to {query!r}: see {logs}")
                    rps[(name, shape)].append(result.rps)
    print(f"| shape | this tree req/s | {commit} req/s | ratio (median of rounds) | range |")
    print("|---|---|---|---|---|")
    for shape in SHAPES:
        ours, theirs = rps[("this tree", shape)], rps[(commit, shape)]
        ratios = [a / b for a, b in zip(ours, theirs, strict=True)]
        print(
            f"| {shape} | {statistics.median(ours):,.0f} | {statistics.median(theirs):,.0f} | "
            f"{statistics.median(ratios):.3f} | {min(ratios):.3f}–{max(ratios):.3f} |"
        )
    print(f"\nlogs: {logs}")


if __name__ == "__main__":
    main()
