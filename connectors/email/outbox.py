"""The email outbox's retrier: a background task in Rasa that resends failed mails.

Started with the email channel whenever SMTP is configured; every
``RIC_EMAIL_RETRY_CHECK_SECONDS`` it asks :meth:`MailSender.retry_due` to try the
mails that are due (each waits longer after each failure, and expires after
``RIC_EMAIL_EXPIRE_HOURS``). Several Rasa processes may run it: each mail is claimed
before it is sent.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.exc import SQLAlchemyError

from connectors.email.sender import MailSender

__all__ = ["OutboxRetrier"]

logger = logging.getLogger(__name__)


class OutboxRetrier:
    """Tries the email outbox's due mails again and again, until cancelled."""

    def __init__(self, sender: MailSender) -> None:
        self.sender = sender
        self.every = sender.outbox.retry_check_seconds

    async def run(self) -> None:
        """Check, sleep, repeat; a failing check is logged and the loop goes on."""
        while True:
            try:
                await self.sender.retry_due()
            except SQLAlchemyError:
                logger.exception("email outbox: the reader store is unavailable; retrying")
            await asyncio.sleep(self.every)
