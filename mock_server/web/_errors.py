"""Errors as data: one exception type, rendered to the documented error body in one place."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Final

import orjson

from rotor_leads import spec

JSON: Final = "application/json"

NOT_FOUND: Final = spec.ErrorSpec(
    404, "NOT_FOUND", "No route {path}. The API serves GET /leads.", "schema.shape"
)
METHOD_NOT_ALLOWED: Final = spec.ErrorSpec(
    405, "METHOD_NOT_ALLOWED", "{method} is not allowed here. The API serves GET /leads.", "schema.shape"
)


class ApiError(Exception):
    """An answer in the documented error shape: status, body and extra headers."""

    def __init__(self, error: spec.ErrorSpec, *, headers: Mapping[str, str] | None = None, **fields: Any):
        super().__init__(error.error_code)
        self.status = error.status
        self.body = error.body(**fields)
        self.headers = dict(headers or {})

    @classmethod
    def answer(cls, status: int, body: Any, *, headers: Mapping[str, str] | None = None) -> ApiError:
        """An error answered as given: a profiled server's own status and body."""
        error = cls.__new__(cls)
        Exception.__init__(error, str(status))
        error.status, error.body, error.headers = status, body, dict(headers or {})
        return error

    def render(self) -> bytes:
        return orjson.dumps(self.body)


def validation_error(detail: str, *, headers: Mapping[str, str] | None = None) -> ApiError:
    return ApiError(spec.ERRORS["VALIDATION_ERROR"], headers=headers, detail=detail)


#: "200 OK", "429 Too Many Requests"… for every status, computed once.
STATUS_LINES: Final = {s.value: f"{s.value} {s.phrase}" for s in HTTPStatus}
