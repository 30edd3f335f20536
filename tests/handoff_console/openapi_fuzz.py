"""A small, deterministic request generator driven by an OpenAPI 3.0 document.

Schemathesis (and Hypothesis with hypothesis-jsonschema) would be the usual tools,
but none of them is in the pinned environment, so this module does the part the
console's tests need: for every operation of the document it derives requests from
the operation's path and query parameters and its JSON request body schema, mixing
plausible values with boundary and hostile ones: ids of 2**63 and 2**64, 0, -1,
huge strings, wrong types, control characters, lone surrogates, malformed and deeply
nested JSON. A seeded `random.Random` picks a bounded sample per operation, so a run
is reproducible and its size is known in advance.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

HUGE = "x" * 100_000
CONTROL = "a\u0088b\x00c\x1b[31m\x7f\r\n"
SURROGATE = "hello \ud800 open?"

ID_VALUES: list[Any] = [1, 2, 2**63 - 1, 2**63, 2**64, 10**30, 0, -1]
"""Path and body id values: real ones, the largest valid one, and beyond."""

PATH_NOISE: list[str] = ["abc", "1.0", "9" * 400, "%00", "%20", "\u0663", "1e3", "0x10"]
"""Path segments that are not ids at all."""

STRING_VALUES: list[Any] = ["", " ", "hello", CONTROL, SURROGATE, HUGE, "/restart", "<b>&amp;"]
WRONG_TYPES: list[Any] = [None, True, 1.5, -7, [], {}, ["a"], {"a": 1}]

BAD_BODIES: list[bytes] = [
    b"",
    b"{not json",
    b"[]",
    b'"text"',
    b"null",
    b"123",
    b"\xff\xfe\x00",
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    b'{"text": "\\ud800"}',
    b"NaN",
]
"""Whole bodies that are not the JSON object any operation expects."""


@dataclass(frozen=True)
class FuzzRequest:
    """One generated request.

    Attributes:
        operation: ``"METHOD /path/{template}"``, for reports.
        method: The HTTP method.
        path: The request target, with the query string.
        body: The raw body, or None.
        note: How the request was made (which value was varied), for reports.
    """

    operation: str
    method: str
    path: str
    body: bytes | None
    note: str


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """Follow ``$ref`` and ``allOf`` (first part) so a schema can be read directly."""
    seen = 0
    while "$ref" in schema and seen < 20:
        target: Any = document
        for part in schema["$ref"].lstrip("#/").split("/"):
            target = target[part]
        schema = target
        seen += 1
    if schema.get("allOf"):
        return resolve(document, schema["allOf"][0])
    return schema


def plausible(document: dict[str, Any], schema: dict[str, Any]) -> Any:
    """A value of the schema's type that an honest client might send."""
    schema = resolve(document, schema)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "integer":
        return max(1, int(schema.get("minimum", 1)))
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return False
    if kind == "array":
        return [plausible(document, schema.get("items", {}))]
    if kind == "object":
        return {
            name: plausible(document, sub) for name, sub in schema.get("properties", {}).items()
        }
    if schema.get("format") == "date":
        return "2099-01-01"
    if schema.get("format") == "date-time":
        return "2099-01-01T00:00:00Z"
    return "hello"


def hostile(document: dict[str, Any], schema: dict[str, Any]) -> list[Any]:
    """Values that probe the schema's type: boundaries, wrong types and nasty text."""
    schema = resolve(document, schema)
    kind = schema.get("type")
    values: list[Any] = list(schema.get("enum", []))
    if kind == "integer":
        values += [*ID_VALUES, -(2**63) - 1, 2**31, "1", "2**64"]
    elif kind == "number":
        values += [0, -1, 1e308, -1e308, 2**64, "1.5"]
    elif kind == "boolean":
        values += [True, "true", 0, 1]
    elif kind == "array":
        item = schema.get("items", {})
        values += [[], [None], ["x"] * 10_000, "not a list", [{}]]
        values += [[v] for v in hostile(document, item)[:6]]
    elif kind == "object":
        values += ["not an object", [], {"": None}]
    else:
        values += STRING_VALUES
        if schema.get("format") in {"date", "date-time"}:
            values += ["2026-02-30", "0000-01-01", "9999-12-31", "31/12/2026", "2026-W01"]
    return values + WRONG_TYPES


def _encode(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=True).encode("ascii")


def _urlencode(query: dict[str, str]) -> str:
    # surrogatepass: a lone surrogate goes out as the invalid UTF-8 it would be on the wire
    return urlencode(query, encoding="utf-8", errors="surrogatepass")


def _query_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _bodies(document: dict[str, Any], operation: dict[str, Any]) -> list[tuple[bytes | None, str]]:
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    if schema is None:
        return [(None, "no body")]
    schema = resolve(document, schema)
    base = plausible(document, schema)
    bodies: list[tuple[bytes | None, str]] = [(_encode(base), "plausible body")]
    properties = schema.get("properties", {})
    for name in schema.get("required", []):
        bodies.append((_encode({k: v for k, v in base.items() if k != name}), f"without {name}"))
    for name, sub in properties.items():
        for value in hostile(document, sub):
            bodies.append((_encode({**base, name: value}), f"{name}={_short(value)}"))
    bodies += [(raw, f"raw body {_short(raw)}") for raw in BAD_BODIES]
    return bodies


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:30]}…({len(text)} chars)"


def _path_values(path: str) -> list[str]:
    if "{" not in path:
        return [""]
    return [str(v) for v in ID_VALUES] + PATH_NOISE


def _queries(document: dict[str, Any], operation: dict[str, Any]) -> list[tuple[str, str]]:
    queries = [("", "no query")]
    parameters = [p for p in operation.get("parameters", []) if p.get("in") == "query"]
    plausible_query = {p["name"]: _query_text(plausible(document, p["schema"])) for p in parameters}
    if plausible_query:
        queries.append((_urlencode(plausible_query), "plausible query"))
    for parameter in parameters:
        for value in hostile(document, parameter["schema"]):
            text = _query_text(value)[:20_000]
            one = {**plausible_query, parameter["name"]: text}
            queries.append((_urlencode(one), f"?{parameter['name']}={_short(value)}"))
    return queries


def requests_for(
    document: dict[str, Any], rng: random.Random, per_operation: int
) -> Iterator[FuzzRequest]:
    """Up to ``per_operation`` requests for every operation of ``document``.

    Every combination of a path value, a query and a body is a candidate; a seeded
    sample of them is yielded, so the run is reproducible and bounded.
    """
    for template in sorted(document["paths"]):
        for method, operation in sorted(document["paths"][template].items()):
            candidates = [
                (segment, query, body)
                for segment in _path_values(template)
                for query in _queries(document, operation)
                for body in _bodies(document, operation)
            ]
            chosen = (
                candidates
                if len(candidates) <= per_operation
                else rng.sample(candidates, per_operation)
            )
            for segment, (query, query_note), (body, body_note) in chosen:
                path = template.replace("{id}", quote(segment, safe="%"))
                if query:
                    path = f"{path}?{query}"
                notes = (f"id={_short(segment)}" if segment else "", query_note, body_note)
                note = ", ".join(n for n in notes if n)
                yield FuzzRequest(f"{method.upper()} {template}", method.upper(), path, body, note)
