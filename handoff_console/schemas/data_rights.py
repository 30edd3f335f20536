"""Readers' data rights in the console: the export document and the erasure (issue 18)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from handoff_console.schemas.base import ApiModel

__all__ = ["EraseBody", "ErasureReply", "ReaderExport"]

Rows = list[dict[str, Any]]


class ReaderExport(ApiModel):
    """Everything held about one reader (``crm_store.data_rights.export_reader``).

    Each list holds the rows of one kind as stored, times in ISO 8601; a conversation
    also holds its ``messages``, ``handoffs``, ``staff_notes``, ``librarian_messages``
    and Rasa ``tracker_events``.
    """

    format: str = Field(example="ric-reader-export/1")
    exported_at: str
    reader: dict[str, Any]
    identities: Rows
    conversations: Rows
    tickets: Rows
    surveys: Rows
    ratings: Rows
    consents: Rows
    follow_ups: Rows
    reminders: Rows
    email_threads: Rows
    email_outbox: Rows
    question_clusters: Rows = Field(
        description="The nightly question clusters' copies of the reader's words: "
        "run_day, rank and texts"
    )
    audit: Rows


class EraseBody(ApiModel):
    """Erase the reader: ``confirm`` must be the word ``erase`` (it cannot be undone)."""

    confirm: str = Field(example="erase")


class ErasureReply(ApiModel):
    """The reader erased, and the rows changed or deleted per kind."""

    reader_id: int
    counts: dict[str, int]
