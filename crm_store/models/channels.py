"""Reader-store tables shared by the Telegram, Slack and email connectors.

``inbound_receipts`` remembers every platform delivery id a connector has accepted,
so that a webhook retried by Telegram or Slack, or a mail fetched twice, is processed
once even across restarts. ``email_messages`` maps every Message-ID of an email
thread (inbound and outbound) to the Rasa conversation that thread belongs to, and
keeps the numbered options each outbound mail offered.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, Integer, String, UniqueConstraint

from crm_store.models.core import Base, UtcDateTime, utcnow


class InboundReceipt(Base):
    """One platform delivery (an update id, an event id, a Message-ID) already accepted."""

    __tablename__ = "inbound_receipts"
    __table_args__ = (UniqueConstraint("channel", "external_id", name="uq_receipt_channel"),)

    id = Column(Integer, primary_key=True)
    channel = Column(String(40), nullable=False)
    external_id = Column(String(512), nullable=False)
    received_at = Column(UtcDateTime, nullable=False, default=utcnow, index=True)


class EmailMessage(Base):
    """One Message-ID of an email thread and the Rasa sender id of its conversation."""

    __tablename__ = "email_messages"

    id = Column(Integer, primary_key=True)
    message_id = Column(String(512), nullable=False, unique=True)
    sender_id = Column(String(255), nullable=False, index=True)
    direction = Column(String(3), nullable=False)
    address = Column(String(320), nullable=False, index=True)
    subject = Column(String(998), nullable=True)
    # Outbound mails only: the buttons offered as numbered options, in order, so that a
    # reply of "2" maps to the second one's payload even after a restart.
    buttons = Column(JSON, nullable=True)
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)
