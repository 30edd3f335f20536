"""SQLAlchemy models of the reader store: readers, conversations and the staff who serve them.

Readers own channel identities; a conversation is one Rasa conversation
(its ``sender_id``) on one channel. Messages and the raw event log are keyed by
the source event's identity (``event_key``), which makes ingestion idempotent.

The console's tables: ``staff_users`` holds the librarian, admin and manager
accounts; ``api_tokens``, ``console_sessions`` and ``login_attempts`` how they sign in;
``notes``, ``canned_responses`` and ``outbound_messages`` their work on conversations;
and ``audit_log`` who did what to which record.
"""

from __future__ import annotations

import enum
from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import registry, relationship
from sqlalchemy.orm.decl_api import DeclarativeMeta
from sqlalchemy.types import TypeDecorator

from crm_store import clock
from crm_store.models.statuses import (
    ConversationStatus,
    Direction,
    HandoffStatus,
    SenderKind,
    StaffRole,
    TicketStatus,
)

mapper_registry = registry()


class Base(metaclass=DeclarativeMeta):  # type: ignore[metaclass]  # untyped SQLAlchemy 1.4
    """Declarative base, spelled out so that type checkers understand it."""

    __abstract__ = True
    registry = mapper_registry
    metadata = mapper_registry.metadata
    __init__ = mapper_registry.constructor


def utcnow() -> datetime:
    """Return the installed clock's time (:func:`crm_store.clock.now`), aware UTC.

    Column defaults call this, so a test's travel clock reaches every default too.
    """
    return clock.now()


class UtcDateTime(TypeDecorator):  # type: ignore[misc]  # untyped SQLAlchemy 1.4
    """A DateTime that always comes back timezone-aware in UTC.

    SQLite keeps no zone, so values are stored as naive UTC and re-tagged on read.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        """Convert an aware datetime to naive UTC before it is stored."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not accepted; use UTC-aware values")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        """Tag a stored naive UTC datetime as UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


def string_enum(kind: type[enum.Enum], name: str) -> Enum:
    """A column type for ``kind`` stored as its values, as plain strings.

    No native ENUM type, so that migrations stay portable.
    """
    return Enum(
        kind,
        name=name,
        native_enum=False,
        create_constraint=False,
        length=20,
        values_callable=lambda k: [m.value for m in k],
    )


class Reader(Base):
    """A library reader, known or anonymous, across all channels."""

    __tablename__ = "readers"

    id = Column(Integer, primary_key=True)
    display_name = Column(String(200), nullable=True)
    email = Column(String(320), nullable=True, index=True)
    card_number = Column(String(32), nullable=True, unique=True)
    verified_at = Column(UtcDateTime, nullable=True)
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)
    updated_at = Column(UtcDateTime, nullable=False, default=utcnow, onupdate=utcnow)

    identities = relationship("ChannelIdentity", back_populates="reader")


class ChannelIdentity(Base):
    """One address of a reader on one channel (a widget session, a chat id, an email)."""

    __tablename__ = "channel_identities"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_identity_channel"),)

    id = Column(Integer, primary_key=True)
    reader_id = Column(Integer, ForeignKey("readers.id"), nullable=False, index=True)
    channel = Column(String(40), nullable=False)
    external_id = Column(String(255), nullable=False)
    reachable = Column(Boolean, nullable=False, default=True)
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)
    last_seen_at = Column(UtcDateTime, nullable=True)

    reader = relationship("Reader", back_populates="identities")


class Conversation(Base):
    """One Rasa conversation (its ``sender_id``) on one channel."""

    __tablename__ = "conversations"

    id = Column(Integer, primary_key=True)
    sender_id = Column(String(255), nullable=False, unique=True)
    channel = Column(String(40), nullable=False)
    reader_id = Column(Integer, ForeignKey("readers.id"), nullable=True, index=True)
    status = Column(
        string_enum(ConversationStatus, "conversation_status"),
        nullable=False,
        default=ConversationStatus.ACTIVE,
    )
    status_changed_at = Column(UtcDateTime, nullable=True)
    started_at = Column(UtcDateTime, nullable=False)
    last_activity_at = Column(UtcDateTime, nullable=False, index=True)
    # Issue 15: the language the reader writes in, and who is typing (expires by time).
    language = Column(String(16), nullable=True, index=True)
    reader_typing_at = Column(UtcDateTime, nullable=True, index=True)
    staff_typing_at = Column(UtcDateTime, nullable=True)
    staff_typing_id = Column(Integer, nullable=True)

    messages = relationship("Message", back_populates="conversation")


class Message(Base):
    """One message shown to or written by a reader."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_conversation_sent", "conversation_id", "sent_at"),)

    id = Column(Integer, primary_key=True)
    event_key = Column(String(64), nullable=False, unique=True)
    conversation_id = Column(Integer, ForeignKey("conversations.id"), nullable=False)
    direction = Column(string_enum(Direction, "message_direction"), nullable=False)
    sender_kind = Column(string_enum(SenderKind, "sender_kind"), nullable=False)
    librarian_id = Column(Integer, ForeignKey("staff_users.id"), nullable=True)
    text = Column(Text, nullable=True)
    intent = Column(String(120), nullable=True, index=True)
    confidence = Column(Float, nullable=True)
    channel = Column(String(40), nullable=False)
    sent_at = Column(UtcDateTime, nullable=False)
    ingested_at = Column(UtcDateTime, nullable=False, default=utcnow)
    payload = Column(JSON, nullable=True)

    conversation = relationship("Conversation", back_populates="messages")


class RawEvent(Base):
    """Every Rasa event, exactly once, as Rasa serialised it."""

    __tablename__ = "raw_events"

    id = Column(Integer, primary_key=True)
    event_key = Column(String(64), nullable=False, unique=True)
    sender_id = Column(String(255), nullable=False, index=True)
    type_name = Column(String(60), nullable=False)
    timestamp = Column(Float, nullable=False)
    body = Column(JSON, nullable=False)
    source = Column(String(20), nullable=False)
    ingested_at = Column(UtcDateTime, nullable=False, default=utcnow)


class IngestCheckpoint(Base):
    """How far the catch-up step has read a source (the tracker store's row id)."""

    __tablename__ = "ingest_checkpoints"

    name = Column(String(60), primary_key=True)
    position = Column(Integer, nullable=False, default=0)
    updated_at = Column(UtcDateTime, nullable=False, default=utcnow, onupdate=utcnow)


class QuarantinedEvent(Base):
    """A tracker-store event that ingestion could not handle, set aside so the copy moves on.

    It keeps where the event is (the tracker store's row id), whose it is, its type, its
    time and the error, never the event's body: the reader's text stays only in the
    tracker store, where an operator can look it up by ``tracker_event_id``.
    """

    __tablename__ = "quarantined_events"

    id = Column(Integer, primary_key=True)
    tracker_event_id = Column(Integer, nullable=True, unique=True)
    source = Column(String(20), nullable=False)
    sender_id = Column(String(255), nullable=False, index=True)
    type_name = Column(String(60), nullable=False)
    event_timestamp = Column(Float, nullable=True)
    error = Column(Text, nullable=False)
    quarantined_at = Column(UtcDateTime, nullable=False, default=utcnow)


class Handoff(Base):
    """A request that a librarian take over a conversation."""

    __tablename__ = "handoffs"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(Integer, ForeignKey("conversations.id"), nullable=False, index=True)
    reason = Column(String(200), nullable=False)
    department = Column(String(80), nullable=True)
    status = Column(
        string_enum(HandoffStatus, "handoff_status"), nullable=False, default=HandoffStatus.WAITING
    )
    librarian_id = Column(Integer, ForeignKey("staff_users.id"), nullable=True)
    requested_at = Column(UtcDateTime, nullable=False, default=utcnow)
    claimed_at = Column(UtcDateTime, nullable=True)
    first_response_at = Column(UtcDateTime, nullable=True)
    resolved_at = Column(UtcDateTime, nullable=True)
    resolution_note = Column(Text, nullable=True)
    tags = Column(JSON, nullable=True)
    transfer_note = Column(Text, nullable=True)


class Ticket(Base):
    """A message left for staff, answered later on the reader's channel or by email."""

    __tablename__ = "tickets"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(Integer, ForeignKey("conversations.id"), nullable=True)
    reader_id = Column(Integer, ForeignKey("readers.id"), nullable=True, index=True)
    subject = Column(String(200), nullable=False)
    body = Column(Text, nullable=False)
    contact = Column(String(320), nullable=True)
    status = Column(
        string_enum(TicketStatus, "ticket_status"), nullable=False, default=TicketStatus.NEW
    )
    assignee_id = Column(Integer, ForeignKey("staff_users.id"), nullable=True, index=True)
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)
    updated_at = Column(UtcDateTime, nullable=False, default=utcnow, onupdate=utcnow)


class Feedback(Base):
    """A reader's rating (1 to 5) and optional comment."""

    __tablename__ = "feedback"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(Integer, ForeignKey("conversations.id"), nullable=True, index=True)
    reader_id = Column(Integer, ForeignKey("readers.id"), nullable=True)
    librarian_id = Column(Integer, ForeignKey("staff_users.id"), nullable=True)
    rating = Column(Integer, nullable=False)
    comment = Column(Text, nullable=True)
    source = Column(String(40), nullable=False, default="give_feedback")
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)


class ServiceHeartbeat(Base):
    """The last time a background process reported itself alive."""

    __tablename__ = "service_heartbeats"

    name = Column(String(60), primary_key=True)
    beat_at = Column(UtcDateTime, nullable=False)
    detail = Column(JSON, nullable=True)


class StaffUser(Base):
    """A librarian, admin or manager account for the console."""

    __tablename__ = "staff_users"

    id = Column(Integer, primary_key=True)
    username = Column(String(80), nullable=False, unique=True)
    display_name = Column(String(200), nullable=False)
    email = Column(String(320), nullable=True)
    role = Column(string_enum(StaffRole, "staff_role"), nullable=False, default=StaffRole.LIBRARIAN)
    password_hash = Column(String(255), nullable=False)
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)
    presence = Column(String(20), nullable=False, default="away")
    capacity = Column(Integer, nullable=False, default=3)
    department = Column(String(80), nullable=True)
    last_seen_at = Column(UtcDateTime, nullable=True)


class ApiToken(Base):
    """A bearer token for integrations, stored only as a SHA-256 hash."""

    __tablename__ = "api_tokens"

    id = Column(Integer, primary_key=True)
    staff_user_id = Column(Integer, ForeignKey("staff_users.id"), nullable=False, index=True)
    name = Column(String(120), nullable=False)
    token_hash = Column(String(64), nullable=False, unique=True)
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)
    last_used_at = Column(UtcDateTime, nullable=True)
    revoked_at = Column(UtcDateTime, nullable=True)


class ConsoleSession(Base):
    """A signed-in browser session; the cookie holds the token, the table its hash."""

    __tablename__ = "console_sessions"

    id = Column(Integer, primary_key=True)
    token_hash = Column(String(64), nullable=False, unique=True)
    staff_user_id = Column(Integer, ForeignKey("staff_users.id"), nullable=False, index=True)
    csrf_token = Column(String(64), nullable=False)
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)
    expires_at = Column(UtcDateTime, nullable=False)


class LoginAttempt(Base):
    """One login attempt, kept to rate-limit guessing by user name and by address."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_user_time", "username", "attempted_at"),)

    id = Column(Integer, primary_key=True)
    username = Column(String(80), nullable=False)
    remote_addr = Column(String(64), nullable=False, index=True)
    succeeded = Column(Boolean, nullable=False)
    attempted_at = Column(UtcDateTime, nullable=False, default=utcnow)


class Note(Base):
    """An internal note on a conversation; readers never see notes."""

    __tablename__ = "notes"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(Integer, ForeignKey("conversations.id"), nullable=False, index=True)
    staff_user_id = Column(Integer, ForeignKey("staff_users.id"), nullable=False)
    body = Column(Text, nullable=False)
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)


class CannedResponse(Base):
    """A reusable reply with placeholders such as ``{first_name}``, shared or personal."""

    __tablename__ = "canned_responses"

    id = Column(Integer, primary_key=True)
    title = Column(String(120), nullable=False)
    body = Column(Text, nullable=False)
    shortcut = Column(String(40), nullable=True, unique=True)
    created_by = Column(Integer, ForeignKey("staff_users.id"), nullable=True)
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)
    # None: shared by every librarian; else a personal reply of this staff member.
    owner_id = Column(Integer, ForeignKey("staff_users.id"), nullable=True, index=True)
    language = Column(String(16), nullable=True)
    tag = Column(String(40), nullable=True)
    updated_at = Column(UtcDateTime, nullable=True, default=utcnow, onupdate=utcnow)


class OutboundMessage(Base):
    """A librarian's message on its way to a reader; kept until Rasa has delivered it."""

    __tablename__ = "outbound_messages"

    id = Column(Integer, primary_key=True)
    conversation_id = Column(Integer, ForeignKey("conversations.id"), nullable=False, index=True)
    staff_user_id = Column(Integer, ForeignKey("staff_users.id"), nullable=True)
    ticket_id = Column(Integer, ForeignKey("tickets.id"), nullable=True)
    text = Column(Text, nullable=False)
    status = Column(String(20), nullable=False, default="pending")
    attempts = Column(Integer, nullable=False, default=0)
    last_error = Column(Text, nullable=True)
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)
    sent_at = Column(UtcDateTime, nullable=True)


class AuditEntry(Base):
    """Who did what to which record: claims, transfers, merges, account changes."""

    __tablename__ = "audit_log"

    id = Column(Integer, primary_key=True)
    staff_user_id = Column(Integer, ForeignKey("staff_users.id"), nullable=True)
    action = Column(String(60), nullable=False)
    subject = Column(String(120), nullable=False)
    detail = Column(JSON, nullable=True)
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)
