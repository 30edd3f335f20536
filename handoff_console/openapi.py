"""The console API's OpenAPI 3.0 document, served at ``GET /api/openapi.json``.

The document is generated: every ``/api/`` route declared with
:func:`handoff_console.api.route` brings its own operation, with schemas from the
pydantic models in :mod:`handoff_console.schemas`. This module adds the parts that
belong to the whole API (info, servers, security schemes).
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff_console import api

__all__ = ["bp", "build_document"]

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
OPENAPI = api.Operation("This document", {"type": "object"}, roles=api.PUBLIC, tag="system")


def build_document(app: Sanic) -> dict[str, Any]:
    """The OpenAPI 3.0 document of every ``/api`` endpoint ``app`` serves."""
    paths, schemas = api.build_paths(app)
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
