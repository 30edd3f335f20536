"""Turn Rasa events into reader-store rows, idempotently; set aside those that cannot be.

An event's identity (``event_key``) is a SHA-256 of its conversation id and its
canonical JSON, exactly as Rasa serialises it. The broker path and the catch-up
path (which reads the tracker store) therefore compute the same key for the same
event, and unique constraints make a second delivery a no-op.

An event that cannot be ingested (a lone surrogate in its text, a value the database
refuses, anything that makes :func:`ingest` raise other than an unavailable database)
must not stop every later event. :func:`ingest_or_quarantine` writes a batch in one
transaction; when that fails for a reason other than the database being unavailable,
it writes the events one by one and records each one that still fails in
``quarantined_events`` (position, sender, type, time and error; never the body), logs
it once, and carries on, so the copy position moves past it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import (
    DisconnectionError,
    InterfaceError,
    OperationalError,
    StatementError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, sessionmaker

from crm_store.errors import IngestionError
from crm_store.models import (
    ChannelIdentity,
    Conversation,
    ConversationStatus,
    Direction,
    Message,
    QuarantinedEvent,
    RawEvent,
    Reader,
    SenderKind,
)
from crm_store.redaction import mask_pins

logger = logging.getLogger(__name__)

UNKNOWN_CHANNEL = "unknown"

# These say the database is unavailable (down, locked, a dropped connection, a full
# pool, a deadlock), not that an event is bad: the batch is retried later, never
# quarantined.
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    DisconnectionError,
    PoolTimeoutError,
)
ERROR_TEXT_LIMIT = 2000


@dataclass(frozen=True)
class RasaEvent:
    """One Rasa event together with the conversation it belongs to.

    ``position`` is the event's row id in the tracker store when known; it is not
    part of the event's identity.
    """

    sender_id: str
    body: dict[str, Any]
    position: int | None = field(default=None, compare=False)

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


@dataclass(frozen=True)
class IngestOutcome:
    """What :func:`ingest_or_quarantine` did with a batch."""

    ingested: int
    quarantined: int


def safe_text(value: object, limit: int) -> str:
    """``value`` as text any database accepts: surrogates and NUL escaped, cut to ``limit``."""
    text = value if isinstance(value, str) else repr(value)
    text = text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_error(error: BaseException) -> str:
    """A one-line description of why an event could not be ingested.

    SQLAlchemy's own message would repeat the statement's parameters, which hold the
    reader's text, so only the driver's error is kept; digit runs that could be a PIN
    are masked as in :mod:`crm_store.redaction`.
    """
    cause: BaseException = error
    if isinstance(error, StatementError) and isinstance(error.orig, BaseException):
        cause = error.orig
    message = " ".join(str(cause).split())
    text = f"{type(cause).__name__}: {message}" if message else type(cause).__name__
    return safe_text(mask_pins(text, pin_requested=True), ERROR_TEXT_LIMIT)


def quarantine(
    session: Session,
    *,
    source: str,
    position: int | None,
    sender_id: object,
    type_name: object,
    timestamp: object,
    error: BaseException,
) -> bool:
    """Record one event that could not be ingested; the caller owns the transaction.

    Args:
        session: an open session on the reader store.
        source: the path that found it (``live`` or ``catchup``).
        position: the event's row id in the tracker store, if known.
        sender_id: the conversation id, as read (made safe to store here).
        type_name: Rasa's event type, as read.
        timestamp: the event's Unix time, as read (kept only if it is a number).
        error: what went wrong.

    Returns:
        True if this call recorded it; False if its position was already recorded (by
        the other path, or an earlier pass), so the caller logs each event once.
    """
    when = float(timestamp) if isinstance(timestamp, int | float) else None
    statement = _insert(session, QuarantinedEvent).values(
        tracker_event_id=position,
        source=source,
        sender_id=safe_text(sender_id, 255),
        type_name=safe_text(type_name, 60),
        event_timestamp=when if when is not None and math.isfinite(when) else None,
        error=describe_error(error),
        quarantined_at=datetime.now(timezone.utc),
    )
    if position is not None:
        statement = statement.on_conflict_do_nothing(index_elements=["tracker_event_id"])
    return bool(session.execute(statement).rowcount)


def quarantined_positions(session: Session, positions: Collection[int]) -> set[int]:
    """Which of these tracker-store row ids are already quarantined."""
    if not positions:
        return set()
    return set(
        session.execute(
            select(QuarantinedEvent.tracker_event_id).where(
                QuarantinedEvent.tracker_event_id.in_(list(positions))
            )
        ).scalars()
    )


def quarantine_count(session: Session) -> int:
    """How many events are in quarantine."""
    return int(session.execute(select(func.count(QuarantinedEvent.id))).scalar_one())


def _log_quarantined(
    source: str, position: int | None, sender_id: object, error: Exception
) -> None:
    logger.warning(
        "quarantined tracker event %s of conversation %s (%s path), skipped: %s",
        position if position is not None else "?",
        safe_text(sender_id, 80),
        source,
        describe_error(error),
    )


def quarantine_and_log(
    session_factory: sessionmaker[Session],
    *,
    source: str,
    position: int | None,
    sender_id: object,
    type_name: object,
    timestamp: object,
    error: Exception,
) -> bool:
    """Quarantine one event in its own transaction and log it if this call recorded it."""
    with session_factory.begin() as session:
        recorded = quarantine(
            session,
            source=source,
            position=position,
            sender_id=sender_id,
            type_name=type_name,
            timestamp=timestamp,
            error=error,
        )
    if recorded:
        _log_quarantined(source, position, sender_id, error)
    return recorded


def ingest_or_quarantine(
    session_factory: sessionmaker[Session],
    events: Iterable[RasaEvent],
    source: str,
    then: Callable[[Session], None] | None = None,
) -> IngestOutcome:
    """Ingest a batch; quarantine each event that cannot be ingested and skip it.

    Events whose position is already quarantined are skipped without a retry. The
    batch is written in one transaction (with ``then``, e.g. moving the checkpoint).
    If that raises anything but :data:`UNAVAILABLE_ERRORS`, each event is retried in
    a transaction of its own, each one that fails again is quarantined (and logged
    once), and ``then`` runs in a last transaction.

    Args:
        session_factory: opens sessions on the reader store; this function owns the
            transactions because a bad event must not roll back the good ones.
        events: the events, in tracker order.
        source: ``live`` or ``catchup``.
        then: more work for the batch's transaction, run after the events.

    Returns:
        How many events were new and how many were quarantined by this call.

    Raises:
        OperationalError, InterfaceError, DisconnectionError, TimeoutError: the reader
            store is unavailable; nothing was skipped, the caller retries later.
    """
    pending = list(events)
    positions = {e.position for e in pending if e.position is not None}
    if positions:
        with session_factory() as session:
            done = quarantined_positions(session, positions)
        pending = [e for e in pending if e.position not in done]
    try:
        with session_factory.begin() as session:
            ingested = ingest(session, pending, source=source)
            if then is not None:
                then(session)
        return IngestOutcome(ingested, 0)
    except UNAVAILABLE_ERRORS:
        raise
    except Exception:
        # Any other failure may be one bad event: narrow it down event by event.
        logger.debug("a batch of %d events failed; retrying one by one", len(pending))
    ingested = quarantined = 0
    for event in pending:
        try:
            with session_factory.begin() as session:
                ingested += ingest(session, [event], source=source)
        except UNAVAILABLE_ERRORS:
            raise
        except Exception as error:
            # Whatever it is, it fails on this event alone: set the event aside.
            quarantined += quarantine_and_log(
                session_factory,
                source=source,
                position=event.position,
                sender_id=event.sender_id,
                type_name=event.body.get("event") if isinstance(event.body, dict) else None,
                timestamp=event.body.get("timestamp") if isinstance(event.body, dict) else None,
                error=error,
            )
    if then is not None:
        with session_factory.begin() as session:
            then(session)
    return IngestOutcome(ingested, quarantined)
