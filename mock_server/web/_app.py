"""The application factory: the ``/leads`` endpoint in front of a Flask app that serves the
admin endpoints, CORS preflight, and JSON errors for every other path."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from rotor_leads import spec
from rotor_leads.mock_server.engine._config import MockConfig
from rotor_leads.mock_server.engine._runtime import Runtime
from rotor_leads.mock_server.engine.state import StateError, StateUnavailable
from rotor_leads.mock_server.web._admin import admin
from rotor_leads.mock_server.web._context import EXTENSION, json_response, runtime
from rotor_leads.mock_server.web._errors import METHOD_NOT_ALLOWED, NOT_FOUND, ApiError
from rotor_leads.mock_server.web._leads import CORS_HEADERS, LeadsEndpoint, preflight_headers, unavailable
from rotor_leads.mock_server.web._pages import pages


def _render_error(error: ApiError) -> Response:
    return json_response(error.render(), error.status, error.headers)


def _render_http_error(error: HTTPException) -> Response:
    if error.code == 405:
        allowed = sorted(getattr(error, "valid_methods", None) or ["GET"])
        headers = {"Allow": ", ".join(allowed)}
        return _render_error(ApiError(METHOD_NOT_ALLOWED, headers=headers, method=request.method[:20]))
    if error.code == 404:
        return _render_error(ApiError(NOT_FOUND, path=request.path[:200]))
    status = error.code or 500
    name = error.name.upper().replace(" ", "_")
    detail = spec.ErrorSpec(
        status, name, (error.description or error.name).replace("{", "(").replace("}", ")"), ""
    )
    return _render_error(ApiError(detail))


NO_ROOM: Final = spec.ErrorSpec(
    507, "INSUFFICIENT_STORAGE", "The mock cannot write its state ({detail}); nothing was changed.", ""
)


def _render_state_error(error: StateError) -> Response:
    runtime().logger.error("%s", error)
    if isinstance(error, StateUnavailable):
        return _render_error(unavailable(error))
    return _render_error(ApiError(NO_ROOM, detail=str(error).replace("{", "(").replace("}", ")")))


def _render_crash(error: Exception) -> Response:
    runtime().logger.exception("unexpected error answering %s", request.path)
    return _render_error(ApiError(spec.ERRORS["INTERNAL_ERROR"]))


def _admin_path() -> bool:
    return request.path == "/__admin" or request.path.startswith("/__admin/")


def _no_content(headers: dict[str, str]) -> Response:
    answer = Response(status=204, headers=headers)
    del answer.headers["Content-Type"]  # no body, so no type
    return answer


def _preflight() -> Response | None:
    if request.method != "OPTIONS":
        return None
    if _admin_path():
        # The admin API answers no preflight (no CORS header: a page on another origin cannot
        # call it); an OPTIONS of one of its paths is told what the path allows, with no body.
        if request.url_rule is None:
            return None  # no such path: the JSON 404
        return _no_content({"Allow": ", ".join(sorted(request.url_rule.methods or ()))})
    if runtime().config.cors:
        return _no_content(preflight_headers(request.headers.get("Access-Control-Request-Headers")))
    return None


#: What every admin answer sends: no page may frame the admin page (clickjacking its buttons),
#: and no browser may read a JSON answer as anything else.
ADMIN_HEADERS: Final = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
}


def _cors(response: Response) -> Response:
    if _admin_path():
        response.headers.update(ADMIN_HEADERS)
    elif runtime().config.cors and "Access-Control-Allow-Origin" not in response.headers:
        response.headers.update(CORS_HEADERS)
    return response


def create_app(config: MockConfig | None = None, **overrides: Any) -> Flask:
    """Build the mock: ``create_app()`` for the defaults, ``create_app(leads=50, seed=3)`` or
    ``create_app(MockConfig(...))`` for others.

    Raises ``ValueError`` (or :class:`~mock_server.FixtureError`) for a bad configuration.
    """
    if config is None:
        config = MockConfig(**overrides)
    elif overrides:
        config = MockConfig(**{**config.__dict__, **overrides})
    rt = Runtime(config)
    app = Flask(__name__, root_path=str(Path(__file__).parent))
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    app.extensions[EXTENSION] = rt
    app.register_blueprint(admin)
    app.register_blueprint(pages)
    app.before_request(_preflight)
    app.after_request(_cors)
    app.register_error_handler(ApiError, _render_error)
    app.register_error_handler(StateError, _render_state_error)
    app.register_error_handler(HTTPException, _render_http_error)
    app.register_error_handler(Exception, _render_crash)
    app.wsgi_app = LeadsEndpoint(rt, app.wsgi_app)  # type: ignore[method-assign]
    return app
