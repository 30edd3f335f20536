"""The shapes of notifications, follow-ups and reminder preferences (the worker's side)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from handoff_console.schemas.base import ApiModel, Day, Timestamp

__all__ = [
    "FollowUp",
    "FollowUpBody",
    "Notification",
    "NotificationList",
    "Preferences",
    "PreferencesBody",
]

FollowUpStatus = Literal["scheduled", "sending", "sent", "answered", "cancelled", "undeliverable"]


class Notification(ApiModel):
    """A note for staff from the worker (a reminder, a reader's answer, ...)."""

    id: int
    kind: str = Field(example="ticket_reminder")
    subject: str = Field(example="ticket:12")
    title: str
    body: str | None
    link: str | None
    staff_user_id: int | None
    email_status: str | None
    created_at: Timestamp
    read_at: Timestamp | None


class NotificationList(ApiModel):
    """The caller's notifications, newest first, and how many are unread."""

    items: list[Notification]
    unread: int


class FollowUp(ApiModel):
    """A follow-up with the reader, with their answer once given."""

    id: int
    conversation_id: int
    staff_user_id: int | None
    due: Day
    note: str | None
    status: FollowUpStatus
    sent_at: Timestamp | None
    sent_channel: str | None
    answer: Literal["yes", "no"] | None
    answer_text: str | None
    answered_at: Timestamp | None
    created_at: Timestamp


class Preferences(ApiModel):
    """A reader's reminder preferences and consent times."""

    reader_id: int
    due_date_reminders: bool
    hold_ready_notices: bool
    reminder_days: int = Field(ge=0, le=30)
    consent_given_at: Timestamp | None
    consent_withdrawn_at: Timestamp | None
    consent_source: str | None
    updated_at: Timestamp | None


class FollowUpBody(ApiModel):
    """When to follow up, and a note for colleagues."""

    due: Day
    note: str = ""


class PreferencesBody(ApiModel):
    """The preferences to change; absent ones stay as they are."""

    due_date_reminders: bool | None = None
    hold_ready_notices: bool | None = None
    reminder_days: int | None = Field(None, ge=0, le=30)
