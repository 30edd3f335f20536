"""Whether a platform still delivers to a channel identity."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from crm_store.models import ChannelIdentity

__all__ = ["mark_reachable", "mark_unreachable"]


def _set_reachable(session: Session, channel: str, external_id: str, value: bool) -> bool:
    result = session.execute(
        update(ChannelIdentity)
        .where(ChannelIdentity.channel == channel, ChannelIdentity.external_id == external_id)
        .values(reachable=value)
        .execution_options(synchronize_session="fetch")
    )
    return bool(result.rowcount)


def mark_unreachable(session: Session, channel: str, external_id: str) -> bool:
    """Record that a platform refuses delivery to this identity (the user blocked the bot).

    Connectors call this when, for example, Telegram answers 403 "bot was blocked by
    the user" or Slack says the account is inactive. Proactive messages then skip the
    identity (`crm_store.outreach.latest_reachable_conversation`).

    Returns:
        Whether such an identity exists.
    """
    return _set_reachable(session, channel, external_id, False)


def mark_reachable(session: Session, channel: str, external_id: str) -> bool:
    """Undo `mark_unreachable`, for example when the user writes to the bot again."""
    return _set_reachable(session, channel, external_id, True)
