"""Every snippet of the README and of docs/ works as written.

Each fenced block is run by its language:

* ``python``: a block with a test is a test file in a project of its own, run by pytest (the
  ``rotor_api`` fixture comes from the installed plugin); any other block is a script;
* ``sh``: each command, in a fresh folder, with the project's commands on the PATH. A ``pip
  install`` of the project names extras the project has (``tests/test_install.py`` installs each
  from the wheel); ``rotor-mock serve`` starts in the background and answers before the next
  command; ``make`` targets exist. The examples' stand-ins are swapped for real ones: port 8080
  for a free one, the staging URL for a served mock, ``...`` and ``ROTOR_API_KEY`` for a key of it;
* ``yaml`` (a CI job): its ``run`` steps, as ``sh`` commands, with the job's ``env``;
* ``text``: output and usage, not run.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import served

pytest_plugins = ["pytester"]
ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BIN = Path(sys.executable).parent
EXTRAS = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"])
STAGING = "https://staging.example.com/open-api"
KEY = "demo-key-unlimited"
#: Commands that run until stopped: started in the background.
SERVING = ("rotor-mock serve",)


def _blocks() -> Iterator[Any]:
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in re.finditer(r"^```(\w*)\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE):
            line = text[: match.start()].count("\n") + 1
            language = match.group(1)
            assert language, f"{page.name}:{line}: a block without a language (python, sh, yaml or text)"
            if language != "text":
                yield pytest.param(language, match.group(2), id=f"{page.relative_to(ROOT)}:{line}")


def test_readme__every_block_says_its_language() -> None:
    assert list(_blocks())


@pytest.fixture(scope="session")
def staging(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """What the examples' staging URL stands for: a served mock."""
    with served.serve(tmp_path_factory.mktemp("staging"), "--leads", "120") as mock:
        yield mock.url


@pytest.mark.parametrize(("language", "source"), list(_blocks()))
def test_snippet__works_as_written(
    language: str, source: str, pytester: pytest.Pytester, tmp_path: Path, staging: str
) -> None:
    if language == "python":
        _python(source, pytester)
    elif language == "sh":
        _shell(source, tmp_path, staging, {})
    elif language == "yaml":
        job = yaml.safe_load(source)
        for step in job.get("steps") or next(iter(job.values()))["steps"]:
            if "run" in step:
                env = {k: KEY if "secrets." in str(v) else str(v) for k, v in step.get("env", {}).items()}
                _shell(step["run"], tmp_path, staging, env)
    else:
        pytest.fail(f"no way to run a {language!r} block: label output and usage as text")


def _python(source: str, pytester: pytest.Pytester) -> None:
    if re.search(r"^def test_", source, flags=re.MULTILINE):
        pytester.makepyfile(test_snippet=source)
        result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", timeout=120)
        result.assert_outcomes(passed=len(re.findall(r"^def test_", source, flags=re.MULTILINE)))
    else:
        run = subprocess.run(
            [sys.executable, "-c", source], cwd=pytester.path, capture_output=True, text=True, timeout=60
        )
        assert run.returncode == 0, run.stdout + run.stderr


def _commands(source: str) -> Iterator[str]:
    """The block's commands: continued lines joined, comment lines left out."""
    joined = re.sub(r"\\\n\s*", " ", source)
    for line in joined.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            yield line.strip()


def _shell(source: str, where: Path, staging: str, env: dict[str, str]) -> None:
    environment = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "ROTOR_API_KEY": KEY,  # the examples' readers have theirs set, as a CI job does
        **env,
    }
    port: int | None = None
    with ExitStack() as running:
        for command in _commands(source):
            words = shlex.split(command, comments=True)
            if words[:2] == ["pip", "install"]:
                _pip_install(words[2:])
                continue
            if words[:1] == ["make"]:
                check = subprocess.run(["make", "-n", *words[1:]], cwd=ROOT, capture_output=True, timeout=60)
                assert check.returncode == 0, f"{command}: {check.stderr.decode()}"
                continue
            if words[0] == "export":
                name, _, value = words[1].partition("=")
                environment[name] = KEY if value == "..." else value
                continue
            if " ".join(words[:2]) in SERVING:
                mock = running.enter_context(served.serve(where, *words[2:], env=environment, cwd=where))
                port = int(mock.url.rsplit(":", 1)[1])
                continue
            line = command.replace(STAGING, staging)
            if port is not None:
                line = line.replace("127.0.0.1:8080", f"127.0.0.1:{port}")
            cwd = ROOT if ".venv/" in line else where
            done = subprocess.run(
                ["bash", "-c", line], cwd=cwd, env=environment, capture_output=True, text=True, timeout=300
            )
            assert done.returncode == 0, f"{command}\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}"


def _pip_install(requirements: list[str]) -> None:
    for requirement in requirements:
        name, _, extras = requirement.strip("'\"").partition("[")
        if name in ("rotor-leads-contract", "."):
            wanted = set(extras.rstrip("]").split(",")) - {""}
            assert wanted <= EXTRAS, f"{requirement}: the project has no extra {wanted - EXTRAS}"
        else:
            pytest.fail(f"pip install {requirement}: the snippets install the project only")


def test_readme__fixture_help_says_what_it_does(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_x="def test_x(rotor_api): pass")
    result = pytester.runpytest_subprocess("--fixtures", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*rotor_api*", "*https://api.getrotor.com/open-api*", "*fail_next(429*"])
