"""Job: forget platform delivery ids old enough that no platform will retry them."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker

from crm_store import clock
from crm_store.models.operations import InboundReceipt
from ric_config import WorkerConfig
from worker.jobs._resources import store_sessions

logger = logging.getLogger(__name__)

DEFAULT_KEEP_DAYS = 30
"""Telegram retries for up to a day and Slack for minutes; a month is ample."""


def keep_days() -> int:
    """How long receipts are kept (``RIC_RECEIPT_KEEP_DAYS``, at least 1)."""
    return max(1, WorkerConfig().receipt_keep_days)


def prune_old_receipts(sessions: sessionmaker[Session] | None = None) -> int:
    """Delete ``inbound_receipts`` rows older than :func:`keep_days`; return how many.

    Idempotent: a second run finds nothing older than the cut-off.
    """
    cutoff = clock.now() - timedelta(days=keep_days())
    with (sessions or store_sessions()).begin() as session:
        result = session.execute(delete(InboundReceipt).where(InboundReceipt.received_at < cutoff))
    removed = int(getattr(result, "rowcount", 0) or 0)
    if removed:
        logger.info("pruned %d platform delivery receipts older than %s", removed, cutoff.date())
    return removed
