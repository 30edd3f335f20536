"""Merging two readers, undoing a merge, and folding in a reader when a card is verified.

**Merge** moves every row of one reader to another, fills the kept reader's empty
profile fields, deletes the merged reader and writes a ``reader.merge`` audit entry
whose detail lists every moved row, so :func:`undo_merge` can put them back. A row that
would break a unique constraint once moved (the kept reader already has its
counterpart, such as a preferences row) is deleted and kept in full in the audit detail
(``dropped``); the kept reader's row wins. Two readers verified with different cards are
merged only when forced.

**Verification links** (:func:`absorb_previous`): an anonymous previous reader is folded
in completely; a previous reader verified with another card keeps everything except the
identity and its conversation.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from crm_store import clock
from crm_store.identities.errors import CardConflictError, InvalidRequestError
from crm_store.identities.rows import (
    LINK,
    MERGE,
    UNMERGE,
    audit_reader,
    column_key,
    fold,
    locked_reader,
    move_rows_back,
    parse_time,
    primary_key,
    reader_columns,
    required_reason,
    unplain,
)
from crm_store.models import AuditEntry, Reader

__all__ = ["absorb_previous", "merge_readers", "undo_merge"]


def merge_readers(
    session: Session,
    keep_id: int,
    merge_id: int,
    staff_user_id: int | None,
    reason: str,
    *,
    force: bool = False,
) -> AuditEntry:
    """Merge reader ``merge_id`` into reader ``keep_id``.

    Every row pointing at the merged reader (identities, conversations, tickets,
    feedback, and any table added later with a ``reader_id`` foreign key) moves to the
    kept reader; notes, messages and handoffs follow their conversations. The kept
    reader's empty profile fields are filled from the merged one; the merged reader is
    deleted and its profile kept in the audit entry.

    Args:
        session: an open session; the caller owns the transaction.
        keep_id: the reader that stays.
        merge_id: the reader that is folded into it.
        staff_user_id: who asked for the merge.
        reason: why; required, kept in the audit history.
        force: merge even when the two readers were verified with different cards.

    Returns:
        The ``reader.merge`` audit entry; its detail lists what moved, for `undo_merge`.

    Raises:
        ReaderNotFoundError: either reader does not exist.
        CardConflictError: both are verified with different cards and ``force`` is off.
        InvalidRequestError: a reader would be merged into itself, or no reason was given.
    """
    why = required_reason(reason)
    if keep_id == merge_id:
        raise InvalidRequestError("A reader cannot be merged into itself.")
    # Lock both rows in id order, so two merges of the same pair cannot deadlock.
    first, second = sorted((keep_id, merge_id))
    locked = {first: locked_reader(session, first), second: locked_reader(session, second)}
    keep, merged = locked[keep_id], locked[merge_id]
    conflict = (
        keep.card_number is not None
        and merged.card_number is not None
        and keep.card_number != merged.card_number
    )
    if conflict and not force:
        raise CardConflictError(str(keep.card_number), str(merged.card_number))
    detail: dict[str, Any] = {"keep_id": keep_id, "merge_id": merge_id, "reason": why}
    detail["forced"] = bool(conflict)
    detail.update(fold(session, keep, merged))
    return audit_reader(session, staff_user_id, MERGE, keep_id, **detail)


def undo_merge(
    session: Session, audit_id: int, staff_user_id: int | None, reason: str
) -> AuditEntry:
    """Undo a ``reader.merge``: recreate the merged reader and move its rows back.

    Rows that moved on since the merge (a later merge or split) stay where they are,
    and a profile field filled by the merge is cleared only if it still holds the
    merged value. Returns the ``reader.unmerge`` audit entry.

    Raises:
        InvalidRequestError: the entry is not a merge, was undone already, or the
            merged reader's id is taken.
    """
    why = required_reason(reason)
    entry = session.get(AuditEntry, audit_id)
    if entry is None or entry.action != MERGE or not isinstance(entry.detail, dict):
        raise InvalidRequestError(f"Audit entry {audit_id} is not a reader merge.")
    undone = session.execute(
        select(AuditEntry).where(AuditEntry.action == UNMERGE, AuditEntry.subject == entry.subject)
    ).scalars()
    for other in list(undone):
        if isinstance(other.detail, dict) and other.detail.get("merge_audit_id") == audit_id:
            raise InvalidRequestError(f"The merge in audit entry {audit_id} was undone already.")
    detail: dict[str, Any] = entry.detail
    keep_id, merge_id = int(detail["keep_id"]), int(detail["merge_id"])
    if session.get(Reader, merge_id) is not None:
        raise InvalidRequestError(f"Reader {merge_id} exists again; nothing to restore.")
    keep = locked_reader(session, keep_id)
    old: dict[str, Any] = detail["merged_reader"]
    restored: dict[str, Any] = {
        "display_name": old.get("display_name"),
        "email": old.get("email"),
        "card_number": old.get("card_number"),
        "verified_at": parse_time(old.get("verified_at")),
    }
    for name in detail.get("filled", []):
        if getattr(keep, name) == restored[name]:
            setattr(keep, name, None)
    session.flush()
    card = restored["card_number"]
    if (
        card is not None
        and session.execute(select(Reader.id).where(Reader.card_number == card)).first()
    ):
        restored["card_number"] = None  # the kept reader holds it now; leave it there
    now = clock.now()
    session.execute(
        insert(Reader).values(
            id=merge_id,
            created_at=parse_time(old.get("created_at")) or now,
            updated_at=now,
            **restored,
        )
    )
    columns = {column_key(t, c): (t, c) for t, c in reader_columns()}
    moved_back: dict[str, list[Any]] = {}
    for key, ids in detail.get("moved", {}).items():
        if key in columns:
            table, column = columns[key]
            back = move_rows_back(session, table, column, ids, keep_id, merge_id)
            if back:
                moved_back[key] = back
    restored_rows: dict[str, list[Any]] = {}
    for key, rows in detail.get("dropped", {}).items():
        if key in columns and rows:
            table, _column = columns[key]
            session.execute(
                insert(table),
                [{c.name: unplain(c, row.get(c.name)) for c in table.columns} for row in rows],
            )
            restored_rows[key] = [row[primary_key(table).name] for row in rows]
    session.expire_all()
    unmerged: dict[str, Any] = {"merge_audit_id": audit_id, "keep_id": keep_id}
    unmerged.update(merge_id=merge_id, reason=why, moved=moved_back, restored=restored_rows)
    return audit_reader(session, staff_user_id, UNMERGE, keep_id, **unmerged)


def absorb_previous(
    session: Session, reader: Reader, previous_id: int | None, channel: str, external_id: str
) -> AuditEntry | None:
    """Settle what happens to an identity's previous reader when a card is verified.

    Called by ``link_verified_reader`` after the identity and its conversation have
    moved to ``reader``. The previous reader is:

    - **anonymous** (no card): folded into ``reader`` completely (its other identities,
      conversations, tickets and feedback move too, and it is deleted), because an
      anonymous reader is only what the channel knew about this same person;
    - **verified with another card** (a shared device): left as it is, keeping its
      other identities and the tickets and feedback created while it was signed in.

    Either way a ``reader.link`` audit entry (no staff member) records what moved.
    Returns it, or None when there was no other previous reader.
    """
    if previous_id is None or previous_id == reader.id:
        return None
    previous = session.get(Reader, previous_id)
    if previous is None:
        return None
    detail: dict[str, Any] = {
        "channel": channel,
        "external_id": external_id,
        "previous_reader_id": previous_id,
        "absorbed": previous.card_number is None,
    }
    if detail["absorbed"]:
        detail.update(fold(session, reader, previous))
    return audit_reader(session, None, LINK, int(reader.id), **detail)
