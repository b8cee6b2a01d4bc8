"""A real redis-server on 127.0.0.1 for tests (Debian's package; `make redis-deps`)."""

from __future__ import annotations

import os
import shutil
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
