"""Rasa's tracker store, seen from a data-rights request or a retention run.

The tracker store's ``events`` table (one row per Rasa event, keyed by the
conversation's ``sender_id``) is read and changed here with SQLAlchemy Core, through
the table :mod:`crm_store.catchup` already declares.

Deleting rows needs one care: on SQLite a new row takes the highest remaining id plus
one, so removing the newest rows would give new events ids the catch-up has already
passed. :func:`delete_conversations` therefore moves the catch-up checkpoint back when
the newest id drops (:func:`keep_checkpoint_below`); re-reading rows is harmless,
since ingestion is idempotent.

Changing a row's JSON changes its event key, so rows are only rewritten (card numbers
masked, :func:`mask_old_cards`) once they are further behind the checkpoint than the
catch-up's re-read overlap: they are never ingested again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, inspect, select, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from crm_store.catchup import CHECKPOINT_NAME, OVERLAP_ROWS, tracker_events
from crm_store.db import make_engine
from crm_store.models import IngestCheckpoint
from crm_store.redaction import mask_cards_in_event

__all__ = [
    "MASK_CHECKPOINT",
    "delete_conversations",
    "existing_tracker",
    "idle_conversations",
    "keep_checkpoint_below",
    "mask_old_cards",
    "newest_id",
    "read_events",
]

_BATCH = 500


def _has_events(engine: Engine) -> bool:
    return bool(inspect(engine).has_table("events"))


def read_events(engine: Engine | None, sender_ids: Iterable[str]) -> dict[str, list[Any]]:
    """Every stored event of each conversation, in order, as Rasa saved it (parsed JSON)."""
    wanted = sorted(set(sender_ids))
    found: dict[str, list[Any]] = {sender: [] for sender in wanted}
    if engine is None or not wanted or not _has_events(engine):
        return found
    with engine.connect() as connection:
        for start in range(0, len(wanted), _BATCH):
            rows = connection.execute(
                select(tracker_events.c.sender_id, tracker_events.c.data)
                .where(tracker_events.c.sender_id.in_(wanted[start : start + _BATCH]))
                .order_by(tracker_events.c.id)
            )
            for sender, data in rows:
                try:
                    found[sender].append(json.loads(data))
                except (TypeError, ValueError):
                    found[sender].append({"unreadable": str(data)[:2000]})
    return found


def existing_tracker(url: str) -> Engine | None:
    """An engine on the tracker store at ``url``, or None when its SQLite file is absent.

    A retention run must not create an empty tracker database where Rasa never ran.
    """
    parsed = make_url(url)
    sqlite = parsed.drivername.startswith("sqlite")
    if sqlite and (not parsed.database or not Path(parsed.database).is_file()):
        return None
    return make_engine(url)


def newest_id(engine: Engine) -> int:
    """The tracker store's highest row id (0 when empty or absent)."""
    if not _has_events(engine):
        return 0
    with engine.connect() as connection:
        return int(connection.execute(select(func.max(tracker_events.c.id))).scalar_one() or 0)


def keep_checkpoint_below(session: Session, newest: int) -> None:
    """Move the catch-up checkpoint back to ``newest`` if it is past it (caller commits)."""
    checkpoint = session.get(IngestCheckpoint, CHECKPOINT_NAME)
    if checkpoint is not None and checkpoint.position > newest:
        checkpoint.position = newest


def delete_conversations(engine: Engine | None, sender_ids: Iterable[str]) -> int:
    """Delete every event of these conversations; returns the rows deleted.

    The caller then passes :func:`newest_id` to :func:`keep_checkpoint_below`.
    """
    wanted = sorted(set(sender_ids))
    if engine is None or not wanted or not _has_events(engine):
        return 0
    deleted = 0
    with engine.begin() as connection:
        for start in range(0, len(wanted), _BATCH):
            result = connection.execute(
                delete(tracker_events).where(
                    tracker_events.c.sender_id.in_(wanted[start : start + _BATCH])
                )
            )
            deleted += int(result.rowcount or 0)
    return deleted


def idle_conversations(engine: Engine, before: float) -> list[str]:
    """The conversations whose newest event is older than the Unix time ``before``."""
    if not _has_events(engine):
        return []
    with engine.connect() as connection:
        rows = connection.execute(
            select(tracker_events.c.sender_id)
            .group_by(tracker_events.c.sender_id)
            .having(func.max(tracker_events.c.timestamp) < before)
        )
        return [str(sender) for (sender,) in rows]


MASK_CHECKPOINT = "tracker_card_mask"
"""The ``ingest_checkpoints`` row that remembers how far :func:`mask_old_cards` got."""


def mask_old_cards(engine: Engine, session: Session, overlap: int = OVERLAP_ROWS) -> int:
    """Mask card numbers in rows the catch-up will never read again; returns rows changed.

    Rows up to ``overlap`` behind the catch-up checkpoint are rewritten once each: the
    ``tracker_card_mask`` checkpoint (in ``session``, which the caller commits)
    remembers the last row looked at, so a nightly run reads only the new rows.
    """
    copied = session.get(IngestCheckpoint, CHECKPOINT_NAME)
    limit = (copied.position if copied else 0) - overlap
    done = session.get(IngestCheckpoint, MASK_CHECKPOINT)
    start = done.position if done else 0
    if limit <= start or not _has_events(engine):
        return 0
    changed = 0
    with engine.begin() as connection:
        rows = connection.execute(
            select(tracker_events.c.id, tracker_events.c.data).where(
                tracker_events.c.id > start,
                tracker_events.c.id <= limit,
                tracker_events.c.type_name.in_(["user", "bot", "slot"]),
            )
        ).all()
        for row_id, data in rows:
            try:
                body = json.loads(data)
            except (TypeError, ValueError):
                continue
            masked = mask_cards_in_event(body) if isinstance(body, dict) else body
            if masked != body:
                connection.execute(
                    update(tracker_events)
                    .where(tracker_events.c.id == row_id)
                    .values(data=json.dumps(masked))
                )
                changed += 1
    if done is None:
        session.add(IngestCheckpoint(name=MASK_CHECKPOINT, position=limit))
    else:
        done.position = limit
    return changed
