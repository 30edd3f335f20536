"""Catch-up: ingest from the tracker store whatever live logging missed.

The tracker store's ``events`` table is the durable log of everything Rasa saved.
Catch-up reads it in row-id order from a checkpoint kept in the reader store and
ingests idempotently. It re-reads a small overlap behind the checkpoint because on
PostgreSQL row ids can become visible out of order under concurrent commits.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, func, inspect, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from crm_store.ingestion import RasaEvent, ingest
from crm_store.models import IngestCheckpoint

logger = logging.getLogger(__name__)

CHECKPOINT_NAME = "tracker_store"
OVERLAP_ROWS = 200

_metadata = MetaData()
tracker_events = Table(
    "events",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255)),
    Column("data", Text),
)


@dataclass(frozen=True)
class CatchUpResult:
    """What one catch-up pass did."""

    rows_read: int
    events_ingested: int
    position: int


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
    rows_read = ingested = 0
    while True:
        with tracker_engine.connect() as connection:
            rows = connection.execute(
                select(tracker_events.c.id, tracker_events.c.sender_id, tracker_events.c.data)
                .where(tracker_events.c.id > cursor)
                .order_by(tracker_events.c.id)
                .limit(batch_size)
            ).all()
        if not rows:
            break
        events = [RasaEvent(row.sender_id, json.loads(row.data)) for row in rows]
        cursor = rows[-1].id
        with session_factory.begin() as session:
            ingested += ingest(session, events, source="catchup")
            checkpoint = session.get(IngestCheckpoint, CHECKPOINT_NAME)
            if checkpoint is None:
                session.add(IngestCheckpoint(name=CHECKPOINT_NAME, position=cursor))
            elif cursor > checkpoint.position:
                checkpoint.position = cursor
        rows_read += len(rows)
    if ingested:
        logger.info("catch-up ingested %d events the live path had missed", ingested)
    return CatchUpResult(rows_read, ingested, max(position, cursor))
