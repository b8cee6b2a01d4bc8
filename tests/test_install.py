"""The package as others install it, in fresh virtual environments (uv's, with the versions of
``uv.lock`` and nothing newer than its cut-off): the wheel with each extra, used from an empty
directory; the wheel built where no C compiler works; and every direct dependency at the lowest
version ``pyproject.toml`` allows (uv's ``lowest-direct``)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests import loopback, served
from tests.fake_api import MUTANTS, leads
from tests.servers import serve
from tests.test_exported_members import HEAVY

ROOT = Path(__file__).resolve().parent.parent
UV = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
#: What the lock was resolved against: no install here takes a later release.
EXCLUDE_NEWER = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"]["exclude-newer"]
#: The issue's bounds on what each install adds to an empty environment (site-packages, .pyc
#: included, as ``du`` counts it).
MB = 1024 * 1024
SIZE_LIMITS = {"": 10 * MB, "suite": 55 * MB, "mock": 80 * MB}


def _run(
    *args: str | Path, cwd: Path = ROOT, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    # As a user runs them: without the plugins the project's own test runs skip (conftest.py).
    skips = ("PYTEST_ADDOPTS", "HYPOTHESIS_NO_PLUGINS")
    env = {name: value for name, value in (env or os.environ).items() if name not in skips}
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _uv(*args: str | Path, env: dict[str, str] | None = None, cwd: Path = ROOT) -> None:
    assert UV is not None, "uv is a dev dependency: `make install` installs it"
    done = _run(UV, *args, "--quiet", env=env, cwd=cwd)
    assert done.returncode == 0, done.stderr[-3000:]


def _venv(
    where: Path, *requirements: str | Path, constraints: Path | None = None, bytecode: bool = False
) -> Path:
    """A fresh environment at ``where`` with ``requirements`` (pinned by ``constraints``), with
    their ``.pyc`` files compiled if ``bytecode`` (as pip does; uv does not by default)."""
    _uv("venv", where, "--python", sys.executable)
    if not requirements:
        return where
    options = [
        *(("--constraint", constraints) if constraints else ()),
        *(("--compile-bytecode",) if bytecode else ()),
    ]
    install_env = {**os.environ, "VIRTUAL_ENV": str(where)}
    _uv("pip", "install", "--exclude-newer", EXCLUDE_NEWER, *options, *requirements, env=install_env)
    return where


def _bin(venv: Path, name: str) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / name


def _site_packages_bytes(venv: Path) -> int:
    """What the environment's site-packages take on disk (``du``: blocks, .pyc included)."""
    (site,) = venv.glob("lib/python*/site-packages")
    return sum(p.lstat().st_blocks * 512 for p in site.rglob("*") if not p.is_symlink())


@pytest.fixture(scope="session")
def sdist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sdist")
    _uv("build", "--sdist", "--out-dir", out, ROOT)
    (built,) = out.glob("*.tar.gz")
    return built


@pytest.fixture(scope="session")
def wheel(sdist: Path) -> Path:
    """Built from the sdist, as pip builds one from an index: what the sdist leaves out is missed."""
    out = sdist.parent / "wheel"
    _uv("build", "--wheel", "--out-dir", out, sdist)
    (built,) = out.glob("*.whl")
    return built


@pytest.fixture(scope="session")
def constraints(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The locked versions of every extra, as pip constraints."""
    path = tmp_path_factory.mktemp("lock") / "constraints.txt"
    _uv("export", "--frozen", "--all-extras", "--no-hashes", "--no-emit-project", "--output-file", path)
    return path


@pytest.fixture(scope="session")
def installs(tmp_path_factory: pytest.TempPathFactory, wheel: Path, constraints: Path) -> dict[str, Path]:
    """One environment per extra, and one with pytest-base-url beside the suite; made at once."""
    where = tmp_path_factory.mktemp("venvs")
    wanted = {
        "": (str(wheel),),
        "suite": (f"{wheel}[suite]",),
        "mock": (f"{wheel}[mock]",),
        # A host project has pytest of its own; [mock] does not bring it.
        "mock+pytest": (f"{wheel}[mock]", "pytest"),
        "suite+base-url": (f"{wheel}[suite]", "pytest-base-url"),
        "empty": (),
    }
    with ThreadPoolExecutor(len(wanted)) as pool:
        made = {
            name: pool.submit(
                _venv, where / (name or "base"), *reqs, constraints=constraints, bytecode=name in SIZE_LIMITS
            )
            for name, reqs in wanted.items()
        }
        return {name: future.result() for name, future in made.items()}


@pytest.fixture(scope="session")
def empty_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the commands run: no conftest, no pytest configuration, nothing of the clone."""
    return tmp_path_factory.mktemp("empty")


@pytest.fixture(scope="session")
def served_mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with served.serve(tmp_path_factory.mktemp("served")) as mock:
        yield mock.url


@pytest.mark.parametrize("extra", ["", "suite", "mock"])
def test_wheel__each_extra_within_its_size(extra: str, installs: dict[str, Path]) -> None:
    added = _site_packages_bytes(installs[extra]) - _site_packages_bytes(installs["empty"])
    assert added <= SIZE_LIMITS[extra], f"[{extra}] adds {added / MB:.1f} MB"


def test_wheel__base_is_the_contract_and_names_the_missing_extras(
    installs: dict[str, Path], empty_dir: Path
) -> None:
    venv = installs[""]
    probe = (
        "import sys; from rotor_leads import spec;"
        " (body,) = spec.response_examples(200).values();"
        " spec.validate_response(200, {'Content-Type': 'application/json'}, body);"
        " print(sorted(m for m in ('hypothesis', 'pytest', 'flask', 'faker') if m in sys.modules));"
        " spec.from_schema"
    )
    run = _run(_bin(venv, "python"), "-c", probe, cwd=empty_dir)
    assert run.stdout.strip() == "[]", run.stdout + run.stderr
    assert run.stderr.strip().splitlines()[-1] == (
        "rotor_leads.spec._extras.MissingExtra: rotor_leads.spec.from_schema needs the [suite] extra"
        " (hypothesis is not installed): pip install 'rotor-leads-contract[suite]'"
    )
    mock = _run(_bin(venv, "rotor-mock"), "serve", cwd=empty_dir)
    assert (mock.returncode, mock.stdout) == (1, "")
    assert mock.stderr == (
        "Error: rotor-mock needs the [mock] extra (click is not installed):"
        " pip install 'rotor-leads-contract[mock]'\n"
    )
    suite = _run(_bin(venv, "rotor-contract"), "--base-url", "http://127.0.0.1:9", cwd=empty_dir)
    assert (suite.returncode, suite.stdout) == (4, "")
    assert suite.stderr == (
        "rotor-contract: rotor-contract needs the [suite] extra (httpx is not installed):"
        " pip install 'rotor-leads-contract[suite]'\n"
    )


@pytest.mark.parametrize("venv_name", ["suite", "suite+base-url"])
def test_wheel__rotor_contract_passes_a_served_mock_and_fails_a_broken_server(
    venv_name: str, installs: dict[str, Path], empty_dir: Path, served_mock: str
) -> None:
    command = _bin(installs[venv_name], "rotor-contract")
    key = {**os.environ, "ROTOR_API_KEY": "demo-key-unlimited"}
    passed = _run(command, "--base-url", served_mock, "-q", cwd=empty_dir, env=key)
    assert passed.returncode == 0, passed.stdout[-3000:] + passed.stderr[-2000:]
    assert "exit code 0: passed" in passed.stdout
    with serve(MUTANTS["oldest_first"].api(leads(120))) as broken:
        failed = _run(
            command,
            "--base-url",
            f"{broken}/open-api",
            "--api-key",
            "good-key-0123456789",
            "-q",
            cwd=empty_dir,
        )
    assert failed.returncode == 1, failed.stdout[-3000:] + failed.stderr[-2000:]
    assert "[order.newest_first]" in failed.stdout
    assert list(empty_dir.iterdir()) == []  # no cache folder, no report left behind


def test_wheel__rotor_contract_without_a_url_or_the_mock_says_which(
    installs: dict[str, Path], empty_dir: Path
) -> None:
    run = _run(_bin(installs["suite"], "rotor-contract"), cwd=empty_dir)
    assert run.returncode == 4, run.stdout + run.stderr
    assert re.fullmatch(
        r"ERROR: checking the in-process mock \(no --base-url\) needs the \[mock\] extra \(\w+ is not"
        r" installed\): pip install 'rotor-leads-contract\[mock\]'; or give --base-url URL and --api-key KEY"
        r" to check a server\n+",
        run.stderr,
    ), run.stderr


def test_wheel__rotor_contract_with_pytest_base_url_shares_its_option(
    installs: dict[str, Path], empty_dir: Path
) -> None:
    run = _run(_bin(installs["suite+base-url"], "rotor-contract"), "--help", cwd=empty_dir)
    assert run.returncode == 0 and "--base-url URL" in run.stdout
    help_text = _run(
        _bin(installs["suite+base-url"], "python"), "-m", "pytest", "--help", cwd=empty_dir
    ).stdout
    # A host project's own pytest runs: pytest-base-url's option, none of the suite's.
    assert "--base-url=url" in help_text and "--api-key" not in help_text


def test_wheel__mock_serves_leads(installs: dict[str, Path], tmp_path: Path) -> None:
    mock = _start(installs["mock"], tmp_path, "--leads", "40")
    try:
        served.wait_until_healthy(mock)
        answer = loopback.get(f"{mock.url}/leads?limit=3", headers={"x-api-key": "demo-key"}, timeout=10)
    finally:
        _stop(mock.process)
    assert answer.status_code == 200 and len(answer.json()["data"]) == 3


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


def _foreign_project(where: Path) -> Path:
    for name, text in FOREIGN_TESTS.items():
        (where / name).parent.mkdir(parents=True, exist_ok=True)
        (where / name).write_text(text)
    return where


def test_wheel__a_host_project_with_its_own_spec_uses_the_fixture(
    installs: dict[str, Path], tmp_path: Path
) -> None:
    run = _run(_bin(installs["mock+pytest"], "python"), "-m", "pytest", "-q", cwd=_foreign_project(tmp_path))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "3 passed" in run.stdout


def test_wheel__the_fixture_without_the_mock_extra_says_which(
    installs: dict[str, Path], tmp_path: Path
) -> None:
    (tmp_path / "test_it.py").write_text(FOREIGN_TESTS["tests/test_b_fixture.py"])
    run = _run(
        _bin(installs["suite"], "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=tmp_path
    )
    assert run.returncode == 1
    assert re.search(
        r"\nthe rotor_api fixture needs the \[mock\] extra \(\w+ is not installed\):"
        r" pip install 'rotor-leads-contract\[mock\]'\n=====",
        run.stdout,
    ), run.stdout


# -- a wheel built where no C compiler is ----------------------------------------------------------


@pytest.fixture(scope="session")
def no_compiler_venv(tmp_path_factory: pytest.TempPathFactory, sdist: Path, constraints: Path) -> Path:
    out = tmp_path_factory.mktemp("no-compiler")
    _uv("build", "--wheel", "--out-dir", out, sdist, env={**os.environ, "CC": "false"})
    (built,) = out.glob("*.whl")
    return _venv(out / "venv", f"{built}[mock]", constraints=constraints)


def test_no_compiler__installs_one_name_without_the_accelerator(no_compiler_venv: Path) -> None:
    probe = (
        "import importlib.util as u, rotor_leads.mock_server.engine.state._local as s;"
        " print([n for n in ('spec', 'mock_server', 'contract_tests') if u.find_spec(n)], s.accelerated_add)"
    )
    run = _run(_bin(no_compiler_venv, "python"), "-c", probe, cwd=no_compiler_venv.parent)
    assert run.stdout.strip() == "[] None", run.stdout + run.stderr


def test_no_compiler__two_workers_keep_quotas_exact(no_compiler_venv: Path, tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    keys.write_text('{"limited-key-0123456789": {"daily_limit": 150}}')
    mock = _start(no_compiler_venv, tmp_path, "--workers", "2", "--keys", str(keys))
    limited = {"x-api-key": "limited-key-0123456789"}
    try:
        served.wait_until_healthy(mock)
        with loopback.client(timeout=10) as http:

            def call(_: int) -> int | None:
                answer = http.get(f"{mock.url}/leads?limit=1", headers=limited)
                return int(answer.headers["X-RateLimit-Remaining"]) if answer.status_code == 200 else None

            with ThreadPoolExecutor(16) as pool:
                remaining = [r for r in pool.map(call, range(200)) if r is not None]
    finally:
        _stop(mock.process)
    assert sorted(remaining) == list(range(150))


# -- the lowest versions pyproject.toml allows -----------------------------------------------------


@pytest.fixture(scope="session")
def lowest_venv(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Path:
    """The wheel with the suite and the mock, each of their requirements named (so that uv takes
    it as direct) at its lowest version."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    direct = [
        *project["dependencies"],
        *project["optional-dependencies"]["suite"],
        *project["optional-dependencies"]["mock"],
    ]
    venv = tmp_path_factory.mktemp("lowest") / "venv"
    return _venv(venv, "--resolution", "lowest-direct", f"{wheel}[suite,mock]", *direct)


def test_lowest_versions__the_contract_suite_runs(lowest_venv: Path) -> None:
    python = _bin(lowest_venv, "python")
    versions = _run(python, "-c", "import pytest, flask, httpx; print(pytest.__version__, flask.__version__)")
    assert versions.stdout.split()[0].startswith("8.3."), versions.stdout
    run = _run(python, "-m", "pytest", "contract_tests", "-p", "no:cacheprovider", "-q", "-p", "no:xdist")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "exit code 0: passed" in run.stdout


def test_lowest_versions__a_host_project_uses_the_fixture(lowest_venv: Path, tmp_path: Path) -> None:
    run = _run(_bin(lowest_venv, "python"), "-m", "pytest", "-q", cwd=_foreign_project(tmp_path))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "3 passed" in run.stdout


def _start(venv: Path, where: Path, *args: str) -> served.Mock:
    """``rotor-mock serve`` of ``venv`` on a free port, run in ``where``, its output logged there."""
    return served.start(where, [str(_bin(venv, "rotor-mock")), "serve"], *args, cwd=where)


def _stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
        raise
