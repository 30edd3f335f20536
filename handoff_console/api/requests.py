"""Plumbing shared by the JSON API's handlers: the caller, bodies, the store, Rasa, errors."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from typing import Any, TypeVar

from sanic import response
from sanic.exceptions import InvalidUsage, MethodNotSupported
from sanic.exceptions import NotFound as RouteNotFound
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.orm import Session

from handoff_console.auth import StaffIdentity
from handoff_console.services.errors import ApiError, BadRequest, UpstreamUnavailable
from messaging.rasa_client import RasaClient
from messaging.relay import PENDING, Delivery, send_and_record

__all__ = [
    "INVALID_UNICODE",
    "answer",
    "api_error",
    "as_caller",
    "as_staff",
    "body_fields",
    "has_lone_surrogate",
    "in_store",
    "json_body",
    "rasa",
    "send_now",
    "staff",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")

_SURROGATE = re.compile("[\ud800-\udfff]")
INVALID_UNICODE = "The body contains invalid Unicode (a lone surrogate)."


def staff(request: Request) -> StaffIdentity:
    """The signed-in staff member (set by ``require_staff``)."""
    identity: StaffIdentity = request.ctx.staff
    return identity


def has_lone_surrogate(value: object) -> bool:
    """True when a decoded JSON value holds a lone surrogate in any key or string.

    JSON may escape one (``"\\ud800"``), but no UTF-8 store or socket can carry it,
    so the API refuses such a body with a 400 rather than failing later with a 500.
    Walks without recursion, since a body may nest thousands of levels deep.
    """
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object body, or a 400 (not JSON, not an object, lone surrogates)."""
    try:
        body = request.json
    except InvalidUsage as error:
        raise BadRequest("bad_json", "The body is not valid JSON.") from error
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise BadRequest("bad_json", "The body must be a JSON object.")
    if has_lone_surrogate(body):
        raise BadRequest("bad_text", INVALID_UNICODE)
    return body


def body_fields(body: dict[str, Any], *names: str) -> dict[str, Any]:
    """The values of ``names`` in a JSON body (None where left out), to pass on as keywords."""
    return {name: body.get(name) for name in names}


async def in_store(request: Request, work: Callable[[Session], T]) -> T:
    """Run ``work`` in one transaction, off the event loop."""
    sessions = request.app.ctx.sessions

    def _run() -> T:
        with sessions.begin() as session:
            return work(session)

    return await asyncio.to_thread(_run)


async def answer(
    request: Request, work: Callable[[Session], Any], status: int = 200
) -> HTTPResponse:
    """Run ``work`` in one transaction and answer with its result as JSON."""
    return response.json(await in_store(request, work), status=status)


async def as_caller(
    request: Request,
    work: Callable[[Session, int, dict[str, Any]], Any],
    status: int = 200,
) -> HTTPResponse:
    """Answer with ``work(session, caller's staff id, JSON body)``, run in one transaction."""
    body = json_body(request)
    me = staff(request).id
    return await answer(request, lambda session: work(session, me, body), status=status)


async def as_staff(
    request: Request, work: Callable[[Session, int], Any], status: int = 200
) -> HTTPResponse:
    """Answer with ``work(session, caller's staff id)``, run in one transaction."""
    me = staff(request).id
    return await answer(request, lambda session: work(session, me), status=status)


async def send_now(request: Request, delivery: Delivery, **details: object) -> None:
    """Hand a queued librarian message to Rasa now; a 502 when Rasa is down (it is retried).

    Raises:
        UpstreamUnavailable: Rasa could not be reached; the body names the pending
            outbound row (``id``, ``status``) and ``details``.
    """
    error = await send_and_record(request.app.ctx.sessions, rasa(request), delivery)
    if error is not None:
        raise UpstreamUnavailable(
            "rasa_unreachable",
            "The chat server could not be reached; the message will be retried.",
            id=delivery.outbound_id,
            status=PENDING,
            **details,
        )


def rasa(request: Request) -> RasaClient:
    """The app's Rasa client."""
    client: RasaClient = request.app.ctx.rasa
    return client


def api_error(request: Request, error: Exception) -> HTTPResponse:
    """Every API error as ``{"error": code, "message": text}``."""
    if isinstance(error, ApiError):
        return response.json(error.body(), status=error.status_code)
    if isinstance(error, RouteNotFound):
        return response.json({"error": "not_found", "message": "No such endpoint."}, status=404)
    if isinstance(error, MethodNotSupported):
        return response.json(
            {"error": "method_not_allowed", "message": "Method not allowed here."}, status=405
        )
    logger.exception("unhandled error in %s %s", request.method, request.path)
    return response.json(
        {"error": "internal_error", "message": "Something went wrong on our side."}, status=500
    )
