"""The shapes of tickets, canned responses, staff and the request bodies of the desk."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from handoff_console.schemas.base import ApiModel, RecordId, Timestamp
from handoff_console.schemas.conversations import QueueReader

__all__ = [
    "CannedBody",
    "CannedResponse",
    "CannedText",
    "ClaimBody",
    "NoteBody",
    "Presence",
    "PresenceBody",
    "ResolveBody",
    "Staff",
    "TextBody",
    "Ticket",
    "TicketReply",
    "TicketStatus",
    "TicketStatusBody",
    "TransferBody",
    "TypingBody",
]

TicketStatus = Literal["new", "open", "pending", "closed"]
PresenceValue = Literal["online", "away"]


class Ticket(ApiModel):
    """A message a reader left for staff."""

    id: int
    subject: str
    body: str
    contact: str | None = Field(description="An email address, or <channel>:<sender_id>")
    status: TicketStatus
    created_at: Timestamp
    conversation_id: int | None
    reader: QueueReader | None


class TicketReply(ApiModel):
    """A reply to a ticket: sent on the reader's chat, or queued as an email."""

    id: int
    status: Literal["sent", "pending", "pending_email"]
    delivery: Literal["chat", "email_queued"]


class CannedResponse(ApiModel):
    """A reusable reply with ``{reader_name}``-style placeholders."""

    id: int
    title: str
    body: str
    shortcut: str | None
    created_at: Timestamp


class CannedText(ApiModel):
    """A canned response filled for one conversation."""

    id: int
    text: str


class Staff(ApiModel):
    """A staff member with presence, load and capacity (for transfers)."""

    id: int
    display_name: str
    role: Literal["librarian", "admin", "manager"]
    presence: PresenceValue
    load: int
    capacity: int
    department: str | None


class Presence(ApiModel):
    """The caller's presence after a change."""

    id: int
    presence: PresenceValue


class TextBody(ApiModel):
    """A message for the reader."""

    text: str = Field(max_length=4000)


class NoteBody(ApiModel):
    """An internal note."""

    body: str


class TypingBody(ApiModel):
    """Whether the librarian is typing a reply (not a private note) now."""

    on: bool = Field(description="true while typing (send again every few seconds), false to stop")


class TransferBody(ApiModel):
    """Hand over to a colleague (``to_user_id``) or back to a department's queue."""

    to_user_id: RecordId | None = None
    department: str | None = None
    note: str = ""


class ResolveBody(ApiModel):
    """The librarian's resolution note and tags."""

    note: str = ""
    tags: list[str] = []
    require_answered: bool = Field(
        False,
        description="Refuse (409 unanswered) when the reader wrote after the last "
        "librarian reply; the console sends true, then false once the librarian confirms",
    )


class ClaimBody(ApiModel):
    """Whether to take a conversation a colleague holds."""

    take_over: bool = Field(
        False, description="Take the conversation from the librarian holding it (audited)"
    )


class TicketStatusBody(ApiModel):
    """A ticket's new status."""

    status: TicketStatus


class CannedBody(ApiModel):
    """A new canned response."""

    title: str
    body: str
    shortcut: str | None = None


class PresenceBody(ApiModel):
    """Online or away."""

    presence: PresenceValue
