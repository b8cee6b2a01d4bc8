from __future__ import annotations

from rotor_leads import spec


def test_spec__exports_exactly_its_public_api() -> None:
    # (pytest's assertion rewriting adds "@py_builtins" to modules of a plugin's distribution)
    public = {name for name in vars(spec) if name.isidentifier() and not name.startswith("_")} - {
        "annotations"
    }
    assert public == set(spec.__all__)


def test_mock_server__exports_exactly_its_public_api() -> None:
    from rotor_leads import mock_server

    public = {n for n in vars(mock_server) if n.isidentifier() and not n.startswith("_")} - {"annotations"}
    assert public - {"pytest_plugin"} == set(mock_server.__all__)
