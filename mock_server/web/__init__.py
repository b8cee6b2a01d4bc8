"""The mock's web layer: the app factory (:func:`create_app`), ``/leads`` behind two front
doors (WSGI in-process, RSGI for ``rotor-mock serve``), the admin API, the pages for people and
one place that renders every error. It reaches the engine through the app's runtime."""

from __future__ import annotations

from rotor_leads.mock_server.web._app import create_app

__all__ = ["create_app"]
