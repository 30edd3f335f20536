"""Tickets: list, reply (on the reader's chat or queued for email), change status."""

from __future__ import annotations

from typing import get_args

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff_console.api import (
    ItemList,
    Operation,
    Query,
    answer,
    api_route,
    in_store,
    json_body,
    rasa,
    staff,
)
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
LIST = Operation(
    "Tickets, newest first",
    ItemList(Ticket),
    errors={400: "bad_status"},
    query=(Query("status", STATUS),),
)
REPLY = Operation(
    "Reply on the reader's chat, or queue an email; the ticket becomes pending",
    TicketReply,
    status=201,
    errors={409: "no_contact or unreachable_contact"},
    body=TextBody,
)
UPDATE = Operation(
    "Change a ticket's status", Ticket, errors={400: "bad_status"}, body=TicketStatusBody
)


@api_route(bp, "GET", "/api/tickets", LIST)
async def list_tickets(request: Request) -> HTTPResponse:
    """Tickets, newest first; ``?status=new|open|pending|closed`` filters."""
    status = request.args.get("status")
    items = await in_store(request, lambda s: service.list_tickets(s, status))
    return response.json({"items": items})


@api_route(bp, "POST", "/api/tickets/<ticket_id:id>/reply", REPLY)
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


@api_route(bp, "PATCH", "/api/tickets/<ticket_id:id>", UPDATE)
async def update(request: Request, ticket_id: int) -> HTTPResponse:
    """Change a ticket's status."""
    status = json_body(request).get("status")
    me = staff(request).id
    return await answer(request, lambda s: service.set_status(s, ticket_id, me, status))
