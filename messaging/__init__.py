"""Talking to readers through Rasa: the Rasa HTTP client, the librarian relay and the
shared outbox state machine used by every job that sends a message.

Modules: ``rasa_client`` (Rasa's HTTP API), ``outbox`` (claim, send, record: one state
machine for surveys, follow-ups, reminders and librarians' messages), ``relay``
(librarians' messages: delivery and retries), ``outreach_store`` (notifications,
survey answers, follow-ups and reminder consent), ``text_safety`` (cleaning text),
``telegram_typing`` (a librarian's typing shown in a Telegram chat).
"""

from __future__ import annotations

from messaging.outbox import Outbox
from messaging.rasa_client import RasaClient, RasaError, RasaRejected, RasaUnreachable

__all__ = ["Outbox", "RasaClient", "RasaError", "RasaRejected", "RasaUnreachable"]
