"""The console's tables: staff accounts, their sign-ins, notes, canned replies, outbox, audit.

``staff_users`` holds the librarian, admin and manager accounts; ``api_tokens``,
``console_sessions`` and ``login_attempts`` how they sign in; ``notes``,
``canned_responses`` and ``outbound_messages`` their work on conversations; and
``audit_log`` who did what to which record.
"""

from __future__ import annotations

import enum

from sqlalchemy import JSON, Boolean, Column, ForeignKey, Index, Integer, String, Text

from crm_store.models.core import Base, UtcDateTime, string_enum, utcnow


class StaffRole(str, enum.Enum):
    """What a staff account may do in the console."""

    LIBRARIAN = "librarian"
    ADMIN = "admin"
    MANAGER = "manager"


class StaffUser(Base):
    """A librarian, admin or manager account for the console."""

    __tablename__ = "staff_users"

    id = Column(Integer, primary_key=True)
    username = Column(String(80), nullable=False, unique=True)
    display_name = Column(String(200), nullable=False)
    email = Column(String(320), nullable=True)
    role = Column(
        string_enum(StaffRole, "staff_role"), nullable=False, default=StaffRole.LIBRARIAN
    )
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
    """A reusable reply with placeholders such as ``{reader_name}``."""

    __tablename__ = "canned_responses"

    id = Column(Integer, primary_key=True)
    title = Column(String(120), nullable=False)
    body = Column(Text, nullable=False)
    shortcut = Column(String(40), nullable=True, unique=True)
    created_by = Column(Integer, ForeignKey("staff_users.id"), nullable=True)
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)


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
