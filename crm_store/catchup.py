"""Catch-up: ingest from the tracker store whatever live logging missed.

The tracker store's ``events`` table is the durable log of everything Rasa saved.
Catch-up reads it in row-id order from a checkpoint kept in the reader store and
ingests idempotently. It re-reads a small overlap behind the checkpoint because on
PostgreSQL row ids can become visible out of order under concurrent commits.

A row that cannot be ingested (unreadable JSON, or an event :func:`ingest` raises
on) is quarantined and skipped (:func:`crm_store.ingestion.ingest_or_quarantine`),
so the checkpoint always moves on. :func:`ingestion_lag` says how far behind the
checkpoint is, for the console's health page.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    inspect,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from crm_store.ingestion import (
    RasaEvent,
    ingest_or_quarantine,
    quarantine_and_log,
    quarantine_count,
)
from crm_store.models import IngestCheckpoint, QuarantinedEvent

logger = logging.getLogger(__name__)

CHECKPOINT_NAME = "tracker_store"
OVERLAP_ROWS = 200

_metadata = MetaData()
tracker_events = Table(
    "events",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255)),
    Column("type_name", String(255)),
    Column("timestamp", Float),
    Column("data", Text),
)


@dataclass(frozen=True)
class CatchUpResult:
    """What one catch-up pass did."""

    rows_read: int
    events_ingested: int
    position: int
    events_quarantined: int = 0


@dataclass(frozen=True)
class IngestionLag:
    """How far the reader store's copy is behind the tracker store.

    Attributes:
        tracker_position: the tracker store's newest row id (None: no tracker store yet).
        store_position: the reader store's copy position (the checkpoint).
        events_behind: tracker-store rows after the copy position.
        seconds_behind: how long the oldest of those has waited (0 when none).
        quarantined: events in quarantine, in all.
        last_quarantined_at: when the newest of them was quarantined.
    """

    tracker_position: int | None
    store_position: int
    events_behind: int
    seconds_behind: float
    quarantined: int
    last_quarantined_at: datetime | None


def newest_event_id(tracker_engine: Engine) -> int | None:
    """The highest row id in the tracker store's ``events`` table (None before it exists)."""
    if not inspect(tracker_engine).has_table("events"):
        return None
    with tracker_engine.connect() as connection:
        newest = connection.execute(select(func.max(tracker_events.c.id))).scalar_one()
    return int(newest) if newest is not None else 0


def catch_up(
    tracker_engine: Engine,
    session_factory: sessionmaker[Session],
    batch_size: int = 1000,
    overlap: int = OVERLAP_ROWS,
) -> CatchUpResult:
    """Ingest every tracker-store event after the checkpoint, then move the checkpoint.

    Args:
        tracker_engine: an engine on Rasa's tracker store database.
        session_factory: opens sessions on the reader store.
        batch_size: rows read and ingested per transaction.
        overlap: rows re-read behind the checkpoint.

    Returns:
        The rows read, the events that were new, and the new checkpoint.
    """
    if not inspect(tracker_engine).has_table("events"):
        return CatchUpResult(0, 0, 0)
    with session_factory.begin() as session:
        checkpoint = session.get(IngestCheckpoint, CHECKPOINT_NAME)
        position = checkpoint.position if checkpoint else 0
    cursor = max(0, position - overlap)
    rows_read = ingested = quarantined = 0
    while True:
        with tracker_engine.connect() as connection:
            rows = connection.execute(
                select(
                    tracker_events.c.id,
                    tracker_events.c.sender_id,
                    tracker_events.c.type_name,
                    tracker_events.c.timestamp,
                    tracker_events.c.data,
                )
                .where(tracker_events.c.id > cursor)
                .order_by(tracker_events.c.id)
                .limit(batch_size)
            ).all()
        if not rows:
            break
        cursor = rows[-1].id
        events, unreadable = _decode(session_factory, rows)
        quarantined += unreadable
        outcome = ingest_or_quarantine(
            session_factory, events, source="catchup", then=_checkpoint_setter(cursor)
        )
        ingested += outcome.ingested
        quarantined += outcome.quarantined
        rows_read += len(rows)
    if ingested:
        logger.info("catch-up ingested %d events the live path had missed", ingested)
    return CatchUpResult(rows_read, ingested, max(position, cursor), quarantined)


def _decode(session_factory: sessionmaker[Session], rows: list[Any]) -> tuple[list[RasaEvent], int]:
    """Parse tracker rows into events; quarantine the rows that are not an event at all.

    A row quarantined on an earlier pass is recorded again as a no-op (same position),
    so it is logged once.

    Returns:
        The events, and how many rows this call quarantined.
    """
    events: list[RasaEvent] = []
    quarantined = 0
    for row in rows:
        try:
            body = json.loads(row.data)
            if not isinstance(body, dict) or not isinstance(row.sender_id, str):
                raise ValueError("the row is not a Rasa event (a JSON object and a sender id)")
        except (TypeError, ValueError) as error:
            quarantined += quarantine_and_log(
                session_factory,
                source="catchup",
                position=row.id,
                sender_id=row.sender_id,
                type_name=row.type_name,
                timestamp=row.timestamp,
                error=error,
            )
            continue
        events.append(RasaEvent(row.sender_id, body, position=row.id))
    return events, quarantined


def _checkpoint_setter(cursor: int) -> Callable[[Session], None]:
    def move(session: Session) -> None:
        checkpoint = session.get(IngestCheckpoint, CHECKPOINT_NAME)
        if checkpoint is None:
            session.add(IngestCheckpoint(name=CHECKPOINT_NAME, position=cursor))
        elif cursor > checkpoint.position:
            checkpoint.position = cursor

    return move


def ingestion_lag(
    tracker_engine: Engine | None, session_factory: sessionmaker[Session], now: datetime
) -> IngestionLag:
    """Compare the tracker store's newest event with the reader store's copy position.

    Costs a few indexed queries: the checkpoint and quarantine figures, the newest
    tracker row id, and the count and oldest time of the rows after the checkpoint.

    Args:
        tracker_engine: an engine on Rasa's tracker store database; None when it does
            not exist yet.
        session_factory: opens sessions on the reader store.
        now: the current time (timezone-aware), for ``seconds_behind``.

    Returns:
        The lag and the quarantine figures.
    """
    with session_factory() as session:
        checkpoint = session.get(IngestCheckpoint, CHECKPOINT_NAME)
        position = checkpoint.position if checkpoint else 0
        quarantined = quarantine_count(session)
        last_quarantined_at = session.execute(
            select(func.max(QuarantinedEvent.quarantined_at))
        ).scalar_one()
    if tracker_engine is None or not inspect(tracker_engine).has_table("events"):
        return IngestionLag(None, position, 0, 0.0, quarantined, last_quarantined_at)
    with tracker_engine.connect() as connection:
        newest = connection.execute(select(func.max(tracker_events.c.id))).scalar_one()
        behind, oldest = connection.execute(
            select(func.count(), func.min(tracker_events.c.timestamp)).where(
                tracker_events.c.id > position
            )
        ).one()
    seconds = max(0.0, now.timestamp() - float(oldest)) if behind and oldest is not None else 0.0
    return IngestionLag(
        int(newest or 0), position, int(behind), seconds, quarantined, last_quarantined_at
    )
