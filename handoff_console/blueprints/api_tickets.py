"""Tickets: list, show, reply (on the reader's chat or by email), change status or assignee."""

from __future__ import annotations

from typing import get_args

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff_console import api
from handoff_console.schemas.desk import TextBody, TicketReply, TicketStatus
from handoff_console.schemas.tickets import TicketPatch, TicketView
from handoff_console.services import relay
from handoff_console.services import tickets as service

bp = Blueprint("api_tickets")

STATUS = {"type": "string", "enum": list(get_args(TicketStatus))}
ASSIGNEE = {"type": "string", "enum": ["me", "none"]}
LIST = api.Operation(
    "Tickets, newest first, each with its assignee and reply history",
    api.ItemList(TicketView),
    errors={400: "bad_status or bad_assignee"},
    query=(
        api.Query("status", STATUS),
        api.Query("assignee", ASSIGNEE, "me: assigned to the caller; none: unassigned"),
    ),
)
SHOW = api.Operation(
    "One ticket with its assignee and every reply", TicketView, errors={404: "not_found"}
)
REPLY = api.Operation(
    "Reply on the reader's chat, or queue an email; the ticket becomes pending",
    TicketReply,
    status=201,
    errors={400: "empty_text or text_too_long", 409: "no_contact or unreachable_contact"},
    body=TextBody,
)
UPDATE = api.Operation(
    "Change a ticket's status or assignee (assignee_id null unassigns)",
    TicketView,
    errors={400: "bad_request, bad_status or bad_assignee", 404: "not_found"},
    body=TicketPatch,
)


@api.route(bp, "GET", "/api/tickets", LIST)
async def list_tickets(request: Request) -> HTTPResponse:
    """Tickets, newest first; ``?status=new|open|pending|closed`` and ``?assignee=`` filter."""
    status, assignee = request.args.get("status"), request.args.get("assignee")
    me = api.staff(request).id
    items = await api.in_store(request, lambda s: service.list_tickets(s, status, assignee, me))
    return response.json({"items": items})


@api.route(bp, "GET", "/api/tickets/<ticket_id:id>", SHOW)
async def show(request: Request, ticket_id: int) -> HTTPResponse:
    """One ticket with its reply history."""
    return await api.answer(
        request, lambda s: service.ticket_view(s, service.get_ticket(s, ticket_id))
    )


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
    """Change a ticket's status, its assignee, or both."""
    return await api.as_caller(request, lambda s, me, body: service.update(s, ticket_id, me, body))
