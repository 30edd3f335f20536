"""The vocabularies of the reader store: every status and kind a row can hold.

They are stored as their string values; the tables in the sibling modules use them
through :func:`crm_store.models.core.string_enum`.
"""

from __future__ import annotations

import enum

__all__ = [
    "ConversationStatus",
    "Direction",
    "FollowUpStatus",
    "HandoffStatus",
    "ReminderStatus",
    "SenderKind",
    "StaffRole",
    "SurveyStatus",
    "TicketStatus",
]


class ConversationStatus(str, enum.Enum):
    """Where a conversation stands."""

    ACTIVE = "active"
    HANDOFF = "handoff"
    RESOLVED = "resolved"
    ABANDONED = "abandoned"


class SenderKind(str, enum.Enum):
    """Who wrote a message."""

    READER = "reader"
    BOT = "bot"
    LIBRARIAN = "librarian"
    SYSTEM = "system"


class Direction(str, enum.Enum):
    """Whether a message came in from the reader or went out to them."""

    INBOUND = "in"
    OUTBOUND = "out"


class HandoffStatus(str, enum.Enum):
    """Where a handoff to a librarian stands."""

    WAITING = "waiting"
    CLAIMED = "claimed"
    RESOLVED = "resolved"
    ABANDONED = "abandoned"
    TICKETED = "ticketed"


class TicketStatus(str, enum.Enum):
    """Where a ticket stands."""

    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    CLOSED = "closed"


class SurveyStatus(str, enum.Enum):
    """Where a survey stands."""

    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    ANSWERED = "answered"
    SKIPPED = "skipped"
    UNDELIVERABLE = "undeliverable"


class FollowUpStatus(str, enum.Enum):
    """Where a follow-up stands."""

    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    ANSWERED = "answered"
    CANCELLED = "cancelled"
    UNDELIVERABLE = "undeliverable"


class ReminderStatus(str, enum.Enum):
    """Where a reminder stands."""

    SENDING = "sending"
    SENT = "sent"
    UNDELIVERABLE = "undeliverable"


class StaffRole(str, enum.Enum):
    """What a staff account may do in the console."""

    LIBRARIAN = "librarian"
    ADMIN = "admin"
    MANAGER = "manager"
