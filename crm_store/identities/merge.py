"""One reader across channels: linking, merging, splitting, profiles and reachability.

A reader (``readers``) owns channel identities (``channel_identities``: a widget session,
a Telegram chat, a Slack user, an email address). Every other row that belongs to a
reader points at it through a ``reader_id`` foreign key; merge and split find those
columns in the metadata, so tables added by later modules move with the reader too.

Rules:

- **Verification links.** Verifying a card on a channel moves that identity to the
  reader who owns the card (``repositories.link_verified_reader`` calls `absorb_previous`).
  An anonymous previous reader is folded in completely; a previous reader verified
  with another card keeps everything except the identity and its conversation.
- **Merge** moves every row of one reader to another, fills the kept reader's empty
  profile fields, deletes the merged reader and writes a ``reader.merge`` audit entry
  whose detail lists every moved row, so `undo_merge` can put them back. A row that
  would break a unique constraint once moved (the kept reader already has its
  counterpart, such as a preferences row) is deleted and kept in full in the audit
  detail (``dropped``); the kept reader's row wins. Two readers verified with
  different cards are merged only when forced.
- **Split** moves chosen identities, their conversations and the rows of those
  conversations to a new reader (``reader.split`` audit entry).

Errors (all are `crm_store.errors.CrmStoreError`)::

    IdentityError
    ├── ReaderNotFoundError   no reader has that id
    ├── CardConflictError     both readers are verified with different cards
    └── InvalidRequestError   the merge, split or undo asked for is not possible
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Index,
    Table,
    UniqueConstraint,
    and_,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from crm_store import clock
from crm_store.errors import CrmStoreError
from crm_store.models import (
    AuditEntry,
    Base,
    ChannelIdentity,
    Conversation,
    Feedback,
    Reader,
    Ticket,
    UtcDateTime,
)
from crm_store.outreach import latest_reachable_conversation

PROFILE_FIELDS = ("display_name", "email", "card_number", "verified_at")
"""Reader fields a merge copies to the kept reader when the kept reader has none."""

MERGE = "reader.merge"
SPLIT = "reader.split"
LINK = "reader.link"
UNMERGE = "reader.unmerge"


class IdentityError(CrmStoreError):
    """Base class of the errors raised while linking, merging or splitting readers."""


class ReaderNotFoundError(IdentityError):
    """No reader has the given id."""

    def __init__(self, reader_id: int) -> None:
        super().__init__(f"No reader has the id {reader_id}.")
        self.reader_id = reader_id


class CardConflictError(IdentityError):
    """Both readers were verified with different library cards."""

    def __init__(self, keep_card: str, merge_card: str) -> None:
        super().__init__(
            f"These readers were verified with different library cards ({mask_card(keep_card)} "
            f"and {mask_card(merge_card)}); they are probably two people. Merge with force "
            "only if you are sure."
        )


class InvalidRequestError(IdentityError):
    """The merge, split or undo asked for is not possible."""


def mask_card(card_number: str | None) -> str | None:
    """Hide all but the last four characters of a card number (``**********3456``)."""
    if card_number is None:
        return None
    visible = card_number[-4:] if len(card_number) > 4 else ""
    return "*" * (len(card_number) - len(visible)) + visible


def reader_columns() -> list[tuple[Table, Column[Any]]]:
    """Every column of every registered table that is a foreign key to ``readers.id``."""
    found: list[tuple[Table, Column[Any]]] = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if any(fk.column.table.name == Reader.__tablename__ for fk in column.foreign_keys):
                found.append((table, column))
    return found


def _key(table: Table, column: Column[Any]) -> str:
    return f"{table.name}.{column.name}"


def _pk(table: Table) -> Column[Any]:
    columns = list(table.primary_key.columns)
    if len(columns) != 1:
        raise InvalidRequestError(f"table {table.name} has no single-column primary key")
    return columns[0]


def _move(
    session: Session, table: Table, column: Column[Any], source: int, target: int, *where: Any
) -> list[Any]:
    """Point the rows of ``table`` with ``column == source`` (and ``where``) at ``target``."""
    pk = _pk(table)
    ids = list(session.execute(select(pk).where(column == source, *where).order_by(pk)).scalars())
    if ids:
        session.execute(update(table).where(pk.in_(ids)).values({column.name: target}))
    return ids


def _move_back(
    session: Session,
    table: Table,
    column: Column[Any],
    ids: Sequence[Any],
    source: int,
    target: int,
) -> list[Any]:
    """Point the listed rows at ``target`` again, where they still point at ``source``."""
    if not ids:
        return []
    pk = _pk(table)
    still = list(
        session.execute(
            select(pk).where(pk.in_(list(ids)), column == source).order_by(pk)
        ).scalars()
    )
    if still:
        session.execute(update(table).where(pk.in_(still)).values({column.name: target}))
    return still


def _get(session: Session, reader_id: int) -> Reader:
    reader = session.get(Reader, reader_id, with_for_update=True)
    if reader is None:
        raise ReaderNotFoundError(reader_id)
    return reader


def _snapshot(reader: Reader) -> dict[str, Any]:
    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "id": reader.id,
        "display_name": reader.display_name,
        "email": reader.email,
        "card_number": reader.card_number,
        "verified_at": iso(reader.verified_at),
        "created_at": iso(reader.created_at),
    }


def _reason(reason: object) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidRequestError("Give a reason; it is kept in the audit history.")
    return reason.strip()[:500]


def _audit(
    session: Session, staff_user_id: int | None, action: str, subject_id: int, **detail: Any
) -> AuditEntry:
    entry = AuditEntry(
        staff_user_id=staff_user_id,
        action=action,
        subject=f"reader:{subject_id}",
        detail=detail,
        created_at=clock.now(),
    )
    session.add(entry)
    session.flush()
    return entry


def _unique_sets(table: Table, column: Column[Any]) -> list[list[Column[Any]]]:
    """The unique constraints and unique indexes of ``table`` that include ``column``."""
    sets: list[list[Column[Any]]] = [[column]] if column.unique else []
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint) and column.name in constraint.columns:
            sets.append(list(constraint.columns))
    for index in table.indexes:
        if isinstance(index, Index) and index.unique and column.name in index.columns:
            sets.append(list(index.columns))
    return sets


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _unplain(column: Column[Any], value: Any) -> Any:
    if isinstance(value, str) and isinstance(column.type, UtcDateTime | DateTime):
        return datetime.fromisoformat(value)
    if isinstance(value, str) and isinstance(column.type, Date):
        return date.fromisoformat(value)
    return value


def _drop_collisions(
    session: Session, table: Table, column: Column[Any], merge_id: int, keep_id: int
) -> list[dict[str, Any]]:
    """Delete the merged reader's rows that would break a unique constraint if moved.

    The kept reader's row wins (one preference row per reader, one record per sent
    reminder); the dropped rows are returned in full so an undo can put them back.
    """
    dropped: list[dict[str, Any]] = []
    for columns in _unique_sets(table, column):
        mine = table.alias("mine")
        theirs = table.alias("theirs")
        match = [theirs.c[c.name] == mine.c[c.name] for c in columns if c.name != column.name]
        rows = session.execute(
            select(mine).where(
                mine.c[column.name] == merge_id,
                exists().where(theirs.c[column.name] == keep_id, and_(True, *match)),
            )
        ).mappings()
        found = [dict(row) for row in rows]
        if found:
            pk = _pk(table)
            session.execute(delete(table).where(pk.in_([row[pk.name] for row in found])))
            dropped.extend({k: _plain(v) for k, v in row.items()} for row in found)
    return dropped


def _fold(
    session: Session, keep: Reader, merged: Reader
) -> tuple[dict[str, list[Any]], list[str], dict[str, list[dict[str, Any]]]]:
    """Move every row of ``merged`` to ``keep``, delete ``merged``, fill ``keep``'s gaps.

    Returns the moved primary keys by ``table.column``, the profile fields filled, and
    the rows dropped because the kept reader already had their unique counterpart.
    """
    keep_id, merge_id = int(keep.id), int(merged.id)
    session.flush()
    moved: dict[str, list[Any]] = {}
    dropped: dict[str, list[dict[str, Any]]] = {}
    for table, column in reader_columns():
        gone = _drop_collisions(session, table, column, merge_id, keep_id)
        if gone:
            dropped[_key(table, column)] = gone
        ids = _move(session, table, column, merge_id, keep_id)
        if ids:
            moved[_key(table, column)] = ids
    values = {name: getattr(merged, name) for name in PROFILE_FIELDS}
    session.expire_all()
    session.execute(delete(Reader).where(Reader.id == merge_id))
    session.expunge(merged)
    keep = session.get(Reader, keep_id)  # reloaded after expire_all
    assert keep is not None
    filled = []
    for name in PROFILE_FIELDS:
        if getattr(keep, name) is None and values[name] is not None:
            setattr(keep, name, values[name])
            filled.append(name)
    session.flush()
    return moved, filled, dropped


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
    why = _reason(reason)
    if keep_id == merge_id:
        raise InvalidRequestError("A reader cannot be merged into itself.")
    # Lock both rows in id order, so two merges of the same pair cannot deadlock.
    first, second = sorted((keep_id, merge_id))
    locked = {first: _get(session, first), second: _get(session, second)}
    keep, merged = locked[keep_id], locked[merge_id]
    conflict = (
        keep.card_number is not None
        and merged.card_number is not None
        and keep.card_number != merged.card_number
    )
    if conflict and not force:
        raise CardConflictError(str(keep.card_number), str(merged.card_number))
    snapshot = _snapshot(merged)
    moved, filled, dropped = _fold(session, keep, merged)
    return _audit(
        session,
        staff_user_id,
        MERGE,
        keep_id,
        keep_id=keep_id,
        merge_id=merge_id,
        reason=why,
        forced=bool(conflict),
        moved=moved,
        filled=filled,
        dropped=dropped,
        merged_reader=snapshot,
    )


def _parse_time(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


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
    why = _reason(reason)
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
    keep = _get(session, keep_id)
    old: dict[str, Any] = detail["merged_reader"]
    restored: dict[str, Any] = {
        "display_name": old.get("display_name"),
        "email": old.get("email"),
        "card_number": old.get("card_number"),
        "verified_at": _parse_time(old.get("verified_at")),
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
            created_at=_parse_time(old.get("created_at")) or now,
            updated_at=now,
            **restored,
        )
    )
    columns = {_key(t, c): (t, c) for t, c in reader_columns()}
    moved_back: dict[str, list[Any]] = {}
    for key, ids in detail.get("moved", {}).items():
        if key in columns:
            table, column = columns[key]
            back = _move_back(session, table, column, ids, keep_id, merge_id)
            if back:
                moved_back[key] = back
    restored_rows: dict[str, list[Any]] = {}
    for key, rows in detail.get("dropped", {}).items():
        if key in columns and rows:
            table, _column = columns[key]
            session.execute(
                insert(table),
                [{c.name: _unplain(c, row.get(c.name)) for c in table.columns} for row in rows],
            )
            restored_rows[key] = [row[_pk(table).name] for row in rows]
    session.expire_all()
    return _audit(
        session,
        staff_user_id,
        UNMERGE,
        keep_id,
        merge_audit_id=audit_id,
        keep_id=keep_id,
        merge_id=merge_id,
        reason=why,
        moved=moved_back,
        restored=restored_rows,
    )


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
    why = _reason(reason)
    chosen = sorted({int(i) for i in identity_ids})
    if not chosen:
        raise InvalidRequestError("Choose at least one identity to split off.")
    reader = _get(session, reader_id)
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
    moved[_key(identities, identities.c.reader_id)] = _move(
        session, identities, identities.c.reader_id, reader_id, new_id, identities.c.id.in_(chosen)
    )
    conversation_ids = _move(
        session,
        conversations,
        conversations.c.reader_id,
        reader_id,
        new_id,
        conversations.c.sender_id.in_(sender_ids),
    )
    if conversation_ids:
        moved[_key(conversations, conversations.c.reader_id)] = conversation_ids
        for table, column in reader_columns():
            if table.name in (identities.name, conversations.name):
                continue
            if "conversation_id" not in table.c:
                continue
            ids = _move(
                session,
                table,
                column,
                reader_id,
                new_id,
                table.c.conversation_id.in_(conversation_ids),
            )
            if ids:
                moved[_key(table, column)] = ids
    session.expire_all()
    entry = _audit(
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
    base = {"channel": channel, "external_id": external_id, "previous_reader_id": previous_id}
    if previous.card_number is None:
        snapshot = _snapshot(previous)
        moved, filled, dropped = _fold(session, reader, previous)
        return _audit(
            session,
            None,
            LINK,
            int(reader.id),
            **base,
            absorbed=True,
            moved=moved,
            filled=filled,
            dropped=dropped,
            merged_reader=snapshot,
        )
    return _audit(session, None, LINK, int(reader.id), **base, absorbed=False)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def reader_brief(session: Session, reader: Reader) -> dict[str, Any]:
    """A reader as lists show them: name, email, masked card, channels."""
    channels = sorted(
        set(
            session.execute(
                select(ChannelIdentity.channel).where(ChannelIdentity.reader_id == reader.id)
            ).scalars()
        )
    )
    return {
        "id": reader.id,
        "name": reader.display_name,
        "email": reader.email,
        "card": mask_card(reader.card_number),
        "verified": reader.verified_at is not None,
        "channels": channels,
        "created_at": _iso(reader.created_at),
    }


def search_readers(session: Session, query: str, limit: int = 50) -> list[dict[str, Any]]:
    """Readers whose name, email or channel address contains ``query``, or whose card
    number ends with it (digits; spaces ignored). An empty query lists the newest readers.
    """
    text = query.strip()
    statement = select(Reader).order_by(Reader.id.desc()).limit(limit)
    if text:
        needle = text.lower()
        conditions = [
            func.lower(Reader.display_name).contains(needle, autoescape=True),
            func.lower(Reader.email).contains(needle, autoescape=True),
            exists().where(
                ChannelIdentity.reader_id == Reader.id,
                func.lower(ChannelIdentity.external_id).contains(needle, autoescape=True),
            ),
        ]
        digits = text.replace(" ", "")
        if digits.isdigit():
            conditions.append(Reader.card_number.endswith(digits, autoescape=True))
            conditions.append(Reader.id == int(digits))
        statement = statement.where(or_(*conditions))
    return [reader_brief(session, r) for r in session.execute(statement).scalars()]


def reader_profile(session: Session, reader_id: int) -> dict[str, Any]:
    """Everything the console shows about a reader.

    Identities (channel, external id, reachable, last seen), the verified card masked
    to its last four digits, the conversation a proactive message would go to, and the
    reader's conversations, tickets and feedback, newest first.

    Raises:
        ReaderNotFoundError: no reader has that id.
    """
    reader = session.get(Reader, reader_id)
    if reader is None:
        raise ReaderNotFoundError(reader_id)
    identities = session.execute(
        select(ChannelIdentity)
        .where(ChannelIdentity.reader_id == reader_id)
        .order_by(ChannelIdentity.id)
    ).scalars()
    conversations = session.execute(
        select(Conversation)
        .where(Conversation.reader_id == reader_id)
        .order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())
    ).scalars()
    tickets = session.execute(
        select(Ticket)
        .where(Ticket.reader_id == reader_id)
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
    ).scalars()
    feedback = session.execute(
        select(Feedback)
        .where(Feedback.reader_id == reader_id)
        .order_by(Feedback.created_at.desc(), Feedback.id.desc())
    ).scalars()
    reachable = latest_reachable_conversation(session, reader_id)
    return {
        "id": reader.id,
        "name": reader.display_name,
        "email": reader.email,
        "card": mask_card(reader.card_number),
        "verified": reader.verified_at is not None,
        "verified_at": _iso(reader.verified_at),
        "created_at": _iso(reader.created_at),
        "identities": [
            {
                "id": i.id,
                "channel": i.channel,
                "external_id": i.external_id,
                "reachable": bool(i.reachable),
                "last_seen_at": _iso(i.last_seen_at),
                "created_at": _iso(i.created_at),
            }
            for i in identities
        ],
        "reachable_conversation": None
        if reachable is None
        else {"id": reachable.id, "channel": reachable.channel, "sender_id": reachable.sender_id},
        "conversations": [
            {
                "id": c.id,
                "channel": c.channel,
                "sender_id": c.sender_id,
                "status": c.status.value,
                "started_at": _iso(c.started_at),
                "last_activity_at": _iso(c.last_activity_at),
            }
            for c in conversations
        ],
        "tickets": [
            {
                "id": t.id,
                "subject": t.subject,
                "status": t.status.value,
                "conversation_id": t.conversation_id,
                "created_at": _iso(t.created_at),
            }
            for t in tickets
        ],
        "feedback": [
            {
                "id": f.id,
                "rating": f.rating,
                "comment": f.comment,
                "conversation_id": f.conversation_id,
                "created_at": _iso(f.created_at),
            }
            for f in feedback
        ],
    }


def _set_reachable(session: Session, channel: str, external_id: str, value: bool) -> bool:
    result = session.execute(
        update(ChannelIdentity)
        .where(ChannelIdentity.channel == channel, ChannelIdentity.external_id == external_id)
        .values(reachable=value)
        .execution_options(synchronize_session="fetch")
    )
    return bool(result.rowcount)


def mark_unreachable(session: Session, channel: str, external_id: str) -> bool:
    """Record that a platform refuses delivery to this identity (the user blocked the bot).

    Connectors call this when, for example, Telegram answers 403 "bot was blocked by
    the user" or Slack says the account is inactive. Proactive messages then skip the
    identity (`crm_store.outreach.latest_reachable_conversation`).

    Returns:
        Whether such an identity exists.
    """
    return _set_reachable(session, channel, external_id, False)


def mark_reachable(session: Session, channel: str, external_id: str) -> bool:
    """Undo `mark_unreachable`, for example when the user writes to the bot again."""
    return _set_reachable(session, channel, external_id, True)
