"""The console's views of readers: the search list and the profile page.

These build the dictionaries the console's reader API returns; the store work they read
(merges, splits, reachability) is in :mod:`crm_store.identities`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from crm_store.identities import ReaderNotFoundError, mask_card
from crm_store.models import ChannelIdentity, Conversation, Feedback, Reader, Ticket
from crm_store.outreach import latest_reachable_conversation
from handoff_console.services.common import iso

__all__ = ["reader_brief", "reader_profile", "search_readers"]


def _reader_fields(reader: Reader) -> dict[str, Any]:
    """What every view of a reader shows: id, name, email, masked card, verified, created."""
    return {
        "id": reader.id,
        "name": reader.display_name,
        "email": reader.email,
        "card": mask_card(reader.card_number),
        "verified": reader.verified_at is not None,
        "created_at": iso(reader.created_at),
    }


def reader_brief(session: Session, reader: Reader) -> dict[str, Any]:
    """A reader as lists show them: name, email, masked card, channels."""
    channels = sorted(
        set(
            session.execute(
                select(ChannelIdentity.channel).where(ChannelIdentity.reader_id == reader.id)
            ).scalars()
        )
    )
    return {**_reader_fields(reader), "channels": channels}


def search_readers(session: Session, query: str, limit: int = 50) -> list[dict[str, Any]]:
    """Readers whose name, email or channel address contains ``query``, or whose card
    number ends with it (digits; spaces ignored). An empty query lists the newest readers.
    """
    text = query.strip()
    statement = select(Reader).order_by(Reader.id.desc()).limit(limit)
    if text:
        needle = text.lower()
        conditions = [
            func.lower(Reader.display_name).contains(needle, autoescape=True),
            func.lower(Reader.email).contains(needle, autoescape=True),
            exists().where(
                ChannelIdentity.reader_id == Reader.id,
                func.lower(ChannelIdentity.external_id).contains(needle, autoescape=True),
            ),
        ]
        digits = text.replace(" ", "")
        if digits.isdigit():
            conditions.append(Reader.card_number.endswith(digits, autoescape=True))
            conditions.append(Reader.id == int(digits))
        statement = statement.where(or_(*conditions))
    return [reader_brief(session, r) for r in session.execute(statement).scalars()]


def _newest_first(session: Session, model: Any, reader_id: int, time_column: str) -> list[Any]:
    """The reader's rows of ``model``, newest first by ``time_column`` (then by id)."""
    newest = getattr(model, time_column).desc()
    statement = select(model).where(model.reader_id == reader_id)
    return list(session.execute(statement.order_by(newest, model.id.desc())).scalars())


def reader_profile(session: Session, reader_id: int) -> dict[str, Any]:
    """Everything the console shows about a reader.

    Identities (channel, external id, reachable, last seen), the verified card masked
    to its last four digits, the conversation a proactive message would go to, and the
    reader's conversations, tickets and feedback, newest first.

    Raises:
        ReaderNotFoundError: no reader has that id.
    """
    reader = session.get(Reader, reader_id)
    if reader is None:
        raise ReaderNotFoundError(reader_id)
    identities = session.execute(
        select(ChannelIdentity)
        .where(ChannelIdentity.reader_id == reader_id)
        .order_by(ChannelIdentity.id)
    ).scalars()
    conversations = _newest_first(session, Conversation, reader_id, "last_activity_at")
    tickets = _newest_first(session, Ticket, reader_id, "created_at")
    feedback = _newest_first(session, Feedback, reader_id, "created_at")
    reachable = latest_reachable_conversation(session, reader_id)
    return {
        **_reader_fields(reader),
        "verified_at": iso(reader.verified_at),
        "identities": [
            {
                "id": i.id,
                "channel": i.channel,
                "external_id": i.external_id,
                "reachable": bool(i.reachable),
                "last_seen_at": iso(i.last_seen_at),
                "created_at": iso(i.created_at),
            }
            for i in identities
        ],
        "reachable_conversation": None
        if reachable is None
        else {"id": reachable.id, "channel": reachable.channel, "sender_id": reachable.sender_id},
        "conversations": [
            {
                "id": c.id,
                "channel": c.channel,
                "sender_id": c.sender_id,
                "status": c.status.value,
                "started_at": iso(c.started_at),
                "last_activity_at": iso(c.last_activity_at),
            }
            for c in conversations
        ],
        "tickets": [
            {
                "id": t.id,
                "subject": t.subject,
                "status": t.status.value,
                "conversation_id": t.conversation_id,
                "created_at": iso(t.created_at),
            }
            for t in tickets
        ],
        "feedback": [
            {
                "id": f.id,
                "rating": f.rating,
                "comment": f.comment,
                "conversation_id": f.conversation_id,
                "created_at": iso(f.created_at),
            }
            for f in feedback
        ],
    }
