"""``rotor-contract``: the contract suite from an installed package, from any directory.

It runs pytest on the suite's own folder with the suite's own settings (``suite.ini``), never
a host project's: a ``pyproject.toml`` or ``pytest.ini`` where it runs may hold ``addopts`` or
a ``base_url`` meant for that project's tests. Any pytest option is passed through.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Final

from rotor_leads.contract_tests._report import Exit

SUITE: Final = Path(__file__).resolve().parent
SETTINGS: Final = SUITE / "suite.ini"
#: pytest's exit codes as the suite's: a crash or an interruption gives no verdict (never 1,
#: which says a rule is broken); a selection that runs nothing is a usage error.
INTERNAL_ERROR: Final = 3
NO_TESTS: Final = 5
EXIT_CODES: Final = {
    0: Exit.PASSED,
    1: Exit.FAILED,
    2: Exit.INCONCLUSIVE,
    INTERNAL_ERROR: Exit.INCONCLUSIVE,
    4: Exit.USAGE_ERROR,
    NO_TESTS: Exit.USAGE_ERROR,
}

DESCRIPTION: Final = """\
Check a server's GET /leads against the Rotor contract (without --base-url: the mock,
in-process, which needs the [mock] extra). Exit code 0 passed, 1 a rule is broken,
2 inconclusive (no verdict: the last line says why), 4 usage error (nothing was sent).

Any pytest option is passed through: -v, -x, -k EXPR, --junitxml FILE, -l, --tb=long…"""
EXAMPLE: Final = """\
example:
  ROTOR_API_KEY=... rotor-contract --base-url https://api.getrotor.com/open-api --report report.json"""


def _help() -> str:
    from rotor_leads.contract_tests._plugin import OPTIONS, option_settings

    parser = argparse.ArgumentParser(
        prog="rotor-contract",
        description=DESCRIPTION,
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        add_help=False,
    )
    for name, row in OPTIONS:
        parser.add_argument(name, **{k: v for k, v in option_settings(row).items() if k != "default"})
    parser.add_argument("--version", action="store_true", help="Print the versions that run the suite.")
    return parser.format_help()


def _version() -> str:
    def of(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    return (
        f"rotor-contract {of('rotor-leads-contract')} (pytest {of('pytest')},"
        f" hypothesis {of('hypothesis')}, httpx {of('httpx')})"
    )


def _cache() -> Path:
    if os.name == "nt" and "LOCALAPPDATA" in os.environ:
        return Path(os.environ["LOCALAPPDATA"]) / "rotor-contract"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rotor-contract"


def run(args: Sequence[str]) -> int:
    """Run the suite with ``args`` (the command line without the program name); the exit code."""
    if "-h" in args or "--help" in args:
        print(_help())
        return Exit.PASSED
    if "--version" in args:
        print(_version())
        return Exit.PASSED
    # Hypothesis keeps what it learns (and a cache) in .hypothesis/ where it runs: not in the
    # folder of a project that runs the command, but in the user's cache.
    os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(_cache() / "hypothesis"))
    import pytest  # not before: pytest imports its plugins itself, to rewrite their assertions

    status = int(pytest.main([str(SUITE), "-c", str(SETTINGS), "--rootdir", str(SUITE), *args]))
    if status == NO_TESTS:
        print(
            "rotor-contract: no check of the suite was selected (see -k, -m): nothing to judge",
            file=sys.stderr,
        )
    elif status == INTERNAL_ERROR:
        print("rotor-contract: the run broke off (INTERNALERROR above): no verdict", file=sys.stderr)
    return int(EXIT_CODES.get(status, Exit.INCONCLUSIVE))
