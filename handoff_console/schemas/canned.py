"""The shapes of canned replies: shared or personal, with a language and a tag."""

from __future__ import annotations

from pydantic import Field

from handoff_console.schemas.base import ApiModel, Timestamp

__all__ = ["CannedReply", "CannedReplyBody", "CannedReplyPatch", "Deleted"]


class CannedReply(ApiModel):
    """A reusable reply with ``{first_name}``-style placeholders."""

    id: int
    title: str
    body: str
    shortcut: str | None
    language: str | None = Field(description="A language tag such as en or es")
    tag: str | None
    shared: bool = Field(description="True: every librarian sees it; false: personal")
    owner: str | None = Field(description="The display name of a personal reply's owner")
    can_edit: bool = Field(description="Whether the caller may edit or delete it")
    created_at: Timestamp
    updated_at: Timestamp | None


class CannedReplyBody(ApiModel):
    """A canned reply as written (new, or replaced whole with PUT)."""

    title: str = Field(max_length=120)
    body: str = Field(max_length=4000)
    shortcut: str | None = Field(None, max_length=40)
    language: str | None = Field(None, max_length=16)
    tag: str | None = Field(None, max_length=40)
    shared: bool = True


class CannedReplyPatch(ApiModel):
    """The fields of a canned reply to change; the others stay as they are."""

    title: str = Field(None, max_length=120, nullable=False)
    body: str = Field(None, max_length=4000, nullable=False)
    shortcut: str | None = Field(None, max_length=40)
    language: str | None = Field(None, max_length=16)
    tag: str | None = Field(None, max_length=40)
    shared: bool = Field(None, nullable=False)


class Deleted(ApiModel):
    """The id of a record that was deleted."""

    id: int
    deleted: bool = True
