"""A Rasa event as the reader store sees it, and its identity (``event_key``).

An event's identity is a SHA-256 of its conversation id and its canonical JSON,
exactly as Rasa serialises it. The broker path and the catch-up path (which reads the
tracker store) therefore compute the same key for the same event, and unique
constraints make a second delivery a no-op.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from crm_store.errors import IngestionError

__all__ = ["RasaEvent", "event_key", "from_broker_message"]


@dataclass(frozen=True)
class RasaEvent:
    """One Rasa event together with the conversation it belongs to.

    ``position`` is the event's row id in the tracker store when known; it is not
    part of the event's identity.
    """

    sender_id: str
    body: dict[str, Any]
    position: int | None = field(default=None, compare=False)

    @property
    def key(self) -> str:
        """The event's identity: stable across the broker and the tracker store."""
        return event_key(self.sender_id, self.body)

    @property
    def type_name(self) -> str:
        """Rasa's event type, such as ``user`` or ``bot``."""
        return str(self.body.get("event", ""))

    @property
    def timestamp(self) -> float:
        """The event's Unix timestamp."""
        return float(self.body.get("timestamp") or 0.0)


def event_key(sender_id: str, body: Mapping[str, Any]) -> str:
    """Return the idempotency key of one event."""
    canonical = json.dumps(
        {k: v for k, v in body.items() if k != "sender_id"},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    digest = hashlib.sha256()
    digest.update(sender_id.encode("utf-8"))
    digest.update(b"\x00")
    digest.update(canonical.encode("utf-8"))
    return digest.hexdigest()


def from_broker_message(message: Mapping[str, Any]) -> RasaEvent:
    """Build an event from an event-broker message (the event with ``sender_id`` added)."""
    sender_id = message.get("sender_id")
    if not isinstance(sender_id, str) or not sender_id:
        raise IngestionError("event has no sender_id")
    return RasaEvent(sender_id, {k: v for k, v in message.items() if k != "sender_id"})
