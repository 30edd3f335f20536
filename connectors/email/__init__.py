"""The email channel: the library's mailbox, polled over IMAP and answered over SMTP.

Rasa loads :class:`EmailInput` from ``credentials.yml`` (``connectors.email.EmailInput``).
Modules, from the channel down:

- :mod:`~connectors.email.channel`: the Rasa input channel, its health route and poller task;
- :mod:`~connectors.email.poller`: each unseen mail becomes one Rasa turn;
- :mod:`~connectors.email.sender`: outbound mail in a thread, retried over SMTP;
- :mod:`~connectors.email.parse`, :mod:`~connectors.email.render`,
  :mod:`~connectors.email.text`: pure translation between mail and Rasa messages;
- :mod:`~connectors.email.transport`: IMAP and SMTP; :mod:`~connectors.email.settings`;
- :mod:`~connectors.email.check`: ``python -m connectors.email.check``.

The thread map, receipts and reader links live in the store (:mod:`crm_store.channels`).
"""

from __future__ import annotations

from connectors.email.channel import EmailInput
from connectors.email.poller import MailPoller
from connectors.email.sender import EmailDeliveryError, EmailOutput, MailSender
from connectors.email.settings import EmailSettings

__all__ = [
    "EmailDeliveryError",
    "EmailInput",
    "EmailOutput",
    "EmailSettings",
    "MailPoller",
    "MailSender",
]
