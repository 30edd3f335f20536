"""Helpers shared by the action modules: the reader store, reply pieces and tracker reading."""

from __future__ import annotations

import time
from functools import lru_cache
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session, sessionmaker

from crm_store.db import make_engine, make_session_factory
from ric_config import ActionsConfig

LIBRARIAN_BUTTON = {"title": "Talk to a librarian", "payload": "/request_human"}
VERIFICATION_TTL_SECONDS = ActionsConfig().verification_ttl_seconds


@lru_cache(maxsize=1)
def store_sessions() -> sessionmaker[Session]:
    """Sessions on the reader store (``RIC_DATABASE_URL``), one engine per process."""
    return make_session_factory(make_engine())


def channel_of(tracker: Tracker) -> str:
    """The channel the reader is writing from (``webchat``, ``telegram`` ...)."""
    channel = tracker.get_latest_input_channel()
    return channel or "unknown"


def system_down(dispatcher: CollectingDispatcher) -> None:
    """Tell the reader plainly that the library system is not answering."""
    dispatcher.utter_message(
        text=(
            "Sorry, the library system isn't answering right now, so I can't reach your "
            "account. Please try again in a few minutes, or a librarian can help you now."
        ),
        buttons=[LIBRARIAN_BUTTON],
    )


def is_verified(tracker: Tracker, now: float | None = None) -> bool:
    """Whether the reader proved who they are recently enough for account actions."""
    verified_at = tracker.get_slot("verified_at")
    if tracker.get_slot("pin_check") != "verified" or not isinstance(verified_at, int | float):
        return False
    return (now or time.time()) - float(verified_at) < VERIFICATION_TTL_SECONDS


def entity_values(message: dict[str, Any], name: str) -> list[str]:
    """Every value of one entity type in a parsed message."""
    return [
        str(e["value"])
        for e in message.get("entities") or []
        if e.get("entity") == name and e.get("value")
    ]


def typed_text(tracker: Tracker) -> str:
    """The reader's latest message exactly as sent, for free text that is stored.

    ``latest_message["text"]`` is what NLU saw, after ``MessageCleanup`` removed pasted
    email quoting and markup; a comment or a message for the librarians is kept as the
    reader wrote it (it is escaped wherever it is shown).
    """
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return str(event.get("text") or "")
    return str(tracker.latest_message.get("text") or "")
