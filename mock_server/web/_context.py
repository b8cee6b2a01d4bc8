"""What every view of the app reaches: the runtime of the app that answers, and the JSON
response. Views import this, never the module that builds the app (Flask's ``current_app``)."""

from __future__ import annotations

from typing import Final

from flask import Response, current_app

from rotor_leads.mock_server.engine._runtime import Runtime
from rotor_leads.mock_server.web._errors import JSON

EXTENSION: Final = "rotor_mock"


def runtime() -> Runtime:
    rt: Runtime = current_app.extensions[EXTENSION]
    return rt


def json_response(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status, headers=headers, content_type=JSON)
