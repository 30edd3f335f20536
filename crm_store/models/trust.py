"""The tables of issue 18 (trust): the email outbox.

``email_outbox``
    every mail the email channel sends, kept until the SMTP server accepts it. A mail
    that fails is retried with backoff (``next_attempt_at``) until it is ``sent`` or,
    past ``expires_at``, ``expired``. The console shows a conversation's undelivered
    mails and ``/status`` counts them (:mod:`crm_store.mail_outbox`).
"""

from __future__ import annotations

from sqlalchemy import Column, Integer, String, Text

from crm_store.models.core import Base, UtcDateTime, utcnow


class EmailOutboxEntry(Base):
    """One outbound mail and where its delivery stands."""

    __tablename__ = "email_outbox"

    id = Column(Integer, primary_key=True)
    message_id = Column(String(512), nullable=False, unique=True)
    sender_id = Column(String(255), nullable=False, index=True)
    to_address = Column(String(320), nullable=False)
    # The whole RFC 5322 message, so a retry sends exactly the mail first tried.
    mail = Column(Text, nullable=False)
    status = Column(String(20), nullable=False, default="pending", index=True)
    attempts = Column(Integer, nullable=False, default=0)
    last_error = Column(Text, nullable=True)
    next_attempt_at = Column(UtcDateTime, nullable=False, default=utcnow, index=True)
    claimed_at = Column(UtcDateTime, nullable=True)
    expires_at = Column(UtcDateTime, nullable=False)
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)
    sent_at = Column(UtcDateTime, nullable=True)
