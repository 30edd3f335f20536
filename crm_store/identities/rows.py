"""Moving a reader's rows: the primitives that merge, undo and split are built from.

Every row that belongs to a reader points at it through a ``reader_id`` foreign key;
:func:`reader_columns` finds those columns in the metadata, so tables added by later
modules move with the reader too. Moves are recorded by primary key in an audit entry
(:func:`audit_reader`) so that an undo can put them back.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
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
    select,
    update,
)
from sqlalchemy.orm import Session

from crm_store.audit import audit
from crm_store.identities.errors import InvalidRequestError, ReaderNotFoundError
from crm_store.models import AuditEntry, Base, Reader, UtcDateTime

PROFILE_FIELDS = ("display_name", "email", "card_number", "verified_at")
"""Reader fields a merge copies to the kept reader when the kept reader has none."""

MERGE = "reader.merge"
SPLIT = "reader.split"
LINK = "reader.link"
UNMERGE = "reader.unmerge"


def reader_columns() -> list[tuple[Table, Column[Any]]]:
    """Every column of every registered table that is a foreign key to ``readers.id``."""
    found: list[tuple[Table, Column[Any]]] = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if any(fk.column.table.name == Reader.__tablename__ for fk in column.foreign_keys):
                found.append((table, column))
    return found


def column_key(table: Table, column: Column[Any]) -> str:
    """``table.column``, the key of moved rows in an audit entry's detail."""
    return f"{table.name}.{column.name}"


def primary_key(table: Table) -> Column[Any]:
    """The table's single primary-key column (rows are moved and recorded by it)."""
    columns = list(table.primary_key.columns)
    if len(columns) != 1:
        raise InvalidRequestError(f"table {table.name} has no single-column primary key")
    return columns[0]


def move_rows(
    session: Session, table: Table, column: Column[Any], source: int, target: int, *where: Any
) -> list[Any]:
    """Point the rows of ``table`` with ``column == source`` (and ``where``) at ``target``."""
    pk = primary_key(table)
    ids = list(session.execute(select(pk).where(column == source, *where).order_by(pk)).scalars())
    if ids:
        session.execute(update(table).where(pk.in_(ids)).values({column.name: target}))
    return ids


def move_rows_back(
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
    pk = primary_key(table)
    still = list(
        session.execute(
            select(pk).where(pk.in_(list(ids)), column == source).order_by(pk)
        ).scalars()
    )
    if still:
        session.execute(update(table).where(pk.in_(still)).values({column.name: target}))
    return still


def locked_reader(session: Session, reader_id: int) -> Reader:
    """The reader, locked for update until the transaction ends.

    Raises:
        ReaderNotFoundError: no reader has that id.
    """
    reader: Reader | None = session.get(Reader, reader_id, with_for_update=True)
    if reader is None:
        raise ReaderNotFoundError(reader_id)
    return reader


def snapshot(reader: Reader) -> dict[str, Any]:
    """The reader's profile as JSON-ready values, kept in an audit entry for an undo."""

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


def required_reason(reason: object) -> str:
    """The stripped reason (at most 500 characters), or an error if none was given."""
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidRequestError("Give a reason; it is kept in the audit history.")
    return reason.strip()[:500]


def audit_reader(
    session: Session, staff_user_id: int | None, action: str, subject_id: int, **detail: Any
) -> AuditEntry:
    """Write (and flush) an audit entry about reader ``subject_id``, such as a merge."""
    entry = audit(session, staff_user_id, action, f"reader:{subject_id}", **detail)
    session.flush()
    return entry


def _unique_sets(table: Table, column: Column[Any]) -> list[list[Column[Any]]]:
    """The unique constraints, unique indexes and primary key of ``table`` that include
    ``column`` (a table keyed by the reader, such as a per-reader rollup, has one row
    per reader: the merged reader's row cannot move next to the kept reader's)."""
    sets: list[list[Column[Any]]] = [[column]] if column.unique else []
    if column.primary_key:
        sets.append(list(table.primary_key.columns))
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


def unplain(column: Column[Any], value: Any) -> Any:
    """Turn a value kept in an audit entry's JSON back into the column's type."""
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
            pk = primary_key(table)
            session.execute(delete(table).where(pk.in_([row[pk.name] for row in found])))
            dropped.extend({k: _plain(v) for k, v in row.items()} for row in found)
    return dropped


def fold(session: Session, keep: Reader, merged: Reader) -> dict[str, Any]:
    """Move every row of ``merged`` to ``keep``, delete ``merged``, fill ``keep``'s gaps.

    Returns:
        The audit detail an undo needs: ``moved`` (the moved primary keys by
        ``table.column``), ``filled`` (the profile fields filled), ``dropped`` (the rows
        dropped because the kept reader already had their unique counterpart) and
        ``merged_reader`` (the merged reader's profile).
    """
    merged_profile = snapshot(merged)
    keep_id, merge_id = int(keep.id), int(merged.id)
    session.flush()
    moved: dict[str, list[Any]] = {}
    dropped: dict[str, list[dict[str, Any]]] = {}
    for table, column in reader_columns():
        gone = _drop_collisions(session, table, column, merge_id, keep_id)
        if gone:
            dropped[column_key(table, column)] = gone
        ids = move_rows(session, table, column, merge_id, keep_id)
        if ids:
            moved[column_key(table, column)] = ids
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
    return {
        "moved": moved,
        "filled": filled,
        "dropped": dropped,
        "merged_reader": merged_profile,
    }


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 time kept in an audit entry, or None."""
    return datetime.fromisoformat(value) if isinstance(value, str) else None
