"""The console's views of readers: the search list and the profile page.

These build the dictionaries the console's reader API returns; the store work they read
(merges, splits, reachability) is in :mod:`crm_store.identities`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from crm_store.channels import thread_of
from crm_store.identities import ReaderNotFoundError, mask_card
from crm_store.models import ChannelIdentity, Conversation, Feedback, RawEvent, Reader, Ticket
from crm_store.outreach import latest_reachable_conversation
from handoff_console.services.common import iso
from handoff_console.services.conversation_views import state_labels

__all__ = ["browser_name", "identity_label", "reader_brief", "reader_profile", "search_readers"]

_CHANNEL_NAMES = {
    "webchat": "Web chat",
    "telegram": "Telegram",
    "email": "Email",
    "slack": "Slack",
    "rest": "REST API",
}
# Order matters: Edge and Opera announce "Chrome" too, Chrome announces "Safari".
_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("Safari/", "Safari"),
)


def browser_name(user_agent: object) -> str | None:
    """The browser a User-Agent string names ("Chrome", "Firefox"…), or None."""
    if not isinstance(user_agent, str):
        return None
    return next((name for token, name in _BROWSERS if token in user_agent), None)


def _latest_metadata(session: Session, sender_id: str) -> dict[str, Any]:
    """The metadata of the newest reader message Rasa logged for ``sender_id``."""
    bodies = session.execute(
        select(RawEvent.body)
        .where(RawEvent.sender_id == sender_id, RawEvent.type_name == "user")
        .order_by(RawEvent.timestamp.desc(), RawEvent.id.desc())
        .limit(20)
    ).scalars()
    for body in bodies:
        metadata = body.get("metadata") if isinstance(body, dict) else None
        if isinstance(metadata, dict) and metadata:
            return metadata
    return {}


def _section(metadata: dict[str, Any], key: str) -> dict[str, Any]:
    """One channel's part of a message's metadata ({} when absent)."""
    part = metadata.get(key)
    return part if isinstance(part, dict) else {}


def _visits(session: Session, sender_id: str) -> int:
    """Chat sessions Rasa started for ``sender_id`` (at least 1 once it has written)."""
    started = session.execute(
        select(func.count())
        .select_from(RawEvent)
        .where(RawEvent.sender_id == sender_id, RawEvent.type_name == "session_started")
    ).scalar_one()
    if started:
        return int(started)
    spoke = session.execute(
        select(RawEvent.id).where(RawEvent.sender_id == sender_id).limit(1)
    ).first()
    return 1 if spoke else 0


def identity_label(session: Session, identity: ChannelIdentity) -> str:
    """The identity as people read it: "Telegram @ada", "Web chat (Chrome, 3 visits)".

    Built from what the channels recorded in the reader's messages' metadata; a detail
    the store never learnt is named as unknown rather than replaced by a raw id.
    """
    channel = str(identity.channel)
    address = str(identity.external_id)
    name = _CHANNEL_NAMES.get(channel, channel.capitalize())
    if channel == "email":
        thread = None if "@" in address else thread_of(session, address)
        mailbox = address if thread is None else thread.address
        return f"Email {mailbox}" if "@" in mailbox else "Email (address not known)"
    metadata = _latest_metadata(session, address)
    if channel == "telegram":
        username = _section(metadata, "telegram").get("username")
        return f"Telegram @{username}" if username else "Telegram (username not known)"
    if channel == "slack":
        slack = _section(metadata, "slack")
        if slack.get("display_name"):
            return f"Slack {slack['display_name']}"
        handle = slack.get("user_name") or slack.get("username")
        return f"Slack @{handle}" if handle else "Slack (name not known)"
    if channel == "webchat":
        browser = browser_name(metadata.get("user_agent")) or "browser not known"
        visits = _visits(session, address)
        word = "visit" if visits == 1 else "visits"
        return f"{name} ({browser}, {visits} {word})"
    return name


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
    labels = state_labels(session, [int(c.id) for c in conversations])
    tickets = _newest_first(session, Ticket, reader_id, "created_at")
    feedback = _newest_first(session, Feedback, reader_id, "created_at")
    reachable = latest_reachable_conversation(session, reader_id)
    ratings: dict[int, int] = {}
    for f in reversed(feedback):  # oldest first, so the newest rating of each stays
        if f.conversation_id is not None:
            ratings[int(f.conversation_id)] = int(f.rating)
    return {
        **_reader_fields(reader),
        "verified_at": iso(reader.verified_at),
        "identities": [
            {
                "id": i.id,
                "channel": i.channel,
                "external_id": i.external_id,
                "label": identity_label(session, i),
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
                "state_label": labels[int(c.id)],
                "started_at": iso(c.started_at),
                "last_activity_at": iso(c.last_activity_at),
                "csat": ratings.get(int(c.id)),
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
                "csat": None if t.conversation_id is None else ratings.get(int(t.conversation_id)),
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
