"""Set aside the events that cannot be ingested, so the copy moves on.

An event that cannot be ingested (a lone surrogate in its text, a value the database
refuses, anything that makes :func:`~crm_store.ingestion.records.ingest` raise other
than an unavailable database) must not stop every later event. :func:`ingest_or_quarantine`
writes a batch in one transaction; when that fails for a reason other than the database
being unavailable, it writes the events one by one and records each one that still fails
in ``quarantined_events`` (position, sender, type, time and error; never the body), logs
it once, and carries on, so the copy position moves past it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import func, select
from sqlalchemy.exc import (
    DisconnectionError,
    InterfaceError,
    OperationalError,
    StatementError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, sessionmaker

from crm_store.db import dialect_insert
from crm_store.ingestion.events import RasaEvent
from crm_store.ingestion.records import ingest
from crm_store.models import QuarantinedEvent
from crm_store.redaction import mask_pins

logger = logging.getLogger(__name__)

# These say the database is unavailable (down, locked, a dropped connection, a full
# pool, a deadlock), not that an event is bad: the batch is retried later, never
# quarantined.
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    DisconnectionError,
    PoolTimeoutError,
)
ERROR_TEXT_LIMIT = 2000


@dataclass(frozen=True)
class IngestOutcome:
    """What :func:`ingest_or_quarantine` did with a batch."""

    ingested: int
    quarantined: int


def safe_text(value: object, limit: int) -> str:
    """``value`` as text any database accepts: surrogates and NUL escaped, cut to ``limit``."""
    text = value if isinstance(value, str) else repr(value)
    text = text.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_error(error: BaseException) -> str:
    """A one-line description of why an event could not be ingested.

    SQLAlchemy's own message would repeat the statement's parameters, which hold the
    reader's text, so only the driver's error is kept; digit runs that could be a PIN
    are masked as in :mod:`crm_store.redaction`.
    """
    cause: BaseException = error
    if isinstance(error, StatementError) and isinstance(error.orig, BaseException):
        cause = error.orig
    message = " ".join(str(cause).split())
    text = f"{type(cause).__name__}: {message}" if message else type(cause).__name__
    return safe_text(mask_pins(text, pin_requested=True), ERROR_TEXT_LIMIT)


def quarantine(
    session: Session,
    *,
    source: str,
    position: int | None,
    sender_id: object,
    type_name: object,
    timestamp: object,
    error: BaseException,
) -> bool:
    """Record one event that could not be ingested; the caller owns the transaction.

    Args:
        session: an open session on the reader store.
        source: the path that found it (``live`` or ``catchup``).
        position: the event's row id in the tracker store, if known.
        sender_id: the conversation id, as read (made safe to store here).
        type_name: Rasa's event type, as read.
        timestamp: the event's Unix time, as read (kept only if it is a number).
        error: what went wrong.

    Returns:
        True if this call recorded it; False if its position was already recorded (by
        the other path, or an earlier pass), so the caller logs each event once.
    """
    when = float(timestamp) if isinstance(timestamp, int | float) else None
    statement = dialect_insert(session, QuarantinedEvent).values(
        tracker_event_id=position,
        source=source,
        sender_id=safe_text(sender_id, 255),
        type_name=safe_text(type_name, 60),
        event_timestamp=when if when is not None and math.isfinite(when) else None,
        error=describe_error(error),
        quarantined_at=datetime.now(timezone.utc),
    )
    if position is not None:
        statement = statement.on_conflict_do_nothing(index_elements=["tracker_event_id"])
    return bool(session.execute(statement).rowcount)


def quarantined_positions(session: Session, positions: Collection[int]) -> set[int]:
    """Which of these tracker-store row ids are already quarantined."""
    if not positions:
        return set()
    return set(
        session.execute(
            select(QuarantinedEvent.tracker_event_id).where(
                QuarantinedEvent.tracker_event_id.in_(list(positions))
            )
        ).scalars()
    )


def quarantine_count(session: Session) -> int:
    """How many events are in quarantine."""
    return int(session.execute(select(func.count(QuarantinedEvent.id))).scalar_one())


def _log_quarantined(
    source: str, position: int | None, sender_id: object, error: Exception
) -> None:
    logger.warning(
        "quarantined tracker event %s of conversation %s (%s path), skipped: %s",
        position if position is not None else "?",
        safe_text(sender_id, 80),
        source,
        describe_error(error),
        # The JSON lines' conversation id (messaging.logs); crm_store cannot set the scope.
        extra={"conversation_id": safe_text(sender_id, 255) if sender_id else None},
    )


def quarantine_and_log(
    session_factory: sessionmaker[Session],
    *,
    source: str,
    position: int | None,
    sender_id: object,
    type_name: object,
    timestamp: object,
    error: Exception,
) -> bool:
    """Quarantine one event in its own transaction and log it if this call recorded it."""
    with session_factory.begin() as session:
        recorded = quarantine(
            session,
            source=source,
            position=position,
            sender_id=sender_id,
            type_name=type_name,
            timestamp=timestamp,
            error=error,
        )
    if recorded:
        _log_quarantined(source, position, sender_id, error)
    return recorded


def ingest_or_quarantine(
    session_factory: sessionmaker[Session],
    events: Iterable[RasaEvent],
    source: str,
    then: Callable[[Session], None] | None = None,
) -> IngestOutcome:
    """Ingest a batch; quarantine each event that cannot be ingested and skip it.

    Events whose position is already quarantined are skipped without a retry. The
    batch is written in one transaction (with ``then``, e.g. moving the checkpoint).
    If that raises anything but :data:`UNAVAILABLE_ERRORS`, each event is retried in
    a transaction of its own, each one that fails again is quarantined (and logged
    once), and ``then`` runs in a last transaction.

    Args:
        session_factory: opens sessions on the reader store; this function owns the
            transactions because a bad event must not roll back the good ones.
        events: the events, in tracker order.
        source: ``live`` or ``catchup``.
        then: more work for the batch's transaction, run after the events.

    Returns:
        How many events were new and how many were quarantined by this call.

    Raises:
        OperationalError, InterfaceError, DisconnectionError, TimeoutError: the reader
            store is unavailable; nothing was skipped, the caller retries later.
    """
    pending = list(events)
    positions = {e.position for e in pending if e.position is not None}
    if positions:
        with session_factory() as session:
            done = quarantined_positions(session, positions)
        pending = [e for e in pending if e.position not in done]
    try:
        with session_factory.begin() as session:
            ingested = ingest(session, pending, source=source)
            if then is not None:
                then(session)
        return IngestOutcome(ingested, 0)
    except UNAVAILABLE_ERRORS:
        raise
    except Exception:
        # Any other failure may be one bad event: narrow it down event by event.
        logger.debug("a batch of %d events failed; retrying one by one", len(pending))
    ingested = quarantined = 0
    for event in pending:
        try:
            with session_factory.begin() as session:
                ingested += ingest(session, [event], source=source)
        except UNAVAILABLE_ERRORS:
            raise
        except Exception as error:
            # Whatever it is, it fails on this event alone: set the event aside.
            quarantined += quarantine_and_log(
                session_factory,
                source=source,
                position=event.position,
                sender_id=event.sender_id,
                type_name=event.body.get("event") if isinstance(event.body, dict) else None,
                timestamp=event.body.get("timestamp") if isinstance(event.body, dict) else None,
                error=error,
            )
    if then is not None:
        with session_factory.begin() as session:
            then(session)
    return IngestOutcome(ingested, quarantined)
