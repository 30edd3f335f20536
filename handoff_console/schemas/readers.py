"""The shapes of readers across channels: search, profile, merge, split, audit history."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from handoff_console.schemas.base import ApiModel, RecordId, Timestamp

__all__ = [
    "AuditItem",
    "MergeBody",
    "MergeReply",
    "ReaderFields",
    "ReaderMessageSent",
    "ReaderProfile",
    "ReaderSummary",
    "SplitBody",
    "SplitReply",
    "UndoMergeBody",
    "UndoMergeReply",
]


class ReaderFields(ApiModel):
    """What every view of a reader shows."""

    id: int
    name: str | None
    email: str | None
    card: str | None = Field(description="all but the last 4 masked")
    verified: bool
    created_at: Timestamp


class ReaderSummary(ReaderFields):
    """A reader as lists show them."""

    channels: list[str]


class ProfileIdentity(ApiModel):
    """The reader's address on one channel and whether it can take messages."""

    id: int
    channel: str
    external_id: str
    reachable: bool
    last_seen_at: Timestamp | None
    created_at: Timestamp


class ReachableConversation(ApiModel):
    """Where a message to the reader would go now."""

    id: int
    channel: str
    sender_id: str


class ProfileConversation(ApiModel):
    """One of the reader's conversations."""

    id: int
    channel: str
    sender_id: str
    status: str
    started_at: Timestamp
    last_activity_at: Timestamp


class ProfileTicket(ApiModel):
    """One of the reader's tickets."""

    id: int
    subject: str
    status: str
    conversation_id: int | None
    created_at: Timestamp


class ProfileFeedback(ApiModel):
    """A rating the reader gave."""

    id: int
    rating: int
    comment: str | None
    conversation_id: int | None
    created_at: Timestamp


class ReaderProfile(ReaderFields):
    """Everything the console shows about a reader."""

    verified_at: Timestamp | None
    identities: list[ProfileIdentity]
    reachable_conversation: ReachableConversation | None
    conversations: list[ProfileConversation]
    tickets: list[ProfileTicket]
    feedback: list[ProfileFeedback]


class MergeReply(ApiModel):
    """The kept reader after a merge, and the merge's audit id."""

    audit_id: int
    reader: ReaderProfile


class SplitReply(MergeReply):
    """Both readers after a split, and the split's audit id."""

    new_reader: ReaderProfile


class UndoMergeReply(MergeReply):
    """Both readers after an undone merge, and the undo's audit id."""

    restored_reader: ReaderProfile


class AuditItem(ApiModel):
    """One entry of a reader's audit history (card numbers masked)."""

    id: int
    action: str
    subject: str
    staff: dict[str, Any] | None
    created_at: Timestamp
    summary: str
    detail: dict[str, Any]


class ReaderMessageSent(ApiModel):
    """A message to a reader that Rasa took."""

    id: int
    status: str
    channel: str


class MergeBody(ApiModel):
    """Merge reader ``other_id`` into this one."""

    other_id: RecordId
    reason: str
    force: bool = False


class UndoMergeBody(ApiModel):
    """Undo the merge recorded in ``audit_id``."""

    audit_id: RecordId
    reason: str


class SplitBody(ApiModel):
    """Move identities to a new reader."""

    identity_ids: list[RecordId]
    reason: str
