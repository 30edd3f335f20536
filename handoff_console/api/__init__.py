"""The console's JSON API plumbing: declared routes (with their OpenAPI) and request helpers.

Blueprints declare each endpoint with :func:`route` and an `Operation`; the
handlers use :func:`json_body`, :func:`staff`, :func:`in_store` / :func:`answer`
and :func:`rasa`. ``handoff_console.openapi`` serves the document :func:`build_paths`
builds from the declarations.
"""

from __future__ import annotations

from handoff_console.api.registry import (
    ANY_STAFF,
    PUBLIC,
    ItemList,
    Operation,
    Query,
    build_paths,
    route,
)
from handoff_console.api.requests import (
    INVALID_UNICODE,
    answer,
    api_error,
    as_caller,
    as_staff,
    body_fields,
    has_lone_surrogate,
    in_store,
    json_body,
    rasa,
    send_now,
    staff,
)

__all__ = [
    "ANY_STAFF",
    "INVALID_UNICODE",
    "PUBLIC",
    "ItemList",
    "Operation",
    "Query",
    "answer",
    "api_error",
    "as_caller",
    "as_staff",
    "body_fields",
    "build_paths",
    "has_lone_surrogate",
    "in_store",
    "json_body",
    "rasa",
    "route",
    "send_now",
    "staff",
]
