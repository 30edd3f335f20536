"""Turn Rasa events into reader-store rows, idempotently: raw events, messages, readers.

:func:`ingest` stores each new event in ``raw_events``, the reader's and the bot's
messages in ``messages``, creates the conversation and the reader's channel identity
when they are new, and records Rasa's ``pause`` and ``resume`` through the store's one
status writer (:func:`crm_store.conversations.set_conversation_status`): a handoff may
be paused or resumed by Rasa itself, and the guard there keeps an old replay from
undoing a newer change.

An intent triggered from outside (Rasa's ``trigger_intent``, such as the console's
``EXTERNAL_handoff_resolved``) is logged by Rasa as a ``user`` event with the text
``"EXTERNAL: <intent>"``; the reader never typed it, so it stays in ``raw_events`` only
and is neither a message nor a sign of the reader's presence (:func:`is_external`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.conversations import ensure_conversation, set_conversation_status
from crm_store.db import dialect_insert
from crm_store.ingestion.events import RasaEvent
from crm_store.models import (
    ChannelIdentity,
    Conversation,
    ConversationStatus,
    Direction,
    Message,
    RawEvent,
    Reader,
    SenderKind,
)
from crm_store.redaction import mask_card_slot
from crm_store.sessions import extend_sessions

__all__ = ["UNKNOWN_CHANNEL", "ingest", "is_external"]

UNKNOWN_CHANNEL = "unknown"

#: Rasa's marker (``rasa.shared.core.constants.IS_EXTERNAL``) and text prefix
#: (``EXTERNAL_MESSAGE_PREFIX``) of a ``user`` event made by ``trigger_intent``.
EXTERNAL_METADATA_KEY = "is_external"
EXTERNAL_TEXT_PREFIX = "EXTERNAL: "


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc)


def is_external(event: RasaEvent) -> bool:
    """Whether ``event`` is a ``user`` event Rasa made for a triggered intent, not a reader's.

    Rasa marks them with ``metadata.is_external``; older trackers may lack the metadata,
    so the ``"EXTERNAL: <intent>"`` text of a ``EXTERNAL_*`` intent counts as well.
    """
    if event.type_name != "user":
        return False
    body = event.body
    metadata = body.get("metadata")
    if isinstance(metadata, dict) and metadata.get(EXTERNAL_METADATA_KEY) is True:
        return True
    intent = (body.get("parse_data") or {}).get("intent") or {}
    name = intent.get("name") if isinstance(intent, dict) else None
    text = body.get("text")
    return (
        isinstance(name, str)
        and name.startswith("EXTERNAL_")
        and isinstance(text, str)
        and text == f"{EXTERNAL_TEXT_PREFIX}{name}"
    )


def _message_row(event: RasaEvent, conversation_id: int, channel: str) -> dict[str, Any] | None:
    body = event.body
    metadata = body.get("metadata") or {}
    if is_external(event):
        return None
    if event.type_name == "user":
        parse = body.get("parse_data") or {}
        intent = parse.get("intent") or {}
        return {
            "direction": Direction.INBOUND.value,
            "sender_kind": SenderKind.READER.value,
            "text": body.get("text"),
            "intent": intent.get("name"),
            "confidence": intent.get("confidence"),
            "payload": None,
            "librarian_id": None,
            "event_key": event.key,
            "conversation_id": conversation_id,
            "channel": channel,
            "sent_at": _utc(event.timestamp),
        }
    if event.type_name == "bot":
        kind = SenderKind.BOT
        librarian_id = None
        if isinstance(metadata, dict) and metadata.get("librarian_id") is not None:
            kind = SenderKind.LIBRARIAN
            librarian_id = int(metadata["librarian_id"])
        elif isinstance(metadata, dict) and metadata.get("sender_kind") == SenderKind.SYSTEM.value:
            kind = SenderKind.SYSTEM
        data = body.get("data") or {}
        rich = {k: v for k, v in data.items() if v} if isinstance(data, dict) else None
        return {
            "direction": Direction.OUTBOUND.value,
            "sender_kind": kind.value,
            "text": body.get("text"),
            "intent": None,
            "confidence": None,
            "payload": rich or None,
            "librarian_id": librarian_id,
            "event_key": event.key,
            "conversation_id": conversation_id,
            "channel": channel,
            "sent_at": _utc(event.timestamp),
        }
    return None


_STATUS_BY_EVENT = {
    "pause": ConversationStatus.HANDOFF,
    "resume": ConversationStatus.ACTIVE,
}


def _ensure_identity(session: Session, conversation: Conversation, channel: str) -> None:
    identity = session.execute(
        select(ChannelIdentity).where(
            ChannelIdentity.channel == channel,
            ChannelIdentity.external_id == conversation.sender_id,
        )
    ).scalar_one_or_none()
    if identity is None:
        reader = Reader()
        session.add(reader)
        session.flush()
        session.execute(
            dialect_insert(session, ChannelIdentity)
            .values(
                reader_id=reader.id,
                channel=channel,
                external_id=conversation.sender_id,
                reachable=True,
                created_at=datetime.now(timezone.utc),
            )
            .on_conflict_do_nothing(index_elements=["channel", "external_id"])
        )
        identity = session.execute(
            select(ChannelIdentity).where(
                ChannelIdentity.channel == channel,
                ChannelIdentity.external_id == conversation.sender_id,
            )
        ).scalar_one()
    if conversation.reader_id is None:
        conversation.reader_id = identity.reader_id
    identity.last_seen_at = conversation.last_activity_at


LANGUAGE_CONFIDENCE = 0.7
"""How sure the NLU's language guard must be for a message to set its conversation's."""


def _profile_language(readers: list[RasaEvent]) -> str | None:
    """The language the reader's Telegram profile names (``language_code``: "es", "pt-br")."""
    for event in reversed(readers):
        metadata = event.body.get("metadata")
        telegram = metadata.get("telegram") if isinstance(metadata, dict) else None
        code = telegram.get("language_code") if isinstance(telegram, dict) else None
        primary = code.split("-")[0].lower() if isinstance(code, str) else ""
        if primary.isalpha() and 2 <= len(primary) <= 3:
            return primary
    return None


def _language_of(readers: list[RasaEvent]) -> str | None:
    """The language of the latest reader message the NLU was sure of (``parse_data.language``).

    The language guard (``nlu_components.language_guard``) stores ``{"code", "confidence"}``
    on every parse; ``und`` (too little text to tell) and unsure guesses change nothing.
    """
    for event in reversed(readers):
        guess = (event.body.get("parse_data") or {}).get("language")
        if not isinstance(guess, dict):
            continue
        code, confidence = guess.get("code"), guess.get("confidence")
        if (
            isinstance(code, str)
            and code.isalpha()
            and 2 <= len(code) <= 3
            and code != "und"
            and isinstance(confidence, int | float)
            and confidence >= LANGUAGE_CONFIDENCE
        ):
            return code.lower()
    return None


def _apply_conversation(session: Session, sender_id: str, events: list[RasaEvent]) -> None:
    first = events[0]
    channel_guess = str(first.body.get("input_channel") or UNKNOWN_CHANNEL)
    conversation = ensure_conversation(session, sender_id, channel_guess, _utc(first.timestamp))
    channel = conversation.channel
    readers = [e for e in events if e.type_name == "user" and not is_external(e)]
    for event in readers:
        input_channel = event.body.get("input_channel")
        if channel == UNKNOWN_CHANNEL and input_channel:
            channel = str(input_channel)
            conversation.channel = channel
    rows = [row for e in events if (row := _message_row(e, conversation.id, channel))]
    if rows:
        session.execute(
            dialect_insert(session, Message)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["event_key"])
        )
    latest = max(_utc(e.timestamp) for e in events)
    if latest > conversation.last_activity_at:
        conversation.last_activity_at = latest
    for event in events:
        status = _STATUS_BY_EVENT.get(event.type_name)
        if status is not None:
            set_conversation_status(conversation, status, _utc(event.timestamp))
    if (language := _language_of(readers)) is not None:
        conversation.language = language
    elif conversation.language is None:
        # Until the reader writes enough to tell, their profile's language stands in.
        conversation.language = _profile_language(readers)
    if channel != UNKNOWN_CHANNEL and readers:
        _ensure_identity(session, conversation, channel)
    # Issue 17: the messages open or extend the conversation's channel sessions.
    extend_sessions(session, conversation, [row["sent_at"] for row in rows])


def ingest(session: Session, events: Iterable[RasaEvent], source: str) -> int:
    """Store a batch of events; events already stored are skipped.

    Args:
        session: an open session; the caller owns the transaction.
        events: the events, in any order, from any number of conversations.
        source: where they came from (``broker`` or ``catchup``), kept for auditing.

    Returns:
        How many events were new.
    """
    batch = {e.key: e for e in events}
    if not batch:
        return 0
    existing = set(
        session.execute(
            select(RawEvent.event_key).where(RawEvent.event_key.in_(list(batch)))
        ).scalars()
    )
    fresh = [e for k, e in batch.items() if k not in existing]
    if not fresh:
        return 0
    session.execute(
        dialect_insert(session, RawEvent)
        .values(
            [
                {
                    "event_key": e.key,
                    "sender_id": e.sender_id,
                    "type_name": e.type_name,
                    "timestamp": e.timestamp,
                    "body": mask_card_slot(e.body),  # the key above is the original's
                    "source": source,
                    "ingested_at": datetime.now(timezone.utc),
                }
                for e in fresh
            ]
        )
        .on_conflict_do_nothing(index_elements=["event_key"])
    )
    by_sender: dict[str, list[RasaEvent]] = {}
    for e in sorted(fresh, key=lambda e: e.timestamp):
        by_sender.setdefault(e.sender_id, []).append(e)
    for sender_id, sender_events in by_sender.items():
        _apply_conversation(session, sender_id, sender_events)
    return len(fresh)
