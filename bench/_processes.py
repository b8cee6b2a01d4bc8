"""Servers in processes of their own on 127.0.0.1, bounded in time: start, wait, stop, memory."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx

STARTUP_SECONDS = 600  # a first start on a million leads builds the database


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(
    url: str, process: subprocess.Popen[bytes], *, timeout: float, probe: Callable[[], bool] | None = None
) -> float:
    """Seconds until ``url`` answers (or ``probe()`` is true). Raises ``RuntimeError``."""

    def up() -> bool:
        if probe is not None:
            return probe()
        try:
            httpx.get(url, timeout=1)
            return True
        except httpx.TransportError:
            return False

    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        if up():
            return time.monotonic() - started
        time.sleep(0.05)
    raise RuntimeError(f"{url or process.args!r} did not answer within {timeout} s")


@contextmanager
def serving(
    cmd: list[str],
    url: str,
    *,
    env: dict[str, str] | None = None,
    log: Path,
    probe: Callable[[], bool] | None = None,
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
            try:
                started = wait_until_up(url, process, timeout=STARTUP_SECONDS, probe=probe)
            except RuntimeError as exc:
                tail = log.read_text(errors="replace").strip().splitlines()[-3:]
                raise RuntimeError(f"{exc}; its log ({log}) ends: {' / '.join(tail)}") from None
            yield process, started
        finally:
            # The whole process group: a worker still starting when its server stops can outlive it.
            with suppress(ProcessLookupError):  # it may have ended on its own
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
