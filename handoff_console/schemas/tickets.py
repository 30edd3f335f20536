"""The shapes of tickets: the reader's message, its assignee and every reply."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from handoff_console.schemas.base import ApiModel, RecordId, Timestamp
from handoff_console.schemas.conversations import QueueReader
from handoff_console.schemas.desk import TicketStatus

__all__ = ["TicketAssignee", "TicketPatch", "TicketReplyEntry", "TicketView"]


class TicketAssignee(ApiModel):
    """The staff member a ticket is assigned to."""

    id: int
    name: str


class TicketReplyEntry(ApiModel):
    """One reply staff sent on a ticket, oldest first."""

    id: int
    text: str
    author: str | None
    status: str = Field(description="sent, pending, pending_email, failed, …")
    delivery: Literal["chat", "email"]
    created_at: Timestamp
    sent_at: Timestamp | None


class TicketView(ApiModel):
    """A message a reader left for staff, with its assignee and its reply history."""

    id: int
    subject: str = Field(description="The reader's first question, shortened")
    body: str
    contact: str | None = Field(description="An email address, or <channel>:<sender_id>")
    status: TicketStatus
    created_at: Timestamp
    updated_at: Timestamp
    conversation_id: int | None
    reader: QueueReader | None
    assignee: TicketAssignee | None
    replies: list[TicketReplyEntry]


class TicketPatch(ApiModel):
    """A new status, a new assignee (``null`` unassigns), or both."""

    status: TicketStatus = Field(None, nullable=False)
    assignee_id: RecordId | None = None
