"""The shapes of the librarian inbox and the supervisor view."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from handoff_console.schemas.base import ApiModel, Timestamp
from handoff_console.schemas.conversations import Person, QueueReader

__all__ = [
    "InboxCounts",
    "InboxItem",
    "InboxPage",
    "SupervisorLibrarian",
    "SupervisorQueue",
    "SupervisorView",
]

InboxState = Literal["waiting", "claimed", "resolved", "abandoned", "ticketed", "bot"]


class InboxItem(ApiModel):
    """One conversation as an inbox list shows it."""

    conversation_id: int
    sender_id: str
    channel: str
    language: str | None = Field(description="The reader's language (ISO 639-1), if detected")
    state: InboxState = Field(description="The latest handoff's status, or bot (never handed off)")
    handoff_id: int | None
    reason: str | None
    department: str | None
    tags: list[str]
    requested_at: Timestamp | None
    waiting_seconds: int | None = Field(description="Seconds since the request, while waiting")
    last_activity_at: Timestamp
    reader: QueueReader | None
    librarian: Person | None
    question: str | None = Field(
        description="The reader's last message before the handoff (card numbers masked)"
    )
    other_open: int = Field(description="Other open handoffs of the same reader")


class InboxCounts(ApiModel):
    """How many conversations each list holds, with the same filters."""

    waiting: int
    mine: int
    open: int
    resolved: int
    bot: int


class InboxPage(ApiModel):
    """One page of one inbox list, and every list's count."""

    list_name: Literal["waiting", "mine", "open", "resolved", "bot"] = Field(alias="list")
    page: int
    page_size: int
    total: int
    items: list[InboxItem]
    counts: InboxCounts


class SupervisorLibrarian(ApiModel):
    """A staff member's presence and load, with their open conversations."""

    id: int
    name: str
    role: str
    presence: str
    last_seen_at: Timestamp | None
    load: int
    capacity: int
    conversations: list[int] = Field(description="Ids of the conversations they hold")


class SupervisorQueue(ApiModel):
    """The queue's length and its oldest wait."""

    waiting: int
    claimed: int
    oldest_waiting_seconds: int | None
    online: int


class SupervisorView(ApiModel):
    """Who is online, each librarian's load and the queue, for managers and admins."""

    queue: SupervisorQueue
    staff: list[SupervisorLibrarian]
