"""Tickets: list, reply (on the reader's chat or queued for email), change status."""

from __future__ import annotations

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff_console.auth import require_staff
from handoff_console.blueprints._api import in_store, json_body, rasa, staff
from handoff_console.services import relay
from handoff_console.services import tickets as service

bp = Blueprint("api_tickets")


@bp.get("/api/tickets")
@require_staff()
async def list_tickets(request: Request) -> HTTPResponse:
    """Tickets, newest first; ``?status=new|open|pending|closed`` filters."""
    status = request.args.get("status")
    items = await in_store(request, lambda s: service.list_tickets(s, status))
    return response.json({"items": items})


@bp.post("/api/tickets/<ticket_id:id>/reply")
@require_staff()
async def reply(request: Request, ticket_id: int) -> HTTPResponse:
    """Answer a ticket; the ticket becomes ``pending``."""
    text = json_body(request).get("text")
    me = staff(request)
    result, delivery = await in_store(
        request, lambda s: service.reply(s, ticket_id, me.id, me.role, text)
    )
    if delivery is not None:
        error = await relay.send_and_record(request.app.ctx.sessions, rasa(request), delivery)
        # The reply is saved either way; the worker retries an undelivered one.
        result["status"] = relay.PENDING if error else relay.SENT
    return response.json(result, status=201)


@bp.patch("/api/tickets/<ticket_id:id>")
@require_staff()
async def update(request: Request, ticket_id: int) -> HTTPResponse:
    """Change a ticket's status."""
    status = json_body(request).get("status")
    me = staff(request).id
    ticket = await in_store(request, lambda s: service.set_status(s, ticket_id, me, status))
    return response.json(ticket)
