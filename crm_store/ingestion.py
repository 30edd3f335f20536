"""Turn Rasa events into reader-store rows, idempotently.

An event's identity (``event_key``) is a SHA-256 of its conversation id and its
canonical JSON, exactly as Rasa serialises it. The broker path and the catch-up
path (which reads the tracker store) therefore compute the same key for the same
event, and unique constraints make a second delivery a no-op.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from crm_store.errors import IngestionError
from crm_store.models import (
    ChannelIdentity,
    Conversation,
    ConversationStatus,
    Direction,
    Message,
    RawEvent,
    Reader,
    SenderKind,
)

UNKNOWN_CHANNEL = "unknown"


@dataclass(frozen=True)
class RasaEvent:
    """One Rasa event together with the conversation it belongs to."""

    sender_id: str
    body: dict[str, Any]

    @property
    def key(self) -> str:
        """The event's identity: stable across the broker and the tracker store."""
        return event_key(self.sender_id, self.body)

    @property
    def type_name(self) -> str:
        """Rasa's event type, such as ``user`` or ``bot``."""
        return str(self.body.get("event", ""))

    @property
    def timestamp(self) -> float:
        """The event's Unix timestamp."""
        return float(self.body.get("timestamp") or 0.0)


def event_key(sender_id: str, body: Mapping[str, Any]) -> str:
    """Return the idempotency key of one event."""
    canonical = json.dumps(
        {k: v for k, v in body.items() if k != "sender_id"},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    digest = hashlib.sha256()
    digest.update(sender_id.encode("utf-8"))
    digest.update(b"\x00")
    digest.update(canonical.encode("utf-8"))
    return digest.hexdigest()


def from_broker_message(message: Mapping[str, Any]) -> RasaEvent:
    """Build an event from an event-broker message (the event with ``sender_id`` added)."""
    sender_id = message.get("sender_id")
    if not isinstance(sender_id, str) or not sender_id:
        raise IngestionError("event has no sender_id")
    return RasaEvent(sender_id, {k: v for k, v in message.items() if k != "sender_id"})


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc)


def _insert(session: Session, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise IngestionError(f"unsupported database dialect: {dialect}")


def _message_row(event: RasaEvent, conversation_id: int, channel: str) -> dict[str, Any] | None:
    body = event.body
    metadata = body.get("metadata") or {}
    if event.type_name == "user":
        parse = body.get("parse_data") or {}
        intent = parse.get("intent") or {}
        return {
            "direction": Direction.INBOUND.value,
            "sender_kind": SenderKind.READER.value,
            "text": body.get("text"),
            "intent": intent.get("name"),
            "confidence": intent.get("confidence"),
            "payload": None,
            "librarian_id": None,
            "event_key": event.key,
            "conversation_id": conversation_id,
            "channel": channel,
            "sent_at": _utc(event.timestamp),
        }
    if event.type_name == "bot":
        kind = SenderKind.BOT
        librarian_id = None
        if isinstance(metadata, dict) and metadata.get("librarian_id") is not None:
            kind = SenderKind.LIBRARIAN
            librarian_id = int(metadata["librarian_id"])
        elif isinstance(metadata, dict) and metadata.get("sender_kind") == SenderKind.SYSTEM.value:
            kind = SenderKind.SYSTEM
        data = body.get("data") or {}
        rich = {k: v for k, v in data.items() if v} if isinstance(data, dict) else None
        return {
            "direction": Direction.OUTBOUND.value,
            "sender_kind": kind.value,
            "text": body.get("text"),
            "intent": None,
            "confidence": None,
            "payload": rich or None,
            "librarian_id": librarian_id,
            "event_key": event.key,
            "conversation_id": conversation_id,
            "channel": channel,
            "sent_at": _utc(event.timestamp),
        }
    return None


_STATUS_BY_EVENT = {
    "pause": ConversationStatus.HANDOFF,
    "resume": ConversationStatus.ACTIVE,
}


def ensure_conversation(
    session: Session, sender_id: str, channel: str, when: datetime
) -> Conversation:
    """Return the conversation for ``sender_id``, creating it if needed (race-safe)."""
    conversation = session.execute(
        select(Conversation).where(Conversation.sender_id == sender_id)
    ).scalar_one_or_none()
    if conversation is not None:
        return conversation
    session.execute(
        _insert(session, Conversation)
        .values(
            sender_id=sender_id,
            channel=channel,
            status=ConversationStatus.ACTIVE.value,
            started_at=when,
            last_activity_at=when,
        )
        .on_conflict_do_nothing(index_elements=["sender_id"])
    )
    return session.execute(
        select(Conversation).where(Conversation.sender_id == sender_id)
    ).scalar_one()


def _ensure_identity(session: Session, conversation: Conversation, channel: str) -> None:
    identity = session.execute(
        select(ChannelIdentity).where(
            ChannelIdentity.channel == channel,
            ChannelIdentity.external_id == conversation.sender_id,
        )
    ).scalar_one_or_none()
    if identity is None:
        reader = Reader()
        session.add(reader)
        session.flush()
        session.execute(
            _insert(session, ChannelIdentity)
            .values(
                reader_id=reader.id,
                channel=channel,
                external_id=conversation.sender_id,
                reachable=True,
                created_at=datetime.now(timezone.utc),
            )
            .on_conflict_do_nothing(index_elements=["channel", "external_id"])
        )
        identity = session.execute(
            select(ChannelIdentity).where(
                ChannelIdentity.channel == channel,
                ChannelIdentity.external_id == conversation.sender_id,
            )
        ).scalar_one()
    if conversation.reader_id is None:
        conversation.reader_id = identity.reader_id
    identity.last_seen_at = conversation.last_activity_at


def _apply_conversation(session: Session, sender_id: str, events: list[RasaEvent]) -> None:
    first = events[0]
    channel_guess = str(first.body.get("input_channel") or UNKNOWN_CHANNEL)
    conversation = ensure_conversation(session, sender_id, channel_guess, _utc(first.timestamp))
    channel = conversation.channel
    for event in events:
        input_channel = event.body.get("input_channel")
        if channel == UNKNOWN_CHANNEL and event.type_name == "user" and input_channel:
            channel = str(input_channel)
            conversation.channel = channel
    rows = [row for e in events if (row := _message_row(e, conversation.id, channel))]
    if rows:
        session.execute(
            _insert(session, Message)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["event_key"])
        )
    latest = max(_utc(e.timestamp) for e in events)
    if latest > conversation.last_activity_at:
        conversation.last_activity_at = latest
    for event in events:
        status = _STATUS_BY_EVENT.get(event.type_name)
        when = _utc(event.timestamp)
        # Catch-up may replay an old pause after a newer resume; only newer events move status.
        if status and (
            conversation.status_changed_at is None or when >= conversation.status_changed_at
        ):
            conversation.status = status
            conversation.status_changed_at = when
    if channel != UNKNOWN_CHANNEL and any(e.type_name == "user" for e in events):
        _ensure_identity(session, conversation, channel)


def ingest(session: Session, events: Iterable[RasaEvent], source: str) -> int:
    """Store a batch of events; events already stored are skipped.

    Args:
        session: an open session; the caller owns the transaction.
        events: the events, in any order, from any number of conversations.
        source: where they came from (``broker`` or ``catchup``), kept for auditing.

    Returns:
        How many events were new.
    """
    batch = {e.key: e for e in events}
    if not batch:
        return 0
    existing = set(
        session.execute(
            select(RawEvent.event_key).where(RawEvent.event_key.in_(list(batch)))
        ).scalars()
    )
    fresh = [e for k, e in batch.items() if k not in existing]
    if not fresh:
        return 0
    session.execute(
        _insert(session, RawEvent)
        .values(
            [
                {
                    "event_key": e.key,
                    "sender_id": e.sender_id,
                    "type_name": e.type_name,
                    "timestamp": e.timestamp,
                    "body": e.body,
                    "source": source,
                    "ingested_at": datetime.now(timezone.utc),
                }
                for e in fresh
            ]
        )
        .on_conflict_do_nothing(index_elements=["event_key"])
    )
    by_sender: dict[str, list[RasaEvent]] = {}
    for e in sorted(fresh, key=lambda e: e.timestamp):
        by_sender.setdefault(e.sender_id, []).append(e)
    for sender_id, sender_events in by_sender.items():
        _apply_conversation(session, sender_id, sender_events)
    return len(fresh)
