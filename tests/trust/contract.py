"""The console's OpenAPI 3.0 document as JSON Schema: request strategies, response checks.

Schemathesis would be the usual tool, but it cannot join this environment (its
releases need jsonschema 4.18 or pytest older than 8; Rasa 3.6 pins jsonschema below
4.18), so this module does the part of it the trust tests need, with Hypothesis and
hypothesis-jsonschema: strategies for an operation's path id, query and JSON body
drawn from the document's own schemas (and, as often, values that break them), and
the checks schemathesis calls ``not_a_server_error``, ``status_code_conformance`` and
``response_schema_conformance``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import hypothesis.strategies as st
import jsonschema
from hypothesis_jsonschema import from_schema

__all__ = ["Operation", "Sent", "check_response", "operations", "request_strategy"]

ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
"""Any JSON value: the wrong type for most fields."""

NASTY_TEXT = st.sampled_from(
    ["", "\x00", "\ud800", "\u202etxt.exe", "\u200b\u200d", "a" * 70_000, "<b>x</b>", "%00"]
)


def _to_json_schema(schema: Any) -> Any:
    """OpenAPI 3.0 → JSON Schema: ``nullable`` becomes a null alternative; refs kept."""
    if isinstance(schema, list):
        return [_to_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {
        key: _to_json_schema(value)
        for key, value in schema.items()
        if key not in {"nullable", "example", "description"}
    }
    if schema.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


@dataclass(frozen=True)
class Operation:
    """One method of one path of the document."""

    method: str
    template: str
    spec: dict[str, Any]
    document: dict[str, Any]

    @property
    def name(self) -> str:
        return f"{self.method} {self.template}"

    def schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        """A standalone JSON Schema: ``schema`` with the document's components beside it."""
        components = _to_json_schema(self.document.get("components", {}))
        return {**_to_json_schema(schema), "components": components}

    @property
    def body_schema(self) -> dict[str, Any] | None:
        content = self.spec.get("requestBody", {}).get("content", {})
        schema = content.get("application/json", {}).get("schema")
        return None if schema is None else self.schema(schema)

    @property
    def query(self) -> list[dict[str, Any]]:
        return [p for p in self.spec.get("parameters", []) if p.get("in") == "query"]


def operations(document: dict[str, Any], skip: set[str]) -> list[Operation]:
    """Every operation of the document, in a stable order, but those named in ``skip``."""
    found = [
        Operation(method.upper(), template, spec, document)
        for template, item in sorted(document["paths"].items())
        for method, spec in sorted(item.items())
    ]
    return [op for op in found if op.name not in skip]


@dataclass(frozen=True)
class Sent:
    """One generated request."""

    method: str
    path: str
    body: bytes | None
    valid: bool

    def describe(self) -> str:
        body = "" if self.body is None else f" body={self.body[:160]!r}"
        return f"{self.method} {self.path[:160]}{body} ({'valid' if self.valid else 'invalid'})"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@st.composite
def request_strategy(draw: st.DrawFn, operation: Operation, ids: list[int]) -> Sent:
    """A request for ``operation``: mostly valid by the document, sometimes not."""
    valid = draw(st.booleans())
    path = operation.template
    if "{id}" in path:
        good = st.sampled_from(ids) | st.integers(1, 2**63 - 1)
        # Not "" (that is another route) nor 70,000 characters (a request-line limit).
        bad = st.integers() | st.sampled_from(["abc", "1.5", "0x10", "\x00", "\ud800", "\u202e1"])
        segment = _text(draw(good if valid else st.one_of(good, bad)))
        path = path.replace("{id}", quote(segment, safe="", errors="surrogatepass"))
    query: dict[str, str] = {}
    for parameter in operation.query:
        schema = operation.schema(parameter["schema"])
        value = draw(from_schema(schema) if valid else st.one_of(from_schema(schema), NASTY_TEXT))
        if draw(st.booleans()):
            query[parameter["name"]] = _text(value)[:4000]
    if query:
        path += "?" + urlencode(query, encoding="utf-8", errors="surrogatepass")
    body: bytes | None = None
    body_schema = operation.body_schema
    if body_schema is not None:
        strategy = from_schema(body_schema)
        value = draw(strategy if valid else st.one_of(strategy, ANY_JSON))
        body = json.dumps(value, ensure_ascii=True).encode("ascii")
    return Sent(operation.method, path, body, valid)


def check_response(operation: Operation, status: int, content_type: str, body: bytes) -> list[str]:
    """The problems with one response: a 5xx, an undocumented status, a body off its schema."""
    problems = []
    if status >= 500:
        problems.append(f"server error {status}")
    responses = operation.spec.get("responses", {})
    documented = responses.get(str(status))
    if documented is None:
        problems.append(f"undocumented status {status} (documented: {sorted(responses)})")
        return problems
    media = content_type.split(";")[0].strip()
    schema = documented.get("content", {}).get(media, {}).get("schema")
    if schema is None or media != "application/json":
        return problems
    try:
        value = json.loads(body)
    except ValueError:
        return [*problems, f"{status}: the body is not JSON: {body[:120]!r}"]
    try:
        jsonschema.validate(value, operation.schema(schema))
    except jsonschema.ValidationError as error:
        where = "/".join(str(p) for p in error.absolute_path)
        problems.append(
            f"{status}: body off its schema at {where or '(root)'}: {error.message[:200]}"
        )
    return problems
