"""Pages for people: the interactive API reference (``/docs``, Swagger UI from the
flask-swagger-ui package, so it works offline) and the admin dashboard (``/__admin``)."""

from __future__ import annotations

import copy
from importlib.resources import files
from typing import Any

import orjson
from flask import Blueprint, Response, render_template, request, send_from_directory

from rotor_leads import spec
from rotor_leads.mock_server.engine._keys import DEMO_KEYS
from rotor_leads.mock_server.web._context import json_response, runtime

pages = Blueprint("pages", __name__, template_folder="templates")
_SWAGGER_DIST = str(files("flask_swagger_ui") / "dist")


@pages.get("/docs")
@pages.get("/docs/")
def docs() -> str:
    keys = list(runtime().config.keys)
    demo = [k for k in keys if k in DEMO_KEYS]
    return render_template("docs.html", demo_keys=demo)


@pages.get("/docs/assets/<path:name>")
def docs_asset(name: str) -> Response:
    return send_from_directory(_SWAGGER_DIST, name)


@pages.get("/openapi.json")
def openapi() -> Response:
    """The contract as Swagger UI reads it: this mock listed first among the servers so "Try it
    out" calls it, and without ``jsonSchemaDialect`` (its value is the one OpenAPI 3.1 schemas
    mean anyway, but Swagger UI shows a warning box for any value; spec/openapi.yaml keeps it)."""
    document: dict[str, Any] = copy.deepcopy(spec.load_document())
    document.pop("jsonSchemaDialect", None)
    document["info"].pop("x-contract-notes", None)
    document["servers"] = [
        {"url": request.host_url.rstrip("/"), "description": "This mock"},
        *document["servers"],
    ]
    return json_response(orjson.dumps(document))


@pages.get("/__admin")
@pages.get("/__admin/")
def dashboard() -> str:
    return render_template("admin.html")
