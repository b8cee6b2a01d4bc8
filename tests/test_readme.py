"""The README's examples work as written: each is copied out of the README and run."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]
README = Path(__file__).resolve().parent.parent / "README.md"


def _block_after(heading: str, language: str) -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index(heading) :]
    match = re.search(rf"```{language}\n(.*?)```", section, flags=re.DOTALL)
    assert match is not None, f"no {language} block after {heading!r}"
    return match.group(1)


def test_readme__the_fixture_snippet_passes_in_a_project_of_its_own(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_snippet=_block_after("## A pytest fixture", "python"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1)


def test_readme__fixture_help_says_what_it_does(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_x="def test_x(rotor_api): pass")
    result = pytester.runpytest_subprocess("--fixtures", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*rotor_api*", "*https://api.getrotor.com/open-api*", "*fail_next(429*"])
