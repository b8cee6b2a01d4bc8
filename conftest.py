"""Fixtures shared by the project's own tests: a small mock app and a client that validates
every ``/leads`` answer it sees against the spec."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import settings

from rotor_leads import spec
from rotor_leads.mock_server import create_app


class ValidatingClient(FlaskClient):
    """A Flask test client that checks each ``/leads`` response against ``spec`` (strictly)."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        response = super().open(*args, **kwargs)
        if response.request.path.endswith("/leads") and response.status_code != 204:
            spec.validate_response(
                response.status_code, response.headers, orjson.loads(response.get_data()), strict=True
            )
        return response


@pytest.fixture
def app() -> Iterator[Flask]:
    app = create_app(leads=120, seed=7)
    app.test_client_class = ValidatingClient
    yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def keep_hypothesis_profile() -> Iterator[None]:
    """For tests that run the contract suite in-process: it loads its "live" Hypothesis profile
    into this process; put ours back."""
    name = settings.get_current_profile_name()
    yield
    settings.load_profile(name)
