"""Splitting a reader: some identities, with their conversations, go to a new reader."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store import clock
from crm_store.identities.errors import InvalidRequestError
from crm_store.identities.rows import (
    SPLIT,
    audit_reader,
    column_key,
    locked_reader,
    move_rows,
    reader_columns,
    required_reason,
)
from crm_store.models import AuditEntry, ChannelIdentity, Conversation, Reader

__all__ = ["split_reader"]


def split_reader(
    session: Session,
    reader_id: int,
    identity_ids: Iterable[int],
    staff_user_id: int | None,
    reason: str,
) -> tuple[Reader, AuditEntry]:
    """Move some of a reader's identities, with their conversations, to a new reader.

    The new reader is anonymous (its profile is empty; the card stays with the
    original reader). Rows of other tables that belong to the moved conversations
    (tickets, feedback, and later tables with ``reader_id`` and ``conversation_id``)
    move with them.

    Returns:
        The new reader and the ``reader.split`` audit entry.

    Raises:
        ReaderNotFoundError: the reader does not exist.
        InvalidRequestError: no identities, identities of another reader, or all of
            the reader's identities (that would be a rename, not a split).
    """
    why = required_reason(reason)
    chosen = sorted({int(i) for i in identity_ids})
    if not chosen:
        raise InvalidRequestError("Choose at least one identity to split off.")
    reader = locked_reader(session, reader_id)
    own = {
        i.id: i
        for i in session.execute(
            select(ChannelIdentity).where(ChannelIdentity.reader_id == reader_id)
        ).scalars()
    }
    foreign = [i for i in chosen if i not in own]
    if foreign:
        raise InvalidRequestError(
            f"Identities {', '.join(map(str, foreign))} do not belong to reader {reader_id}."
        )
    if len(chosen) == len(own):
        raise InvalidRequestError(
            "Leave at least one identity with the reader; a split cannot take them all."
        )
    sender_ids = [own[i].external_id for i in chosen]
    new = Reader(created_at=clock.now())
    session.add(new)
    session.flush()
    new_id = int(new.id)
    moved: dict[str, list[Any]] = {}
    identities = ChannelIdentity.__table__
    conversations = Conversation.__table__
    moved[column_key(identities, identities.c.reader_id)] = move_rows(
        session, identities, identities.c.reader_id, reader_id, new_id, identities.c.id.in_(chosen)
    )
    conversation_ids = move_rows(
        session,
        conversations,
        conversations.c.reader_id,
        reader_id,
        new_id,
        conversations.c.sender_id.in_(sender_ids),
    )
    if conversation_ids:
        moved[column_key(conversations, conversations.c.reader_id)] = conversation_ids
        for table, column in reader_columns():
            if table.name in (identities.name, conversations.name):
                continue
            if "conversation_id" not in table.c:
                continue
            ids = move_rows(
                session,
                table,
                column,
                reader_id,
                new_id,
                table.c.conversation_id.in_(conversation_ids),
            )
            if ids:
                moved[column_key(table, column)] = ids
    session.expire_all()
    entry = audit_reader(
        session,
        staff_user_id,
        SPLIT,
        reader_id,
        reader_id=reader_id,
        new_reader_id=new_id,
        reason=why,
        moved=moved,
    )
    new_reader = session.get(Reader, new_id)
    assert new_reader is not None and reader.id == reader_id
    return new_reader, entry
