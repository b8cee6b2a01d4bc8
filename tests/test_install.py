"""The package as others install it: in a fresh virtual environment, with every direct
dependency at the lowest version ``pyproject.toml`` allows (uv's ``lowest-direct``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UV = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")


def _run(*args: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def lowest_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert UV is not None, "uv is a dev dependency: `make install` installs it"
    venv = tmp_path_factory.mktemp("lowest") / "venv"
    made = _run(UV, "venv", "--quiet", str(venv), "--python", sys.executable)
    assert made.returncode == 0, made.stderr
    env = {**os.environ, "VIRTUAL_ENV": str(venv)}
    installed = _run(
        UV, "pip", "install", "--quiet", "--resolution", "lowest-direct", "-e", str(ROOT), env=env
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    return venv


def test_lowest_versions__the_contract_suite_runs(lowest_venv: Path) -> None:
    python = lowest_venv / "bin" / "python"
    versions = _run(
        str(python), "-c", "import pytest, flask, httpx; print(pytest.__version__, flask.__version__)"
    )
    assert versions.stdout.split()[0].startswith("8.3."), versions.stdout
    run = _run(
        str(python), "-m", "pytest", "contract_tests", "-p", "no:cacheprovider", "-q", "-p", "no:xdist"
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "exit code 0: passed" in run.stdout
