"""``rotor-mock serve`` as users run it, in a process of its own on 127.0.0.1, for tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests import loopback
from tests.servers import free_port

STARTUP_SECONDS = 60
#: The suite's key options for a mock serving its demo keys.
DEMO_KEY_ARGS = (
    "--api-key",
    "demo-key-unlimited",
    "--no-scope-key",
    "demo-key-no-scope",
    "--exhausted-key",
    "demo-key-exhausted",
)


@dataclass
class Mock:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def workers(self) -> list[int]:
        """The worker processes (Linux: the server's children)."""
        pid = self.process.pid
        try:
            return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            return []


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "rotor_leads.mock_server", "serve", *args]


def start(
    tmp: Path,
    serve_command: list[str],
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Mock:
    """Start ``serve_command`` (a ``rotor-mock serve``) with ``args`` on a free port, in a session
    of its own, its output logged in ``tmp``."""
    port = free_port()
    log = tmp / f"mock-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*serve_command, "--port", str(port), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
            cwd=cwd,
        )
    return Mock(f"http://127.0.0.1:{port}", process, log)


@contextmanager
def serve(
    tmp: Path, *args: str, env: dict[str, str] | None = None, healthy: bool = True, cwd: Path | None = None
) -> Iterator[Mock]:
    """Start the mock with ``args`` (a free port is added), wait until it answers, stop it after."""
    mock = start(tmp, command(), *args, env=env, cwd=cwd)
    try:
        if healthy:
            wait_until_healthy(mock)
        yield mock
    finally:
        stop(mock)


def wait_until_healthy(
    mock: Mock, *, seconds: float = STARTUP_SECONDS, headers: dict[str, str] | None = None
) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if loopback.get(f"{mock.url}/__admin/health", headers=headers, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if mock.process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the mock did not start: {mock.output()[-3000:]}")
        time.sleep(0.1)


def stop(mock: Mock) -> None:
    if mock.process.poll() is None:
        os.killpg(mock.process.pid, signal.SIGINT)
        try:
            mock.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(mock.process.pid, signal.SIGKILL)
            mock.process.wait(timeout=10)
