"""Record ids in console URLs, query strings and JSON bodies.

Every table's primary key is a positive integer that fits SQLite's and PostgreSQL's
signed 64-bit ``INTEGER``/``BIGINT``. An id outside ``1 .. 2**63 - 1`` cannot name a
record, and handing one to the database raises (``OverflowError`` on SQLite), so
such ids are refused at the route, the same way everywhere: **404** ("no such
record") for an integer out of range, whether it came in the path, the query string
or the body; **400** for a value that is not an integer at all (a body's string or
float, as before).

Path parameters use the ``id`` route type, whose cast is :func:`console_record_id`
(``/api/readers/<reader_id:id>``; ``create_app`` registers it): a segment that is
not a canonical positive decimal integer of at most 63 bits does not match the
route, so Sanic answers 404.
"""

from __future__ import annotations

import re

from handoff_console.schemas.base import MAX_ID
from handoff_console.services.errors import BadRequest, NotFound

__all__ = ["ID_PATTERN", "ID_ROUTE_TYPE", "MAX_ID", "body_id", "console_record_id", "query_id"]

ID_ROUTE_TYPE = "id"
"""The route parameter type of record ids: ``<name:id>``."""

# ASCII digits only: str.isdigit() and int() also accept other scripts' digits ("٣")
# and superscripts ("²", which int() refuses).
ID_PATTERN = r"[1-9][0-9]{0,18}"
_CANONICAL = re.compile(ID_PATTERN)


def console_record_id(param: str) -> int:
    """Cast a path segment to a record id; the router treats ValueError as "no match".

    The name is unique on purpose: sanic-routing puts route casts into the namespace
    of the router code it generates, by function name.

    Raises:
        ValueError: ``param`` is not a positive decimal integer of at most 63 bits.
    """
    if not _CANONICAL.fullmatch(param):
        raise ValueError(f"not a record id: {param[:40]!r}")
    value = int(param)
    if value > MAX_ID:
        raise ValueError("record id beyond 63 bits")
    return value


def _in_range(value: int, field: str) -> int:
    if not 1 <= value <= MAX_ID:
        raise NotFound("not_found", f"No record has the {field} {str(value)[:40]}.")
    return value


def body_id(value: object, field: str) -> int:
    """An id from a JSON body.

    Args:
        value: The decoded JSON value.
        field: The field's name, for the error message.

    Returns:
        The id.

    Raises:
        BadRequest: ``value`` is not a JSON integer (booleans are not integers here).
        NotFound: The integer is outside ``1 .. MAX_ID``, so no record has it.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest("bad_request", f"{field} must be an integer.")
    return _in_range(value, field)


def query_id(raw: str | None, field: str) -> int | None:
    """An optional id from the query string (None when absent).

    Raises:
        BadRequest: ``raw`` is not a decimal integer.
        NotFound: The integer is outside ``1 .. MAX_ID``.
    """
    if raw is None:
        return None
    if not re.fullmatch(r"-?[0-9]{1,400}", raw):
        raise BadRequest("bad_request", f"{field} must be a number.")
    return _in_range(int(raw), field)
