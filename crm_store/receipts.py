"""Durable deduplication of platform deliveries (``inbound_receipts``)."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from crm_store.models.operations import InboundReceipt


def first_receipt(sessions: sessionmaker[Session], channel: str, external_id: str) -> bool:
    """Record ``external_id`` on ``channel``; return False when it was already recorded.

    The unique constraint decides, so two processes racing on the same delivery
    cannot both see True.
    """
    try:
        with sessions.begin() as session:
            session.add(InboundReceipt(channel=channel, external_id=external_id[:512]))
    except IntegrityError:
        return False
    return True


def forget_receipt(sessions: sessionmaker[Session], channel: str, external_id: str) -> None:
    """Drop a receipt, so that a delivery that failed before processing can be retried."""
    with sessions.begin() as session:
        session.execute(
            delete(InboundReceipt).where(
                InboundReceipt.channel == channel,
                InboundReceipt.external_id == external_id[:512],
            )
        )
