"""The email outbox as the console shows it: mails not delivered yet (issue 18)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from handoff_console.schemas.base import ApiModel, Timestamp

__all__ = ["MailDelivery"]


class MailDelivery(ApiModel):
    """One mail of the conversation that the SMTP server has not accepted."""

    message_id: str
    status: Literal["pending", "sending", "expired"] = Field(
        description="pending or sending: being retried; expired: given up"
    )
    retrying: bool
    attempts: int
    last_error: str | None
    next_attempt_at: Timestamp | None = Field(description="When it is tried again")
    expires_at: Timestamp
    created_at: Timestamp
