"""A Flask mock of the Rotor open API's ``GET /leads`` that follows ``spec/``.

The only public API is :func:`create_app` and its configuration.
"""

from __future__ import annotations

from rotor_leads.mock_server._app import create_app
from rotor_leads.mock_server._config import MockConfig
from rotor_leads.mock_server._data import FixtureError
from rotor_leads.mock_server._keys import DEMO_KEYS, ApiKey, KeysFileError

__all__ = ["DEMO_KEYS", "ApiKey", "FixtureError", "KeysFileError", "MockConfig", "create_app"]
