"""One conversation: view, claim (or take over), messages, notes, transfer, resolve, reopen."""

from __future__ import annotations

import logging
from typing import Any

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.orm import Session

from handoff_console import api
from handoff_console.schemas.conversations import (
    Conversation,
    HandoffReply,
    Note,
    SentMessage,
    Typing,
)
from handoff_console.schemas.desk import (
    ClaimBody,
    NoteBody,
    ResolveBody,
    TextBody,
    TransferBody,
    TypingBody,
)
from handoff_console.services import conversation_views as views
from handoff_console.services import conversations as service
from handoff_console.services import relay
from handoff_console.services.common import get_conversation, now
from handoff_console.services.errors import BadRequest, UpstreamUnavailable
from messaging.rasa_client import RasaError

logger = logging.getLogger(__name__)

bp = Blueprint("api_conversations")

CONFLICT = "already_claimed (with claimed_by), not_in_handoff or at_capacity"
VIEW = api.Operation(
    "A conversation with messages, notes and the reader's profile",
    Conversation,
    errors={404: "No such conversation"},
)
CLAIM = api.Operation(
    "Claim the conversation, or take it over from a colleague (take_over, audited)",
    HandoffReply,
    errors={409: CONFLICT, 404: "No such conversation", 400: "take_over is not a boolean"},
    body=ClaimBody,
)


def _rasa_errors(bad_input: str, conflict: str, unreachable: str) -> dict[int, str]:
    """The errors of an operation that reaches Rasa: bad input, a conflict, Rasa down."""
    return {400: bad_input, 409: CONFLICT + conflict, 502: f"rasa_unreachable: {unreachable}"}


SEND = api.Operation(
    "Send a message to the reader through Rasa; a waiting conversation is claimed first",
    SentMessage,
    status=201,
    errors=_rasa_errors(
        "empty_text or text_too_long",
        "; nothing is saved or sent (a colleague's: claim with take_over)",
        "saved as pending (id, status) and retried",
    ),
    body=TextBody,
)
NOTE = api.Operation(
    "Add a private note: shown in the staff transcript, never relayed to the reader",
    Note,
    status=201,
    errors={400: "Empty note"},
    body=NoteBody,
)
TYPING = api.Operation(
    "Tell the reader's web chat that you are typing a reply (or stopped); it shows "
    '"<first name> is typing…" for a few seconds after each call. On Telegram, while '
    'you hold the handoff, the chat shows "typing…" (at most one Bot API call per 4 s)',
    Typing,
    errors={400: "on is not a boolean", 404: "No such conversation"},
    body=TypingBody,
)
TRANSFER = api.Operation(
    "Transfer to a colleague or back to the queue",
    HandoffReply,
    errors={409: CONFLICT},
    body=TransferBody,
)
RESOLVE = api.Operation(
    "Resolve the handoff and give the conversation back to the bot",
    HandoffReply,
    errors=_rasa_errors(
        "require_answered is not a boolean",
        ", or unanswered (with require_answered)",
        "nothing changed",
    ),
    body=ResolveBody,
)
REOPEN = api.Operation(
    "Reopen a resolved conversation; you hold it and the bot pauses",
    HandoffReply,
    errors={409: "not_resolved, already_open or at_capacity", 502: "rasa_unreachable"},
)


@api.route(bp, "GET", "/api/conversations/<conversation_id:id>", VIEW)
async def view(request: Request, conversation_id: int) -> HTTPResponse:
    """The conversation, its handoff, every message, notes and the reader's profile."""

    def _read(session: Session) -> dict[str, Any]:
        undelivered = relay.undelivered(session, conversation_id)
        return views.conversation_view(session, conversation_id, undelivered)

    body = await api.in_store(request, _read)
    if body["reader"] is not None and body["reader"]["verified"]:
        body["reader"]["loans_summary"] = await views.loans_summary(
            api.rasa(request), body["sender_id"]
        )
    return response.json(body)


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise BadRequest("bad_request", f"{name} must be true or false.")
    return value


@api.route(bp, "POST", "/api/conversations/<conversation_id:id>/claim", CLAIM)
async def claim(request: Request, conversation_id: int) -> HTTPResponse:
    """Take the conversation: 409 ``already_claimed``, ``not_in_handoff`` or ``at_capacity``."""
    take_over = _flag(api.json_body(request), "take_over")
    return await api.as_staff(
        request,
        lambda s, me: {"handoff": service.claim(s, conversation_id, me, take_over=take_over)},
    )


@api.route(bp, "POST", "/api/conversations/<conversation_id:id>/messages", SEND)
async def send_message(request: Request, conversation_id: int) -> HTTPResponse:
    """Relay a librarian's message to the reader through Rasa (201, or 502 and retried)."""
    text = api.json_body(request).get("text")
    me = api.staff(request)
    delivery = await api.in_store(
        request, lambda s: relay.queue_message(s, conversation_id, me.id, me.role, text)
    )
    await api.send_now(request, delivery)
    return response.json({"id": delivery.outbound_id, "status": relay.SENT}, status=201)


@api.route(bp, "POST", "/api/conversations/<conversation_id:id>/notes", NOTE)
async def add_note(request: Request, conversation_id: int) -> HTTPResponse:
    """Add an internal note."""
    body = api.json_body(request).get("body")
    me = api.staff(request).id
    return await api.answer(
        request, lambda s: service.add_note(s, conversation_id, me, body), status=201
    )


@api.route(bp, "POST", "/api/conversations/<conversation_id:id>/typing", TYPING)
async def typing(request: Request, conversation_id: int) -> HTTPResponse:
    """Record the caller's typing in this conversation, for the reader's widget.

    In a Telegram conversation the chat is told too (:mod:`messaging.telegram_typing`:
    throttled per chat, and a failing Bot API is logged, never answered with an error).
    """
    body = api.json_body(request)
    on = body.get("on")
    if not isinstance(on, bool):
        raise BadRequest("bad_request", "on must be true or false.")
    me = api.staff(request).id

    def _record(session: Session) -> tuple[dict[str, Any], str | None]:
        view = service.set_typing(session, conversation_id, me, on=on)
        chat = service.telegram_typing_chat(session, conversation_id) if on else None
        return view, chat

    view, telegram_chat = await api.in_store(request, _record)
    if telegram_chat is not None:
        await request.app.ctx.telegram_typing.show(telegram_chat)
    return response.json(view)


@api.route(bp, "POST", "/api/conversations/<conversation_id:id>/transfer", TRANSFER)
async def transfer(request: Request, conversation_id: int) -> HTTPResponse:
    """Hand over to a colleague (``to_user_id``) or back to a department's queue."""
    options = api.body_fields(api.json_body(request), "to_user_id", "department", "note")
    me = api.staff(request)
    handoff = await api.in_store(
        request, lambda s: service.transfer(s, conversation_id, me.id, me.role, **options)
    )
    return response.json({"handoff": handoff})


@api.route(bp, "POST", "/api/conversations/<conversation_id:id>/resolve", RESOLVE)
async def resolve(request: Request, conversation_id: int) -> HTTPResponse:
    """Close the handoff and give the conversation back to the bot."""
    body = api.json_body(request)
    me = api.staff(request)

    require_answered = _flag(body, "require_answered")

    asked_at = now()

    def _check(session: Session) -> tuple[str, str]:
        service.check_resolve(
            session, conversation_id, me.id, me.role, require_answered=require_answered
        )
        conversation = get_conversation(session, conversation_id)
        return conversation.sender_id, conversation.channel

    sender_id, channel = await api.in_store(request, _check)
    try:
        await service.resume_in_rasa(api.rasa(request), sender_id, channel)
    except RasaError as error:
        logger.warning("could not resume %s: %s", sender_id, error)
        raise UpstreamUnavailable() from error
    options = api.body_fields(body, "note", "tags")
    handoff, conversation = await api.in_store(
        request,
        lambda s: service.resolve(s, conversation_id, me.id, me.role, at=asked_at, **options),
    )
    service.on_resolved(conversation)
    return response.json({"handoff": handoff})


@api.route(bp, "POST", "/api/conversations/<conversation_id:id>/reopen", REOPEN)
async def reopen(request: Request, conversation_id: int) -> HTTPResponse:
    """Take a resolved conversation back from the bot; the caller holds it."""
    me = api.staff(request).id

    def _check(session: Session) -> str:
        service.check_reopen(session, conversation_id, me)
        return get_conversation(session, conversation_id).sender_id

    sender_id = await api.in_store(request, _check)
    try:
        await api.rasa(request).append_events(sender_id, [{"event": "pause"}])
    except RasaError as error:
        raise UpstreamUnavailable() from error
    handoff = await api.in_store(request, lambda s: service.reopen(s, conversation_id, me))
    return response.json({"handoff": handoff})
