"""The entry point worker processes of the production server import."""

from __future__ import annotations

import os
from typing import Final

import orjson

from rotor_leads.mock_server.engine._config import MockConfig
from rotor_leads.mock_server.web._app import create_app
from rotor_leads.mock_server.web._rsgi import RsgiApp

CONFIG_ENV: Final = "ROTOR_MOCK_CONFIG"


def app_from_env() -> RsgiApp:
    """The app for one worker, configured by the ``ROTOR_MOCK_CONFIG`` JSON the CLI set."""
    raw = os.environ.get(CONFIG_ENV)
    if raw is None:
        raise RuntimeError(f"{CONFIG_ENV} is not set: start the mock with `rotor-mock serve`")
    return RsgiApp(create_app(MockConfig.from_json(orjson.loads(raw))))
