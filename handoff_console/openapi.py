"""The console API's OpenAPI 3.0 document, served at ``GET /api/openapi.json``.

The document is generated: every ``/api/`` route declared with
:func:`handoff_console.api.route` brings its own operation, with schemas from the
pydantic models in :mod:`handoff_console.schemas`. This module adds the parts that
belong to the whole API (info, servers, security schemes) and the description of
``GET /api/health``, whose route the home page's blueprint declares.
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff_console import api
from handoff_console.schemas.system import HealthReport

__all__ = ["DESCRIBED", "bp", "build_document"]

bp = Blueprint("api_openapi")

INFO = {
    "title": "Reader Interaction Center console API",
    "version": "1.0",
    "description": 'Every error is JSON {"error": code, "message": text}. '
    "Authenticate with the ric_session cookie (plus X-CSRF-Token on unsafe "
    "methods) or Authorization: Bearer <token>.",
}
SECURITY_SCHEMES = {
    "session": {"type": "apiKey", "in": "cookie", "name": "ric_session"},
    "bearer": {"type": "http", "scheme": "bearer"},
}
DESCRIBED = {
    ("GET", "/api/health"): api.Operation(
        "Health of every service, and the ingestion lag and quarantine",
        HealthReport,
        roles=api.PUBLIC,
        tag="system",
    ),
}
"""Routes declared without `api.route`, by (method, OpenAPI path)."""

OPENAPI = api.Operation("This document", {"type": "object"}, roles=api.PUBLIC, tag="system")


def build_document(app: Sanic) -> dict[str, Any]:
    """The OpenAPI 3.0 document of every ``/api`` endpoint ``app`` serves."""
    paths, schemas = api.build_paths(app, DESCRIBED)
    return {
        "openapi": "3.0.3",
        "info": INFO,
        "servers": [{"url": "/"}],
        "components": {"schemas": schemas, "securitySchemes": SECURITY_SCHEMES},
        "security": [{"session": []}, {"bearer": []}],
        "paths": paths,
    }


@api.route(bp, "GET", "/api/openapi.json", OPENAPI)
async def openapi(request: Request) -> HTTPResponse:
    """The OpenAPI document (built once per app: the routes do not change once it runs)."""
    document = getattr(request.app.ctx, "openapi", None)
    if document is None:
        document = request.app.ctx.openapi = build_document(request.app)
    return response.json(document)
