"""Ingestion: Rasa events into reader-store rows, idempotently; the bad ones set aside.

- :mod:`crm_store.ingestion.events`: :class:`RasaEvent` and its identity, :func:`event_key`;
- :mod:`crm_store.ingestion.records`: :func:`ingest`, which writes raw events, messages,
  conversations and channel identities (an intent triggered from outside, :func:`is_external`,
  is kept as a raw event only);
- :mod:`crm_store.ingestion.quarantine`: :func:`ingest_or_quarantine`, which writes a batch
  and sets aside each event that cannot be ingested, so the copy moves on.
"""

from __future__ import annotations

from crm_store.ingestion.events import RasaEvent, event_key, from_broker_message
from crm_store.ingestion.quarantine import (
    ERROR_TEXT_LIMIT,
    UNAVAILABLE_ERRORS,
    IngestOutcome,
    describe_error,
    ingest_or_quarantine,
    quarantine,
    quarantine_and_log,
    quarantine_count,
    quarantined_positions,
    safe_text,
)
from crm_store.ingestion.records import UNKNOWN_CHANNEL, ingest, is_external

__all__ = [
    "ERROR_TEXT_LIMIT",
    "UNAVAILABLE_ERRORS",
    "UNKNOWN_CHANNEL",
    "IngestOutcome",
    "RasaEvent",
    "describe_error",
    "event_key",
    "from_broker_message",
    "ingest",
    "ingest_or_quarantine",
    "is_external",
    "quarantine",
    "quarantine_and_log",
    "quarantine_count",
    "quarantined_positions",
    "safe_text",
]
