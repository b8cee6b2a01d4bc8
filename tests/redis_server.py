"""A real redis-server on 127.0.0.1 for tests (Debian's package; `make redis-deps`)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from rotor_leads.mock_server.engine.state._redis import wait_for
from tests.servers import free_port

REDIS_SERVER = shutil.which("redis-server")


def need_redis() -> None:
    if REDIS_SERVER is None and not os.environ.get("CI"):
        pytest.skip("redis-server is not installed: `make redis-deps` installs it")


def redis_command(port: int, directory: Path) -> list[str]:
    """redis-server on 127.0.0.1:``port``, keeping nothing on disk (its files in ``directory``)."""
    assert REDIS_SERVER is not None, "redis-server is not installed: `make redis-deps` installs it"
    return [
        REDIS_SERVER,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(directory),
    ]


@contextmanager
def redis_server(tmp: Path) -> Iterator[str]:
    """A throwaway redis-server: its URL while it runs."""
    need_redis()
    port = free_port()
    process = subprocess.Popen(redis_command(port, tmp), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        wait_for(url, 10)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


class RedisProcess:
    """A redis-server the test can stop, freeze, thaw and start again, empty, on the same port."""

    def __init__(self, tmp: Path, *, unix_socket: Path | None = None) -> None:
        need_redis()
        self.tmp, self.port = tmp, free_port()
        self.unix_socket = unix_socket
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisProcess:
        command = redis_command(self.port, self.tmp)
        if self.unix_socket is not None:
            command += ["--unixsocket", str(self.unix_socket), "--unixsocketperm", "700"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self.url, 10)
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)  # a frozen one cannot hear the next
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def freeze(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def __enter__(self) -> RedisProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
