"""Errors outside the JSON API: a page for browsers, JSON for clients that ask for it.

Errors under ``/api/`` are answered by :func:`handoff_console.api.api_error` (the API's
``{"error": code, "message": text}``); ``register_api`` hands every other path to this
handler's :meth:`ConsoleErrorHandler.default`. A browser gets ``error.html``, styled like
the rest of the console and with a way back; a client whose ``Accept`` names JSON and
not HTML gets the API's JSON shape. A 5xx page never names the exception: the log does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sanic.exceptions import MethodNotSupported, SanicException
from sanic.exceptions import NotFound as RouteNotFound
from sanic.handlers import ErrorHandler
from sanic.request import Request
from sanic.response import HTTPResponse, html, json

from handoff_console.auth import current_staff
from handoff_console.blueprints._render import SECURITY_HEADERS

__all__ = ["ConsoleErrorHandler", "ErrorView", "describe", "wants_json"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ErrorView:
    """What an error page or an error's JSON says.

    Attributes:
        status: The HTTP status.
        code: The machine-readable code, as in the API (``not_found``…).
        title: The page's heading.
        message: One or two sentences for the person who met the error.
    """

    status: int
    code: str
    title: str
    message: str


NOT_FOUND = ErrorView(
    404,
    "not_found",
    "Page not found",
    "There is no page at this address. The link may be mistyped, or the page may have moved.",
)
NOT_ALLOWED = ErrorView(
    405, "method_not_allowed", "Not allowed here", "This page cannot be used that way."
)
INTERNAL = ErrorView(
    500,
    "internal_error",
    "Something went wrong",
    "Something went wrong on our side, and it has been logged. "
    "Try again in a moment; if it keeps happening, tell your system administrator.",
)


def describe(error: Exception) -> ErrorView:
    """The page or JSON for ``error``: its own status for a client error, else a 500."""
    if isinstance(error, RouteNotFound):
        return NOT_FOUND
    if isinstance(error, MethodNotSupported):
        return NOT_ALLOWED
    status = getattr(error, "status_code", 500) if isinstance(error, SanicException) else 500
    if 400 <= status < 500:
        return ErrorView(status, "bad_request", "The request could not be handled", str(error))
    return INTERNAL


def wants_json(request: Request) -> bool:
    """Whether the client asked for JSON and not for an HTML page."""
    accept = request.headers.get("accept", "").lower()
    return "application/json" in accept and "text/html" not in accept


class ConsoleErrorHandler(ErrorHandler):
    """Sanic's error handler with the console's error page as its default."""

    def default(self, request: Request, exception: Exception) -> HTTPResponse:
        """Answer an error no other handler took: a page, or JSON when asked for."""
        view = describe(exception)
        if view.status >= 500:
            logger.error(
                "unhandled error in %s %s", request.method, request.path, exc_info=exception
            )
        headers = dict(getattr(exception, "headers", None) or {})  # Allow, on a 405
        if wants_json(request):
            body = {"error": view.code, "message": view.message}
            return json(body, status=view.status, headers=headers)
        # After a server error the store may be the very thing failing: name only the
        # staff member whom the request had already authenticated, without a query.
        staff = (
            getattr(request.ctx, "staff", None) if view.status >= 500 else current_staff(request)
        )
        page = request.app.ctx.templates.get_template("error.html").render(
            settings=request.app.ctx.settings, error=view, staff=staff
        )
        return html(page, status=view.status, headers={**SECURITY_HEADERS, **headers})
