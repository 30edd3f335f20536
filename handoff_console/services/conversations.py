"""One conversation as a librarian works on it: claim (also by replying), notes, transfer, resolve.

Store changes are plain functions on a session (the caller owns the transaction);
the ``*_in_rasa`` coroutines do the matching Rasa side, and the blueprints call
Rasa first and commit second, so a failed Rasa call changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from crm_store import clock
from crm_store.audit import audit
from crm_store.conversations import set_conversation_status
from crm_store.models import (
    Conversation,
    ConversationStatus,
    Handoff,
    HandoffStatus,
    Note,
    StaffRole,
    StaffUser,
)
from crm_store.typing_signals import TYPING_SECONDS, set_staff_typing
from handoff_console.schemas.conversations import Typing
from handoff_console.services.common import (
    check_text,
    get_conversation,
    latest_handoff_of,
    now,
    open_handoff_of,
    staff_name,
)
from handoff_console.services.conversation_views import handoff_view, is_unanswered, note_view
from handoff_console.services.errors import BadRequest, Conflict, NotFound
from handoff_console.services.ids import body_id
from messaging.rasa_client import RasaClient, RasaError

logger = logging.getLogger(__name__)

BACK_INTENT = "EXTERNAL_handoff_resolved"
TELEGRAM = "telegram"

#: Called with the conversation after a handoff is resolved (the satisfaction survey hooks in).
resolved_hooks: list[Callable[[Conversation], None]] = []


def on_resolved(conversation: Conversation) -> None:
    """Hook run after a conversation's handoff is resolved; the later survey plugs in here."""
    for hook in resolved_hooks:
        try:
            hook(conversation)
        except Exception:
            logger.exception("a resolved-hook failed for conversation %s", conversation.id)


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
        raise _already_claimed(session, handoff)
    return handoff


def _already_claimed(session: Session, handoff: Handoff) -> Conflict:
    holder = staff_name(session, handoff.librarian_id)
    return Conflict(
        "already_claimed",
        f"{holder or 'Another librarian'} is handling this conversation.",
        claimed_by=holder,
    )


def claim(
    session: Session, conversation_id: int, staff_id: int, *, take_over: bool = False
) -> dict[str, Any]:
    """Take a waiting conversation; claiming one's own claim again is a no-op.

    With ``take_over`` the caller also takes a conversation a colleague holds (audited
    as ``handoff.take_over``); without it that is a 409 ``already_claimed``.
    """
    handoff = _require_open(session, conversation_id)
    if handoff.status == HandoffStatus.CLAIMED:
        if handoff.librarian_id == staff_id:
            return handoff_view(session, handoff) or {}
        if not take_over:
            raise _already_claimed(session, handoff)
    _check_capacity(session, staff_id)
    holder = handoff.librarian_id
    # A conditional update, so two librarians clicking at once cannot both win: the
    # handoff must still be as this request saw it (waiting, or held by ``holder``).
    seen = (
        Handoff.status == HandoffStatus.WAITING
        if handoff.status == HandoffStatus.WAITING
        else (Handoff.status == HandoffStatus.CLAIMED) & (Handoff.librarian_id == holder)
    )
    won = session.execute(
        update(Handoff)
        .where(Handoff.id == handoff.id, seen)
        .values(status=HandoffStatus.CLAIMED, librarian_id=staff_id, claimed_at=now())
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(handoff)
    if not won:
        raise _already_claimed(session, handoff)
    subject = f"conversation:{conversation_id}"
    if holder is None:
        audit(session, staff_id, "handoff.claim", subject)
    else:
        audit(session, staff_id, "handoff.take_over", subject, from_user_id=holder)
    return handoff_view(session, handoff) or {}


def claim_for_reply(session: Session, conversation_id: int, staff_id: int, role: str) -> Handoff:
    """The open handoff a librarian's reply goes out under, claimed for them if waiting.

    A reply to a waiting conversation claims it first, in the reply's transaction, so
    the queue shows who answers; when two librarians race, one claim wins and the
    other reply is refused (409 ``already_claimed``) and never saved or sent. A
    conversation a colleague holds is refused the same way (admins may still write).
    """
    handoff = require_holder(session, conversation_id, staff_id, role)
    if handoff.status == HandoffStatus.WAITING:
        claim(session, conversation_id, staff_id)
        session.refresh(handoff)
    return handoff


# -- notes and transfer ----------------------------------------------------


def add_note(session: Session, conversation_id: int, staff_id: int, body: object) -> dict[str, Any]:
    """Add an internal note; readers never see notes."""
    get_conversation(session, conversation_id)
    text = check_text(body, "note")
    note = Note(conversation_id=conversation_id, staff_user_id=staff_id, body=text)
    session.add(note)
    session.flush()
    return note_view(session, note)


def set_typing(
    session: Session, conversation_id: int, staff_id: int, *, on: bool
) -> dict[str, Any]:
    """Record that a librarian types a reply here (or stopped), for the reader's widget."""
    get_conversation(session, conversation_id)
    set_staff_typing(session, conversation_id, staff_id, on, clock.now())
    return Typing.view(
        conversation_id=conversation_id,
        on=on,
        expires_in_seconds=TYPING_SECONDS if on else 0.0,
    )


def telegram_typing_chat(session: Session, conversation_id: int) -> str | None:
    """The Telegram chat that shows a librarian's typing here, if any.

    Only a Telegram conversation whose handoff a librarian holds, as the web chat shows
    typing only "with a librarian" (:func:`crm_store.handoff_status.handoff_view`); its
    Rasa sender id is the chat id.
    """
    conversation = get_conversation(session, conversation_id)
    if conversation.channel != TELEGRAM:
        return None
    handoff = open_handoff_of(session, conversation_id)
    if handoff is None or handoff.status != HandoffStatus.CLAIMED:
        return None
    return str(conversation.sender_id)


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


def check_resolve(
    session: Session,
    conversation_id: int,
    staff_id: int,
    role: str,
    *,
    require_answered: bool = False,
) -> str:
    """Check the caller may resolve; returns the Rasa sender id.

    With ``require_answered`` a conversation whose reader wrote after the last
    librarian reply is refused (409 ``unanswered``), so the console can ask first.
    """
    handoff = require_holder(session, conversation_id, staff_id, role)
    if require_answered and is_unanswered(session, conversation_id, handoff):
        raise Conflict(
            "unanswered",
            "The reader's last question is unanswered. Resolve anyway?",
        )
    return get_conversation(session, conversation_id).sender_id


def resolve(
    session: Session,
    conversation_id: int,
    staff_id: int,
    role: str,
    *,
    note: object,
    tags: object,
    at: datetime | None = None,
) -> tuple[dict[str, Any], Conversation]:
    """Mark the handoff resolved with the librarian's note and tags.

    ``at`` is when the librarian asked (before Rasa was told), so the transcript's
    "Resolved by …" line sits before the bot's "I'm back"; the default is now.
    """
    handoff = require_holder(session, conversation_id, staff_id, role)
    if note is not None and not isinstance(note, str):
        raise BadRequest("bad_request", "note must be text.")
    if tags is not None and (
        not isinstance(tags, list) or not all(isinstance(t, str) for t in tags)
    ):
        raise BadRequest("bad_request", "tags must be a list of text.")
    conversation = get_conversation(session, conversation_id)
    current = at or now()
    handoff.status = HandoffStatus.RESOLVED
    handoff.librarian_id = handoff.librarian_id or staff_id
    handoff.resolved_at = current
    handoff.resolution_note = note or None
    handoff.tags = [t.strip() for t in tags or [] if t.strip()]
    set_conversation_status(conversation, ConversationStatus.ACTIVE, current)
    entry = audit(session, staff_id, "handoff.resolve", f"conversation:{conversation_id}")
    entry.created_at = current
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
    set_conversation_status(conversation, ConversationStatus.HANDOFF, current)
    audit(session, staff_id, "handoff.reopen", f"conversation:{conversation_id}")
    session.flush()
    return handoff_view(session, handoff) or {}
