"""The example bodies printed on the reference page, read from its stored copy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PAGE = Path(__file__).resolve().parent.parent / "spec" / "reference" / "rotor-list-leads.txt"
_STATUS_BY_CODE = {
    "AUTHENTICATION_REQUIRED": 401,
    "INSUFFICIENT_SCOPE": 403,
    "RATE_LIMIT_EXCEEDED": 429,
    None: 500,
}


def page_bodies() -> list[tuple[int, dict[str, Any]]]:
    """Every JSON body on the page, with the status it documents (errors by their code)."""
    text = PAGE.read_text(encoding="utf-8")
    decoder = json.JSONDecoder()
    bodies: list[tuple[int, dict[str, Any]]] = []
    index = 0
    while (start := text.find("\n{", index)) != -1:
        body, index = decoder.raw_decode(text, start + 1)
        status = 200 if body.get("status") == "success" else _STATUS_BY_CODE[body.get("error_code")]
        bodies.append((status, body))
    return bodies
