from __future__ import annotations

import subprocess
import sys

import pytest

from rotor_leads import spec

#: Names that load on first use (Hypothesis comes with the [suite] extra).
SPEC_LAZY = {"from_schema"}


def test_spec__exports_exactly_its_public_api() -> None:
    # (pytest's assertion rewriting adds "@py_builtins" to modules of a plugin's distribution)
    public = {name for name in vars(spec) if name.isidentifier() and not name.startswith("_")} - {
        "annotations",
        "TYPE_CHECKING",
        "Any",
    }
    assert public | SPEC_LAZY == set(spec.__all__)
    assert all(getattr(spec, name) is not None for name in spec.__all__)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        spec.nothing  # noqa: B018


def test_mock_server__exports_exactly_its_public_api() -> None:
    from rotor_leads import mock_server

    assert dir(mock_server) == sorted(mock_server.__all__)
    for name in mock_server.__all__:
        assert getattr(mock_server, name) is not None


HEAVY = [
    "flask",
    "werkzeug",
    "granian",
    "faker",
    "respx",
    "jsonschema",
    "yaml",
    "hypothesis",
    "rotor_leads.spec",
]


def test_pytest_plugin__loads_nothing_heavy() -> None:
    probe = (
        "import sys, rotor_leads.mock_server.pytest_plugin; "
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"
