"""The librarian inbox's lists and the supervisor view."""

from __future__ import annotations

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff_console import api
from handoff_console.schemas.inbox import InboxPage, SupervisorView
from handoff_console.services import inbox as inbox_service
from handoff_console.services import supervisor as supervisor_service

bp = Blueprint("api_inbox")

_WORD = {"type": "string", "maxLength": 80, "pattern": r"^[\w.-]+$"}
_DAY = {"type": "string", "format": "date"}

INBOX = api.Operation(
    "One page of an inbox list, with every list's count",
    InboxPage,
    errors={400: "Bad filter"},
    query=(
        api.Query("list", {"type": "string", "enum": list(inbox_service.LISTS)}, "Which list"),
        api.Query("channel", _WORD, "Only this channel (webchat, telegram, ...)"),
        api.Query("branch", _WORD, "Only handoffs to this branch or department"),
        api.Query("tag", _WORD, "Only handoffs with this tag"),
        api.Query(
            "language",
            {"type": "string", "pattern": "^[A-Za-z]{2,3}$"},
            "Only conversations in this language (ISO 639-1, as the NLU detected it)",
        ),
        api.Query("from", _DAY, "Last activity on or after this day"),
        api.Query("to", _DAY, "Last activity on or before this day"),
        api.Query("q", {"type": "string", "maxLength": 200}, "Words in the transcript"),
        api.Query("page", {"type": "integer", "minimum": 1}, "Page (25 a page)"),
    ),
    tag="inbox",
)
SUPERVISOR = api.Operation(
    "Who is online, each librarian's load and the queue",
    SupervisorView,
    errors={403: "Managers and admins only"},
    roles=("manager", "admin"),
    tag="inbox",
)


@api.route(bp, "GET", "/api/inbox", INBOX)
async def get_inbox(request: Request) -> HTTPResponse:
    """One page of one inbox list, filtered and searched, and every list's count."""
    filters = inbox_service.parse_filters({k: v[0] for k, v in request.args.items()})
    me = api.staff(request).id
    return await api.answer(request, lambda s: inbox_service.inbox_page(s, me, filters))


@api.route(bp, "GET", "/api/supervisor", SUPERVISOR)
async def get_supervisor(request: Request) -> HTTPResponse:
    """Presence and load of every active staff member, and the queue's figures."""
    return response.json(await api.in_store(request, supervisor_service.supervisor_view))
