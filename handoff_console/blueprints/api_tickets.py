"""Tickets: list, reply (on the reader's chat or queued for email), change status."""

from __future__ import annotations

from typing import get_args

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff_console import api
from handoff_console.schemas.desk import (
    TextBody,
    Ticket,
    TicketReply,
    TicketStatus,
    TicketStatusBody,
)
from handoff_console.services import relay
from handoff_console.services import tickets as service

bp = Blueprint("api_tickets")

STATUS = {"type": "string", "enum": list(get_args(TicketStatus))}
LIST = api.Operation(
    "Tickets, newest first",
    api.ItemList(Ticket),
    errors={400: "bad_status"},
    query=(api.Query("status", STATUS),),
)
REPLY = api.Operation(
    "Reply on the reader's chat, or queue an email; the ticket becomes pending",
    TicketReply,
    status=201,
    errors={400: "empty_text or text_too_long", 409: "no_contact or unreachable_contact"},
    body=TextBody,
)
UPDATE = api.Operation(
    "Change a ticket's status", Ticket, errors={400: "bad_status"}, body=TicketStatusBody
)


@api.route(bp, "GET", "/api/tickets", LIST)
async def list_tickets(request: Request) -> HTTPResponse:
    """Tickets, newest first; ``?status=new|open|pending|closed`` filters."""
    status = request.args.get("status")
    items = await api.in_store(request, lambda s: service.list_tickets(s, status))
    return response.json({"items": items})


@api.route(bp, "POST", "/api/tickets/<ticket_id:id>/reply", REPLY)
async def reply(request: Request, ticket_id: int) -> HTTPResponse:
    """Answer a ticket; the ticket becomes ``pending``."""
    text = api.json_body(request).get("text")
    me = api.staff(request)
    result, delivery = await api.in_store(
        request, lambda s: service.reply(s, ticket_id, me.id, me.role, text)
    )
    if delivery is not None:
        error = await relay.send_and_record(request.app.ctx.sessions, api.rasa(request), delivery)
        # The reply is saved either way; the worker retries an undelivered one.
        result["status"] = relay.PENDING if error else relay.SENT
    return response.json(result, status=201)


@api.route(bp, "PATCH", "/api/tickets/<ticket_id:id>", UPDATE)
async def update(request: Request, ticket_id: int) -> HTTPResponse:
    """Change a ticket's status."""
    status = api.json_body(request).get("status")
    return await api.as_staff(request, lambda s, me: service.set_status(s, ticket_id, me, status))
