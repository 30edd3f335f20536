"""One conversation as a librarian works on it: view, claim, notes, transfer, resolve, reopen.

Store changes are plain functions on a session (the caller owns the transaction);
the ``*_in_rasa`` coroutines do the matching Rasa side, and the blueprints call
Rasa first and commit second, so a failed Rasa call changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from crm_store.models import (
    ChannelIdentity,
    Conversation,
    ConversationStatus,
    Feedback,
    Handoff,
    HandoffStatus,
    Message,
    Note,
    Reader,
    StaffRole,
    StaffUser,
    Ticket,
)
from handoff_console.services._common import (
    audit,
    check_text,
    get_conversation,
    iso,
    latest_handoff_of,
    now,
    open_handoff_of,
    staff_name,
)
from handoff_console.services.errors import BadRequest, Conflict, NotFound
from handoff_console.services.ids import body_id
from library import mask_card
from messaging.rasa_client import RasaClient, RasaError

logger = logging.getLogger(__name__)

BACK_INTENT = "EXTERNAL_handoff_resolved"
LOANS_TIMEOUT_SECONDS = 3.0

#: Called with the conversation after a handoff is resolved (the satisfaction survey hooks in).
resolved_hooks: list[Callable[[Conversation], None]] = []


def on_resolved(conversation: Conversation) -> None:
    """Hook run after a conversation's handoff is resolved; the later survey plugs in here."""
    for hook in resolved_hooks:
        try:
            hook(conversation)
        except Exception:
            logger.exception("a resolved-hook failed for conversation %s", conversation.id)


# -- views -----------------------------------------------------------------


def handoff_view(session: Session, handoff: Handoff | None) -> dict[str, Any] | None:
    """A handoff as the API shows it."""
    if handoff is None:
        return None
    librarian = session.get(StaffUser, handoff.librarian_id) if handoff.librarian_id else None
    return {
        "id": handoff.id,
        "status": handoff.status.value,
        "reason": handoff.reason,
        "librarian": None
        if librarian is None
        else {"id": librarian.id, "name": librarian.display_name},
        "requested_at": iso(handoff.requested_at),
        "claimed_at": iso(handoff.claimed_at),
        "first_response_at": iso(handoff.first_response_at),
        "resolved_at": iso(handoff.resolved_at),
        "resolution_note": handoff.resolution_note,
        "tags": list(handoff.tags or []),
        "department": handoff.department,
        "transfer_note": handoff.transfer_note,
    }


def message_view(message: Message, names: dict[int, str]) -> dict[str, Any]:
    """A stored message as the API shows it."""
    return {
        "id": message.id,
        "sender_kind": message.sender_kind.value,
        "text": message.text,
        "channel": message.channel,
        "sent_at": iso(message.sent_at),
        "librarian_name": names.get(message.librarian_id) if message.librarian_id else None,
    }


def staff_names(session: Session) -> dict[int, str]:
    """Every staff member's display name by id."""
    return {row[0]: row[1] for row in session.execute(select(StaffUser.id, StaffUser.display_name))}


def note_view(session: Session, note: Note) -> dict[str, Any]:
    """A note as the API shows it."""
    return {
        "id": note.id,
        "author": staff_name(session, note.staff_user_id),
        "body": note.body,
        "created_at": iso(note.created_at),
    }


def _reader_view(session: Session, reader: Reader, conversation_id: int) -> dict[str, Any]:
    identities = session.execute(
        select(ChannelIdentity).where(ChannelIdentity.reader_id == reader.id)
    ).scalars()
    past = session.execute(
        select(Conversation)
        .where(Conversation.reader_id == reader.id, Conversation.id != conversation_id)
        .order_by(Conversation.started_at.desc())
        .limit(20)
    ).scalars()
    tickets = session.execute(
        select(Ticket).where(Ticket.reader_id == reader.id).order_by(Ticket.created_at.desc())
    ).scalars()
    feedback = session.execute(
        select(Feedback).where(Feedback.reader_id == reader.id).order_by(Feedback.created_at.desc())
    ).scalars()
    return {
        "id": reader.id,
        "name": reader.display_name,
        "email": reader.email,
        "card_number_masked": mask_card(reader.card_number) if reader.card_number else None,
        "verified": reader.verified_at is not None,
        "identities": [{"channel": i.channel, "external_id": i.external_id} for i in identities],
        "loans_summary": None,
        "past_conversations": [
            {
                "id": c.id,
                "channel": c.channel,
                "started_at": iso(c.started_at),
                "status": c.status.value,
            }
            for c in past
        ],
        "tickets": [{"id": t.id, "subject": t.subject, "status": t.status.value} for t in tickets],
        "feedback": [
            {"rating": f.rating, "comment": f.comment, "created_at": iso(f.created_at)}
            for f in feedback
        ],
    }


def conversation_view(session: Session, conversation_id: int) -> dict[str, Any]:
    """Everything a librarian sees about one conversation."""
    conversation = get_conversation(session, conversation_id)
    handoff = open_handoff_of(session, conversation_id) or latest_handoff_of(
        session, conversation_id
    )
    names = staff_names(session)
    messages = session.execute(
        select(Message)
        .where(Message.conversation_id == conversation_id)
        .order_by(Message.sent_at, Message.id)
    ).scalars()
    notes = session.execute(
        select(Note).where(Note.conversation_id == conversation_id).order_by(Note.created_at)
    ).scalars()
    reader = session.get(Reader, conversation.reader_id) if conversation.reader_id else None
    return {
        "id": conversation.id,
        "sender_id": conversation.sender_id,
        "channel": conversation.channel,
        "status": conversation.status.value,
        "handoff": handoff_view(session, handoff),
        "messages": [message_view(m, names) for m in messages],
        "notes": [note_view(session, n) for n in notes],
        "reader": None if reader is None else _reader_view(session, reader, conversation.id),
    }


async def loans_summary(rasa: RasaClient, sender_id: str) -> str | None:
    """A one-line summary of the reader's loans, when they signed in during this conversation.

    The library system answers only for a patron id, which it hands out after a card
    and PIN sign-in; the reader store keeps neither. The tracker's ``patron_id`` slot
    holds it while the reader is signed in, so loans show only then; otherwise None.
    """
    from library.ils import LibrarySystemError, get_library_system

    try:
        tracker = await rasa.get_tracker(sender_id)
        patron_id = (tracker.get("slots") or {}).get("patron_id")
        if not patron_id:
            return None
        loans = await asyncio.wait_for(
            get_library_system().loans(str(patron_id)), LOANS_TIMEOUT_SECONDS
        )
    except (RasaError, LibrarySystemError, asyncio.TimeoutError):
        logger.info("no loans summary for %s", sender_id, exc_info=True)
        return None
    if not loans:
        return "No current loans."
    overdue = sum(1 for loan in loans if loan.overdue)
    soonest = min(loan.due_date for loan in loans)
    summary = f"{len(loans)} on loan, next due {soonest.isoformat()}"
    return f"{summary}, {overdue} overdue" if overdue else summary


# -- claiming --------------------------------------------------------------


def librarian_load(session: Session, staff_id: int) -> int:
    """How many handoffs the librarian holds now."""
    return int(
        session.execute(
            select(func.count(Handoff.id)).where(
                Handoff.librarian_id == staff_id, Handoff.status == HandoffStatus.CLAIMED
            )
        ).scalar_one()
    )


def _check_capacity(session: Session, staff_id: int) -> None:
    user = session.get(StaffUser, staff_id)
    if user is None or not user.active:
        raise NotFound("not_found", "No active staff account has that id.")
    if librarian_load(session, staff_id) >= user.capacity:
        raise Conflict(
            "at_capacity",
            f"{user.display_name} already holds {user.capacity} conversations.",
        )


def _require_open(session: Session, conversation_id: int) -> Handoff:
    get_conversation(session, conversation_id)
    handoff = open_handoff_of(session, conversation_id)
    if handoff is None:
        raise Conflict("not_in_handoff", "This conversation is not waiting for a librarian.")
    return handoff


def require_holder(session: Session, conversation_id: int, staff_id: int, role: str) -> Handoff:
    """The open handoff, if the caller may act on it (holder, unclaimed, or admin)."""
    handoff = _require_open(session, conversation_id)
    if (
        handoff.status == HandoffStatus.CLAIMED
        and handoff.librarian_id != staff_id
        and role != StaffRole.ADMIN.value
    ):
        raise Conflict(
            "already_claimed",
            "Another librarian has this conversation.",
            claimed_by=staff_name(session, handoff.librarian_id),
        )
    return handoff


def claim(session: Session, conversation_id: int, staff_id: int) -> dict[str, Any]:
    """Take a waiting conversation; claiming one's own claim again is a no-op."""
    handoff = _require_open(session, conversation_id)
    if handoff.status == HandoffStatus.CLAIMED:
        if handoff.librarian_id == staff_id:
            return handoff_view(session, handoff) or {}
        raise Conflict(
            "already_claimed",
            "Another librarian has this conversation.",
            claimed_by=staff_name(session, handoff.librarian_id),
        )
    _check_capacity(session, staff_id)
    # A conditional update, so two librarians clicking at once cannot both win.
    won = session.execute(
        update(Handoff)
        .where(Handoff.id == handoff.id, Handoff.status == HandoffStatus.WAITING)
        .values(status=HandoffStatus.CLAIMED, librarian_id=staff_id, claimed_at=now())
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(handoff)
    if not won:
        raise Conflict(
            "already_claimed",
            "Another librarian has this conversation.",
            claimed_by=staff_name(session, handoff.librarian_id),
        )
    audit(session, staff_id, "handoff.claim", f"conversation:{conversation_id}")
    return handoff_view(session, handoff) or {}


# -- notes and transfer ----------------------------------------------------


def add_note(session: Session, conversation_id: int, staff_id: int, body: object) -> dict[str, Any]:
    """Add an internal note; readers never see notes."""
    get_conversation(session, conversation_id)
    text = check_text(body, "note")
    note = Note(conversation_id=conversation_id, staff_user_id=staff_id, body=text)
    session.add(note)
    session.flush()
    return note_view(session, note)


def transfer(
    session: Session,
    conversation_id: int,
    staff_id: int,
    role: str,
    *,
    to_user_id: object,
    department: object,
    note: object,
) -> dict[str, Any]:
    """Hand the conversation to a colleague, or back to the (department's) queue."""
    handoff = require_holder(session, conversation_id, staff_id, role)
    if to_user_id is not None:
        to_user_id = body_id(to_user_id, "to_user_id")
    if department is not None and not isinstance(department, str):
        raise BadRequest("bad_request", "department must be text or null.")
    if note is not None and not isinstance(note, str):
        raise BadRequest("bad_request", "note must be text.")
    if isinstance(to_user_id, int):
        _check_capacity(session, to_user_id)
        handoff.status = HandoffStatus.CLAIMED
        handoff.librarian_id = to_user_id
        handoff.claimed_at = now()
    else:
        handoff.status = HandoffStatus.WAITING
        handoff.librarian_id = None
        handoff.claimed_at = None
    if department is not None:
        handoff.department = department.strip() or None
    handoff.transfer_note = note or None
    audit(
        session,
        staff_id,
        "handoff.transfer",
        f"conversation:{conversation_id}",
        to_user_id=to_user_id,
        department=handoff.department,
        note=note or None,
    )
    session.flush()
    return handoff_view(session, handoff) or {}


# -- resolve and reopen ----------------------------------------------------


def check_resolve(session: Session, conversation_id: int, staff_id: int, role: str) -> str:
    """Check the caller may resolve; returns the Rasa sender id."""
    require_holder(session, conversation_id, staff_id, role)
    return get_conversation(session, conversation_id).sender_id


def resolve(
    session: Session,
    conversation_id: int,
    staff_id: int,
    role: str,
    *,
    note: object,
    tags: object,
) -> tuple[dict[str, Any], Conversation]:
    """Mark the handoff resolved with the librarian's note and tags."""
    handoff = require_holder(session, conversation_id, staff_id, role)
    if note is not None and not isinstance(note, str):
        raise BadRequest("bad_request", "note must be text.")
    if tags is not None and (
        not isinstance(tags, list) or not all(isinstance(t, str) for t in tags)
    ):
        raise BadRequest("bad_request", "tags must be a list of text.")
    conversation = get_conversation(session, conversation_id)
    current = now()
    handoff.status = HandoffStatus.RESOLVED
    handoff.librarian_id = handoff.librarian_id or staff_id
    handoff.resolved_at = current
    handoff.resolution_note = note or None
    handoff.tags = [t.strip() for t in tags or [] if t.strip()]
    conversation.status = ConversationStatus.ACTIVE
    conversation.status_changed_at = current
    audit(session, staff_id, "handoff.resolve", f"conversation:{conversation_id}")
    session.flush()
    return handoff_view(session, handoff) or {}, conversation


async def resume_in_rasa(rasa: RasaClient, sender_id: str, channel: str) -> None:
    """Give the conversation back to the bot, which says it is back.

    The resume must succeed (it raises otherwise); the greeting is best effort, since
    the conversation is already the bot's again when it fails.
    """
    await rasa.append_events(
        sender_id, [{"event": "resume"}, {"event": "action", "name": "action_listen"}]
    )
    try:
        await rasa.trigger_intent(sender_id, BACK_INTENT, output_channel=channel)
    except RasaError:
        logger.exception("resumed %s but could not trigger %s", sender_id, BACK_INTENT)


def check_reopen(session: Session, conversation_id: int, staff_id: int) -> Handoff:
    """The resolved handoff the caller may reopen."""
    get_conversation(session, conversation_id)
    if open_handoff_of(session, conversation_id) is not None:
        raise Conflict("already_open", "This conversation already has an open handoff.")
    handoff = latest_handoff_of(session, conversation_id)
    if handoff is None or handoff.status != HandoffStatus.RESOLVED:
        raise Conflict("not_resolved", "Only a resolved conversation can be reopened.")
    _check_capacity(session, staff_id)
    return handoff


def reopen(session: Session, conversation_id: int, staff_id: int) -> dict[str, Any]:
    """Put a resolved handoff back in the caller's hands."""
    handoff = check_reopen(session, conversation_id, staff_id)
    conversation = get_conversation(session, conversation_id)
    current = now()
    handoff.status = HandoffStatus.CLAIMED
    handoff.librarian_id = staff_id
    handoff.claimed_at = current
    handoff.resolved_at = None
    conversation.status = ConversationStatus.HANDOFF
    conversation.status_changed_at = current
    audit(session, staff_id, "handoff.reopen", f"conversation:{conversation_id}")
    session.flush()
    return handoff_view(session, handoff) or {}
