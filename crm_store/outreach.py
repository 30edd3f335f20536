"""Finding where a reader can be reached for a message the library starts.

A reader may have talked to the library on several channels. Proactive messages
(librarian replies to tickets, surveys, follow-ups, reminders) go to the most
recent conversation on a channel that can still deliver: one whose channel
identity is marked reachable and whose channel supports proactive sending.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.models import ChannelIdentity, Conversation

PROACTIVE_CHANNELS = frozenset({"webchat", "telegram", "slack", "email"})
"""Channels whose connector implements ``get_output_channel()`` for proactive sends."""


def latest_reachable_conversation(session: Session, reader_id: int) -> Conversation | None:
    """Return the reader's most recently active conversation on a reachable channel.

    A conversation counts when its channel supports proactive sending and the reader's
    identity on it (keyed by the conversation's sender id) is not marked unreachable.
    Returns None when the reader has no such conversation.
    """
    unreachable = select(ChannelIdentity.external_id).where(
        ChannelIdentity.reader_id == reader_id,
        ChannelIdentity.reachable.is_(False),
    )
    found: Conversation | None = (
        session.execute(
            select(Conversation)
            .where(
                Conversation.reader_id == reader_id,
                Conversation.channel.in_(PROACTIVE_CHANNELS),
                Conversation.sender_id.not_in(unreachable),
            )
            .order_by(Conversation.last_activity_at.desc(), Conversation.id.desc())
            .limit(1)
        )
        .scalars()
        .first()
    )
    return found
