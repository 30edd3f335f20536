"""The base of every API model: OpenAPI 3.0 schemas and the views' JSON from one class.

A model is written once; :meth:`ApiModel.view` turns service data into the JSON the
API answers with, and the OpenAPI document uses the same class's ``schema()``. Fields
that may be null carry ``nullable: true`` (OpenAPI 3.0 has no ``type: null``), and
pydantic's ``title`` keys are left out of the document.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConstrainedInt, Extra, Field

__all__ = [
    "ID_SCHEMA",
    "MAX_ID",
    "ApiModel",
    "Day",
    "Error",
    "RecordId",
    "Timestamp",
    "openapi_schema",
]

MAX_ID = 2**63 - 1
"""The largest id a record can have (signed 64-bit integer)."""

ID_SCHEMA: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
"""Every record id: a positive 63-bit integer; any other integer is answered 404."""


def openapi_schema(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """Make pydantic's JSON Schema of ``model`` an OpenAPI 3.0 one, in place."""
    schema.pop("title", None)
    schema.pop("additionalProperties", None)
    properties: dict[str, Any] = schema.get("properties", {})
    for field in model.__fields__.values():
        prop = properties.get(field.alias)
        if prop is None:
            continue
        prop.pop("title", None)
        if field.allow_none and "$ref" in prop:
            properties[field.alias] = {"allOf": [{"$ref": prop.pop("$ref")}], **prop}
            prop = properties[field.alias]
        if field.allow_none and prop.pop("nullable", True):
            prop["nullable"] = True
        # list[X | None]: pydantic drops the None of the items; the document keeps it.
        items = prop.get("items")
        if field.sub_fields and field.sub_fields[0].allow_none and isinstance(items, dict):
            items["nullable"] = True
        for item in _nested(prop):
            item.pop("title", None)


def _nested(prop: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for key in ("items", "additionalProperties"):
        value = prop.get(key)
        if isinstance(value, dict):
            yield value
            yield from _nested(value)


class ApiModel(BaseModel):
    """A JSON shape of the API; ``view`` is the single way such a body is built."""

    class Config:
        """Unknown fields are a bug in the view, not data to pass through."""

        extra = Extra.forbid
        smart_union = True
        allow_population_by_field_name = True
        schema_extra: Callable[[dict[str, Any], type[BaseModel]], None] = staticmethod(
            openapi_schema
        )

    @classmethod
    def view(cls, **values: Any) -> dict[str, Any]:
        """The JSON body of these values, checked against the model."""
        return cls(**values).dict(by_alias=True)

    @classmethod
    def view_of(cls, source: object, **values: Any) -> dict[str, Any]:
        """``view`` of ``values``, each other field read from ``source``'s attribute of its name."""
        read = {name: getattr(source, name) for name in cls.__fields__ if name not in values}
        return cls.view(**read, **values)


class _IsoText(str):
    """Text of a date or datetime; a view may pass the value itself."""

    kind: ClassVar[type] = date
    fmt: ClassVar[str] = "date"

    @classmethod
    def __get_validators__(cls) -> Iterator[Callable[[object], str]]:
        yield cls.validate

    @classmethod
    def validate(cls, value: object) -> str:
        """ISO 8601 text of ``value`` (already text: kept as it is)."""
        if isinstance(value, cls.kind):
            return str(value.isoformat())  # type: ignore[attr-defined]
        if isinstance(value, str):
            return value
        raise TypeError(f"expected {cls.kind.__name__} or ISO 8601 text")

    @classmethod
    def __modify_schema__(cls, field_schema: dict[str, Any]) -> None:
        field_schema.update(type="string", format=cls.fmt)


class Timestamp(_IsoText):
    """An aware datetime, answered as ISO 8601 text."""

    kind = datetime
    fmt = "date-time"


class Day(_IsoText):
    """A date, answered as ISO 8601 text (YYYY-MM-DD)."""


class RecordId(ConstrainedInt):
    """A record id in a request body: a positive 63-bit integer (else 404)."""

    ge = 1
    le = MAX_ID


class Error(ApiModel):
    """Every error: ``{"error": code, "message": text}``, sometimes with details."""

    error: str = Field(example="already_claimed")
    message: str = Field(None, nullable=False)
    claimed_by: str = Field(None, description="with already_claimed", nullable=False)
