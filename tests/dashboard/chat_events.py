"""Rasa events for the dashboard's tests, ingested through the real ingestion path.

:class:`Chat` builds one Rasa conversation's events (reader messages with their intent,
bot replies, librarian replies, slots) at given times; :func:`ingest_chats` writes them
with :func:`crm_store.ingestion.ingest`, exactly as the worker's catch-up does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from crm_store.ingestion import RasaEvent, ingest


@dataclass
class Chat:
    """The events of one Rasa conversation (``sender_id``) on one channel."""

    sender_id: str
    channel: str
    events: list[RasaEvent] = field(default_factory=list)

    def _add(self, body: dict[str, Any]) -> Chat:
        self.events.append(RasaEvent(self.sender_id, body))
        return self

    def reader(
        self, when: datetime, text: str, intent: str = "library_hours", faq: str | None = None
    ) -> Chat:
        """The reader writes ``text``, parsed as ``intent`` (an FAQ topic when given)."""
        parse: dict[str, Any] = {"intent": {"name": intent, "confidence": 0.9}}
        if faq is not None:
            parse["response_selector"] = {"faq": {"response": {"intent_response_key": faq}}}
        return self._add(
            {
                "event": "user",
                "timestamp": when.timestamp(),
                "text": text,
                "input_channel": self.channel,
                "parse_data": parse,
            }
        )

    def bot(self, when: datetime, text: str = "Here you are.") -> Chat:
        """The bot answers."""
        return self._add({"event": "bot", "timestamp": when.timestamp(), "text": text})

    def librarian(self, when: datetime, librarian_id: int, text: str = "Hello, Sam here.") -> Chat:
        """A librarian answers through Rasa (metadata names them)."""
        return self._add(
            {
                "event": "bot",
                "timestamp": when.timestamp(),
                "text": text,
                "metadata": {"librarian_id": librarian_id},
            }
        )

    def slot(self, when: datetime, name: str, value: str) -> Chat:
        """A slot is set (``home_branch``, ``pickup_branch``)."""
        return self._add(
            {"event": "slot", "timestamp": when.timestamp(), "name": name, "value": value}
        )

    def action(self, when: datetime, name: str) -> Chat:
        """An action runs (``action_default_fallback``)."""
        return self._add({"event": "action", "timestamp": when.timestamp(), "name": name})


def ingest_chats(sessions: sessionmaker[Session], *chats: Chat) -> int:
    """Ingest every chat's events in one batch, as the catch-up does; returns new events."""
    with sessions.begin() as session:
        return ingest(session, [e for chat in chats for e in chat.events], "catchup")
