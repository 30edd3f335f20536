"""The shapes of the queue, a conversation, its handoff, messages and notes."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from handoff_console.schemas.base import ApiModel, Timestamp

__all__ = [
    "Conversation",
    "FeedbackBrief",
    "Handoff",
    "HandoffReply",
    "LastMessage",
    "Message",
    "Note",
    "Outbound",
    "PastConversation",
    "Person",
    "QueueItem",
    "QueueReader",
    "Reader",
    "ReaderIdentity",
    "SentMessage",
    "SystemLine",
    "TicketBrief",
    "Typing",
]

HandoffStatus = Literal["waiting", "claimed", "resolved", "abandoned", "ticketed"]


class Person(ApiModel):
    """A staff member by id and display name."""

    id: int
    name: str


class QueueReader(ApiModel):
    """The reader as the queue and tickets show them."""

    id: int
    name: str | None
    verified: bool


class LastMessage(ApiModel):
    """The newest message of a queued conversation."""

    text: str | None
    sender_kind: str
    sent_at: Timestamp


class QueueItem(ApiModel):
    """A waiting or claimed handoff with its conversation."""

    conversation_id: int
    sender_id: str
    channel: str
    handoff_id: int
    status: Literal["waiting", "claimed"]
    reason: str
    requested_at: Timestamp
    waiting_seconds: int
    reader: QueueReader | None
    last_message: LastMessage | None
    librarian: Person | None
    department: str | None


class Handoff(ApiModel):
    """A request for a librarian, from waiting to resolved."""

    id: int
    status: HandoffStatus
    reason: str
    librarian: Person | None
    requested_at: Timestamp
    claimed_at: Timestamp | None
    first_response_at: Timestamp | None
    resolved_at: Timestamp | None
    resolution_note: str | None
    tags: list[str]
    department: str | None
    transfer_note: str | None


class HandoffReply(ApiModel):
    """The handoff after a claim, transfer, resolve or reopen."""

    handoff: Handoff


class Message(ApiModel):
    """A stored message of the conversation."""

    id: int
    sender_kind: Literal["reader", "bot", "librarian", "system"]
    text: str | None = Field(description="As the reader typed it; escape before display.")
    channel: str
    sent_at: Timestamp
    librarian_name: str | None


class SystemLine(ApiModel):
    """A line between the transcript's messages: who joined, transferred, resolved."""

    id: str = Field(description="Stable across reloads, e.g. audit-12 or handoff-3-requested")
    kind: Literal[
        "requested",
        "claim",
        "take_over",
        "transfer",
        "auto_assign",
        "resolve",
        "reopen",
        "abandoned",
        "ticketed",
    ]
    text: str = Field(description="Such as 'Sam Reyes joined' or 'Resolved by Sam Reyes'.")
    at: Timestamp


class Typing(ApiModel):
    """The librarian's typing signal as stored, for the reader's widget."""

    conversation_id: int
    on: bool
    expires_in_seconds: float = Field(
        description="The widget stops showing it after this long unless it is sent again"
    )


class Note(ApiModel):
    """An internal note; readers never see notes."""

    id: int
    author: str | None
    body: str
    created_at: Timestamp


class Outbound(ApiModel):
    """A librarian's message in the outbox."""

    id: int
    conversation_id: int
    status: Literal["pending", "sending", "sent", "failed", "pending_email"]
    attempts: int
    last_error: str | None
    text: str
    created_at: Timestamp | None


class SentMessage(ApiModel):
    """A librarian's message that Rasa took."""

    id: int
    status: Literal["sent"]


class ReaderIdentity(ApiModel):
    """The reader's address on one channel."""

    channel: str
    external_id: str


class PastConversation(ApiModel):
    """Another conversation of the same reader."""

    id: int
    channel: str
    started_at: Timestamp
    status: str
    state_label: str = Field(description="Waiting, With <name>, Resolved… (as the header reads)")


class TicketBrief(ApiModel):
    """One of the reader's tickets."""

    id: int
    subject: str
    status: str


class FeedbackBrief(ApiModel):
    """A rating the reader gave."""

    rating: int
    comment: str | None
    created_at: Timestamp


class Reader(ApiModel):
    """The reader's profile beside a conversation."""

    id: int
    name: str | None
    email: str | None
    card_number_masked: str | None
    verified: bool
    identities: list[ReaderIdentity]
    loans_summary: str | None = Field(
        description="Only while the reader is signed in (card and PIN) in this "
        "conversation; otherwise null."
    )
    past_conversations: list[PastConversation]
    tickets: list[TicketBrief]
    feedback: list[FeedbackBrief]


class Conversation(ApiModel):
    """Everything a librarian sees about one conversation."""

    id: int
    sender_id: str
    channel: str
    status: Literal["active", "handoff", "resolved", "abandoned"] = Field(
        description="Who answers the reader now (the bot or staff); see state for the handoff."
    )
    state: Literal["bot", "waiting", "claimed", "resolved", "abandoned", "ticketed"] = Field(
        description="The latest handoff's status (bot: never handed off); the one source "
        "of the status a librarian reads"
    )
    state_label: str = Field(description="Waiting, With <name>, Resolved, ...")
    unanswered: bool = Field(
        description="The handoff is open and the reader wrote after the last librarian reply"
    )
    handoff: Handoff | None
    messages: list[Message]
    system_lines: list[SystemLine] = Field(
        description="Handoff requests, joins, transfers, take-overs and resolves, oldest first"
    )
    notes: list[Note] = Field(
        description="Private notes: shown in the staff transcript, never relayed to the reader"
    )
    reader_typing: bool = Field(description="The reader is typing now (web chat)")
    language: str | None = Field(description="The reader's language (ISO 639-1), if known")
    reader: Reader | None
    undelivered: list[Outbound] = Field(description="Librarian messages pending or failed.")
