"""A Flask mock of the Rotor open API's ``GET /leads`` that follows ``rotor_leads.spec``.

The only public API is :func:`create_app` and its configuration. The names load on first
use: importing this package (as pytest does to load the ``rotor_api`` plugin) costs nothing.
What they import comes with the ``[mock]`` extra; without it, using one raises
:class:`~rotor_leads.spec.MissingExtra`, one line naming the command that installs it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rotor_leads.mock_server.engine._config import MockConfig
    from rotor_leads.mock_server.engine._data import FixtureError
    from rotor_leads.mock_server.engine._keys import DEMO_KEYS, ApiKey, KeysFileError
    from rotor_leads.mock_server.web._app import create_app

_WHERE = {
    "create_app": "web._app",
    "MockConfig": "engine._config",
    "FixtureError": "engine._data",
    "DEMO_KEYS": "engine._keys",
    "ApiKey": "engine._keys",
    "KeysFileError": "engine._keys",
}
__all__ = ["DEMO_KEYS", "ApiKey", "FixtureError", "KeysFileError", "MockConfig", "create_app", "main"]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from rotor_leads.spec import requires_extra

    with requires_extra("mock", what=f"{__name__}.{name}"):
        value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def main() -> None:
    """``rotor-mock``, the command line; one line, not a traceback, without the ``[mock]`` extra."""
    from rotor_leads.spec import DeclarationError, MissingExtra, load_document, requires_extra

    try:
        load_document()
        with requires_extra("mock", what="rotor-mock"):
            from rotor_leads.mock_server._cli import main as command
    except (MissingExtra, DeclarationError) as exc:
        raise SystemExit(f"Error: {exc}") from None
    command()


def __dir__() -> list[str]:
    return sorted(__all__)
