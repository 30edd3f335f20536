"""The shapes of readers across channels: search, profile, merge, split, audit history."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from handoff_console.schemas.base import ApiModel, Day, RecordId, Timestamp

__all__ = [
    "AuditItem",
    "CatalogueHit",
    "HoldBody",
    "HoldReply",
    "LibraryAccount",
    "LibraryCharge",
    "LibraryCharges",
    "LibraryHold",
    "LibraryLoan",
    "MergeBody",
    "MergeReply",
    "ReaderFields",
    "ReaderMessageSent",
    "ReaderProfile",
    "ReaderSummary",
    "RenewBody",
    "RenewReply",
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
    label: str = Field(
        description='as people read it: "Telegram @ada", "Web chat (Chrome, 3 visits)"'
    )
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
    state_label: str = Field(description="Waiting, With <name>, Resolved… (as the header reads)")
    started_at: Timestamp
    last_activity_at: Timestamp
    csat: int | None = Field(description="the reader's latest rating (1-5) of it, if any")


class ProfileTicket(ApiModel):
    """One of the reader's tickets."""

    id: int
    subject: str
    status: str
    conversation_id: int | None
    created_at: Timestamp
    csat: int | None = Field(description="the reader's latest rating of its conversation")


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


class LibraryLoan(ApiModel):
    """One item the reader has on loan, with its due date as people read it."""

    item_id: str
    record_id: str
    title: str
    author: str
    format: str
    due_date: Day
    due_label: str = Field(description='the library\'s way of writing it, "Tue 8 Dec 2026"')
    due_relative: str = Field(description='"due in 3 days", "due today", "overdue by 2 days"')
    overdue: bool
    renewals_used: int
    renewals_allowed: int
    blocked_by_hold: bool


class LibraryHold(ApiModel):
    """One of the reader's holds."""

    hold_id: str
    record_id: str
    title: str
    format: str
    status: str
    status_label: str
    pickup_branch: str
    pickup_branch_name: str
    queue_position: int
    pickup_by: Day | None
    pickup_by_label: str | None


class LibraryCharge(ApiModel):
    """One outstanding charge."""

    description: str
    amount: str = Field(description="decimal text, such as 0.75")
    date: Day
    date_label: str


class LibraryCharges(ApiModel):
    """The reader's outstanding charges."""

    total: str
    currency: str
    blocks_borrowing: bool
    items: list[LibraryCharge]


class LibraryAccount(ApiModel):
    """Loans, holds and charges from the library system, for a reader with a card on file."""

    card: str = Field(description="all but the last 4 masked")
    today_label: str
    loans: list[LibraryLoan]
    holds: list[LibraryHold]
    charges: LibraryCharges


class RenewBody(ApiModel):
    """Renew one loan on the reader's behalf."""

    item_id: str = Field(min_length=1, max_length=64)


class RenewReply(ApiModel):
    """A renewal the library system made; audited as ``reader.renew_on_behalf``."""

    audit_id: int
    item_id: str
    title: str | None
    new_due_date: Day
    due_label: str
    due_relative: str
    message: str


class HoldBody(ApiModel):
    """Place a hold on the reader's behalf."""

    record_id: str = Field(min_length=1, max_length=64)
    format: str = Field(min_length=1, max_length=64, description="book, audiobook, ebook…")
    pickup_branch: str = Field(min_length=1, max_length=64)


class HoldReply(ApiModel):
    """A hold the library system placed; audited as ``reader.hold_on_behalf``."""

    audit_id: int
    hold: LibraryHold
    message: str


class CatalogueHit(ApiModel):
    """A catalogue record a librarian may place a hold on."""

    record_id: str
    title: str
    author: str
    year: int
    format: str
    available: int
    total: int
