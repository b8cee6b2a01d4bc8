"""Load from wrk: throughput and latency of one URL, or two keys alternating (bench/alternate.lua)."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


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
