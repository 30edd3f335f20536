"""Durable delivery receipts: first sighting, retry after failure, and nightly pruning."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from crm_store import clock
from crm_store.models.operations import InboundReceipt
from crm_store.receipts import first_receipt, forget_receipt
from worker.jobs.receipts import prune_old_receipts


def _count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.execute(select(func.count(InboundReceipt.id))).scalar_one())


def test_a_delivery_is_accepted_once_per_channel(sessions: sessionmaker[Session]) -> None:
    assert first_receipt(sessions, "telegram", "update-7")
    assert not first_receipt(sessions, "telegram", "update-7")
    assert first_receipt(sessions, "slack", "update-7")  # another channel's id space
    forget_receipt(sessions, "telegram", "update-7")  # processing failed: allow the retry
    assert first_receipt(sessions, "telegram", "update-7")


def test_pruning_travels_in_time_and_is_idempotent(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    start = datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc)
    travel = clock.TravelClock(start)
    previous = clock.install(travel)
    try:
        with sessions.begin() as session:
            session.add(InboundReceipt(channel="email", external_id="<old@x>", received_at=start))
            session.add(
                InboundReceipt(
                    channel="email", external_id="<new@x>", received_at=start + timedelta(days=20)
                )
            )
        travel.advance(timedelta(days=25))
        assert prune_old_receipts(sessions) == 0  # nothing is 30 days old yet
        travel.advance(timedelta(days=6))
        assert prune_old_receipts(sessions) == 1
        assert prune_old_receipts(sessions) == 0
        assert _count(sessions) == 1
        monkeypatch.setenv("RIC_RECEIPT_KEEP_DAYS", "5")
        assert prune_old_receipts(sessions) == 1
        assert _count(sessions) == 0
    finally:
        clock.install(previous)
