"""Route declarations that are also the OpenAPI document.

:func:`route` registers a Sanic route, guards it with
:func:`~handoff_console.auth.require_staff` (unless it is public) and records its
`Operation` on the handler. :func:`build_paths` walks the app's routes and turns each
recorded operation into OpenAPI 3.0, with the request and response schemas taken
from the pydantic models the views serialise with, so the document covers exactly the
routes the app serves and cannot drift from the JSON they answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel
from pydantic.schema import schema as models_schema
from sanic import Blueprint, Sanic

from handoff_console.auth import require_staff
from handoff_console.schemas.base import ID_SCHEMA, Error

__all__ = [
    "ANY_STAFF",
    "OPERATION",
    "PUBLIC",
    "ItemList",
    "Operation",
    "Query",
    "build_paths",
    "route",
]

H = TypeVar("H", bound=Callable[..., Coroutine[Any, Any, Any]])

PUBLIC: tuple[str, ...] | None = None
"""``roles`` of a route anyone may call."""
ANY_STAFF: tuple[str, ...] = ()
"""``roles`` of a route any signed-in staff member may call."""
OPERATION = "openapi_operation"
"""The handler attribute that holds its `Operation`."""
REF = "#/components/schemas/"
_PARAMETER = re.compile(r"<\w+(:[^>]*)?>")
PATH_ID = {"name": "id", "in": "path", "required": True, "schema": ID_SCHEMA}
"""Every path parameter is a record id, named ``{id}`` in the document."""


@dataclass(frozen=True)
class Query:
    """An optional query parameter."""

    name: str
    schema: Mapping[str, Any]
    description: str = ""


@dataclass(frozen=True)
class ItemList:
    """A reply ``{"items": [model, ...]}``."""

    model: type[BaseModel]


Schema = type[BaseModel] | Mapping[str, Any] | ItemList
"""A response schema: a model, a list of a model, or a literal JSON Schema."""


@dataclass(frozen=True)
class Operation:
    """What the document says about one method of one route."""

    summary: str
    ok: Schema | None = None
    status: int = 200
    ok_description: str = "OK"
    media: str = "application/json"
    also: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    errors: Mapping[int, str] = field(default_factory=dict)
    body: type[BaseModel] | None = None
    query: tuple[Query, ...] = ()
    roles: tuple[str, ...] | None = ANY_STAFF
    tag: str = "console"

    def openapi(self, template: str, models: set[type[BaseModel]]) -> dict[str, Any]:
        """The OpenAPI operation object; response models are added to ``models``."""
        content = {self.media: {"schema": _schema(self.ok or {"type": "object"}, models)}}
        content.update({media: {"schema": dict(s)} for media, s in self.also.items()})
        responses: dict[str, Any] = {
            str(self.status): {"description": self.ok_description, "content": content}
        }
        errors = dict(self.errors)
        if self.roles is not None:
            errors.setdefault(401, "Not signed in")
        if "{id}" in template:  # an id that is no record's (or no id at all): 404
            errors.setdefault(404, "No such record")
        for status, description in errors.items():
            responses[str(status)] = {
                "description": description,
                "content": {"application/json": {"schema": _schema(Error, models)}},
            }
        operation: dict[str, Any] = {"summary": self.summary, "tags": [self.tag]}
        operation["responses"] = responses
        if self.body is not None:
            body = self.body.schema(ref_template=REF + "{model}")
            body.pop("description", None)
            # Models nested in a body ($ref) are documented under components too.
            body.pop("definitions", None)
            models.update(_nested_models(self.body))
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": body}},
            }
        parameters = [_query(q) for q in self.query]
        if "{id}" in template:
            parameters.insert(0, dict(PATH_ID))
        if parameters:
            operation["parameters"] = parameters
        if self.roles is None:
            operation["security"] = []
        return operation


def _nested_models(model: type[BaseModel]) -> set[type[BaseModel]]:
    """The models a model's fields hold (in lists and optionals too), recursively."""
    found: set[type[BaseModel]] = set()
    pending = [model]
    while pending:
        for model_field in pending.pop().__fields__.values():
            inner = model_field.type_
            if isinstance(inner, type) and issubclass(inner, BaseModel) and inner not in found:
                found.add(inner)
                pending.append(inner)
    return found


def _query(query: Query) -> dict[str, Any]:
    return {
        "name": query.name,
        "in": "query",
        "required": False,
        "schema": dict(query.schema),
        "description": query.description,
    }


def _schema(value: Schema, models: set[type[BaseModel]]) -> dict[str, Any]:
    if isinstance(value, ItemList):
        items = {"type": "array", "items": _schema(value.model, models)}
        return {"type": "object", "properties": {"items": items}}
    if isinstance(value, type) and issubclass(value, BaseModel):
        models.add(value)
        return {"$ref": REF + value.__name__}
    return dict(value)


def route(bp: Blueprint, method: str, uri: str, operation: Operation) -> Callable[[H], H]:
    """Register ``uri`` on ``bp`` for ``method``, guarded by ``operation.roles``, documented.

    Args:
        bp: The feature's blueprint.
        method: The HTTP method.
        uri: The Sanic route, ids as ``<name:id>``.
        operation: What the OpenAPI document says about it; ``roles`` None is public.
    """

    def decorate(handler: H) -> H:
        roles = operation.roles
        guarded = handler if roles is None else require_staff(*roles)(handler)
        setattr(guarded, OPERATION, operation)
        bp.route(uri, methods=[method])(guarded)
        return guarded

    return decorate


def openapi_path(sanic_path: str) -> str:
    """``api/readers/<reader_id:id>`` → ``/api/readers/{id}``."""
    return _PARAMETER.sub("{id}", "/" + sanic_path.lstrip("/"))


def build_paths(app: Sanic) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``paths`` and ``components.schemas`` of every ``/api/`` route declared with
    :func:`route` in ``app``."""
    paths: dict[str, Any] = {}
    models: set[type[BaseModel]] = {Error}
    for route in app.router.routes:
        template = openapi_path(route.path)
        if not template.startswith("/api/"):
            continue
        for method in sorted(route.methods):
            operation = getattr(route.handler, OPERATION, None)
            if operation is not None:
                item = paths.setdefault(template, {})
                item[method.lower()] = operation.openapi(template, models)
    definitions = models_schema(sorted(models, key=str), ref_prefix=REF)["definitions"]
    return dict(sorted(paths.items())), dict(sorted(definitions.items()))
