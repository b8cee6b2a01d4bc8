"""The package as others install it, in fresh virtual environments: with every direct
dependency at the lowest version ``pyproject.toml`` allows (uv's ``lowest-direct``); and from a
wheel built where no C compiler works, beside a project that has its own ``spec`` package."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.servers import free_port
from tests.test_exported_members import HEAVY

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


# -- a plain install where no C compiler is, used by someone else's project ------------------------


@pytest.fixture(scope="module")
def plain_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel install (not editable) of the project, built with no working C compiler."""
    assert UV is not None, "uv is a dev dependency: `make install` installs it"
    venv = tmp_path_factory.mktemp("plain") / "venv"
    assert _run(UV, "venv", "--quiet", str(venv), "--python", sys.executable).returncode == 0
    env = {**os.environ, "VIRTUAL_ENV": str(venv), "CC": "false"}
    installed = _run(UV, "pip", "install", "--quiet", "--no-cache", str(ROOT), env=env, cwd=venv.parent)
    assert installed.returncode == 0, installed.stderr[-3000:]
    return venv


def test_no_compiler__installs_one_name_without_the_accelerator(plain_venv: Path) -> None:
    probe = (
        "import importlib.util as u, rotor_leads.mock_server.engine.state._local as s;"
        " print([n for n in ('spec', 'mock_server', 'contract_tests') if u.find_spec(n)], s.accelerated_add)"
    )
    run = _run(str(plain_venv / "bin" / "python"), "-c", probe, cwd=plain_venv.parent)
    assert run.stdout.strip() == "[] None", run.stdout + run.stderr


def test_no_compiler__two_workers_keep_quotas_exact(plain_venv: Path, tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    keys.write_text('{"limited-key-0123456789": {"daily_limit": 150}}')
    port = free_port()
    server = subprocess.Popen(
        [
            str(plain_venv / "bin" / "rotor-mock"),
            "serve",
            "--port",
            str(port),
            "--workers",
            "2",
            "--keys",
            str(keys),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url)
        with httpx.Client(timeout=10) as http:

            def call(_: int) -> int | None:
                answer = http.get(f"{url}/leads?limit=1", headers={"x-api-key": "limited-key-0123456789"})
                return int(answer.headers["X-RateLimit-Remaining"]) if answer.status_code == 200 else None

            with ThreadPoolExecutor(16) as pool:
                remaining = [r for r in pool.map(call, range(200)) if r is not None]
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
            raise
    assert sorted(remaining) == list(range(150))


#: What only our plugin could load in a host project (Faker, respx and Hypothesis register pytest
#: plugins of their own, which load them whatever our plugin does).
OURS_ONLY = [m for m in HEAVY if m not in ("faker", "respx", "hypothesis")] + [
    "rotor_leads.mock_server.web._app"
]

FOREIGN_TESTS = {
    "spec/__init__.py": 'NAME = "theirs"\n',
    "pyproject.toml": '[tool.pytest.ini_options]\naddopts = "-p no:cacheprovider"\n',
    "tests/test_a_theirs.py": (
        "import sys\n\nimport spec\n\n\n"
        "def test_their_spec_is_theirs():\n    assert spec.NAME == 'theirs'\n\n\n"
        "def test_the_rotor_plugin_loaded_nothing_heavy():\n"
        f"    assert [m for m in {OURS_ONLY!r} if m in sys.modules] == []\n"
    ),
    "tests/test_b_fixture.py": (
        "import httpx\n\n\n"
        "def test_the_rotor_api_fixture_works(rotor_api):\n"
        "    url = 'https://api.getrotor.com/open-api/leads?limit=2'\n"
        "    answer = httpx.get(url, headers={'x-api-key': 'demo-key'})\n"
        "    assert answer.status_code == 200 and len(answer.json()['data']) == 2\n"
    ),
}


def test_foreign_project__its_own_spec_works_and_the_plugin_costs_nothing_unused(
    plain_venv: Path, tmp_path: Path
) -> None:
    for name, text in FOREIGN_TESTS.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    run = _run(str(plain_venv / "bin" / "python"), "-m", "pytest", "-q", cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "3 passed" in run.stdout


def _wait(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/__admin/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError(f"the mock at {url} did not start")
