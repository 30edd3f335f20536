"""Errors the console's API answers with; each becomes ``{"error": code, "message": text}``.

The tree::

    ApiError (SanicException)
    ├── BadRequest          400 invalid input
    ├── NotFound            404 no such record
    ├── Conflict            409 the record is not in a state that allows this
    └── UpstreamUnavailable 502 Rasa could not be reached
"""

from __future__ import annotations

from typing import Any

from sanic.exceptions import SanicException


class ApiError(SanicException):
    """Base class of the console API's errors.

    A subclass names its status, code and default message as class keywords.
    """

    status_code = 500
    code = "internal_error"
    message = "Something went wrong."

    def __init_subclass__(cls, *, status: int, code: str, message: str) -> None:
        super().__init_subclass__()
        cls.status_code, cls.code, cls.message = status, code, message

    def __init__(self, code: str | None = None, message: str | None = None, **extra: Any) -> None:
        super().__init__(message or self.message, status_code=self.status_code)
        self.code = code or self.code
        self.message = message or self.message
        self.details = extra

    def body(self) -> dict[str, Any]:
        """The JSON body of the error reply."""
        return {"error": self.code, "message": self.message, **self.details}


class BadRequest(ApiError, status=400, code="bad_request", message="The request is invalid."):
    """The request is malformed or a value is invalid."""


class NotFound(ApiError, status=404, code="not_found", message="No such record."):
    """The record does not exist."""


class Conflict(
    ApiError, status=409, code="conflict", message="The record's state does not allow this."
):
    """The record's state does not allow this action."""


class UpstreamUnavailable(
    ApiError, status=502, code="rasa_unreachable", message="The chat server could not be reached."
):
    """Rasa could not be reached."""
