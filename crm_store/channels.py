"""The reader store's channel facts, written for the connectors, which only translate.

Every function takes a ``session`` and leaves the transaction to the caller, except
the receipt functions (re-exported from :mod:`crm_store.receipts`), which open their own.

* **Receipts.** :func:`first_receipt` / :func:`forget_receipt`: every platform delivery id
  a connector accepted (``inbound_receipts``), so a retried delivery is processed once.
* **Reachability.** :func:`record_reachability`: whether a platform still delivers to a
  channel identity (a Telegram chat that blocked the bot is unreachable until it writes
  again); proactive messages skip unreachable identities.
* **Email threads.** Each mail's ``Message-ID`` (inbound and outbound) is a row of
  ``email_messages`` naming the Rasa sender id of its thread. A new mail joins the
  thread of the first known id in its ``In-Reply-To`` / ``References``; otherwise it
  starts a thread whose sender id is ``email:`` plus a hash of the thread's root id.
* **Email readers.** An email address identifies a reader on the email channel. The reader
  with that ``Reader.email`` (compared lowercased) is found or created, the thread's
  ``ChannelIdentity(channel="email")`` points at them, and the conversation's
  ``reader_id`` is set. This runs before Rasa sees the mail; the ingester, which
  later creates conversations and identities from tracker events, finds these rows
  and keeps them (both sides insert with ``ON CONFLICT DO NOTHING``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from crm_store.conversations import ensure_conversation
from crm_store.identities.reach import mark_reachable, mark_unreachable
from crm_store.models import ChannelIdentity, Conversation, Reader
from crm_store.models.operations import EmailMessage
from crm_store.receipts import first_receipt, forget_receipt

__all__ = [
    "EMAIL_CHANNEL",
    "INBOUND",
    "OUTBOUND",
    "Thread",
    "count_recent_inbound",
    "find_thread",
    "first_receipt",
    "forget_receipt",
    "link_reader",
    "offered_buttons",
    "record_message",
    "record_reachability",
    "sender_id_for",
    "sender_of",
    "thread_of",
]

EMAIL_CHANNEL = "email"
INBOUND = "in"
OUTBOUND = "out"
_MAX_REFERENCES = 20


def record_reachability(
    session: Session, channel: str, external_id: str, *, reachable: bool
) -> bool:
    """Record whether the platform delivers to the identity ``external_id`` on ``channel``.

    Connectors call this with ``reachable=False`` when a platform refuses delivery (the
    reader blocked the bot), and with ``reachable=True`` whenever the identity writes.
    A reader who writes is almost always reachable already, so marking one reachable
    costs one read and writes only when the identity was marked unreachable.

    Returns:
        Whether the identity's row was written (False when there is no such identity,
        or when it is marked reachable and already was).
    """
    if reachable:
        blocked = session.execute(
            select(ChannelIdentity.id).where(
                ChannelIdentity.channel == channel,
                ChannelIdentity.external_id == external_id,
                ChannelIdentity.reachable.is_(False),
            )
        ).first()
        return blocked is not None and mark_reachable(session, channel, external_id)
    return mark_unreachable(session, channel, external_id)


def sender_id_for(root_message_id: str) -> str:
    """The Rasa sender id of the thread whose first mail is ``root_message_id``."""
    digest = hashlib.sha256(root_message_id.strip().lower().encode("utf-8")).hexdigest()
    return f"email:{digest[:32]}"


def _insert(session: Session, table: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def find_thread(session: Session, message_ids: Sequence[str]) -> str | None:
    """The sender id of the first of ``message_ids`` that is a known mail, or None."""
    if not message_ids:
        return None
    rows = session.execute(
        select(EmailMessage.message_id, EmailMessage.sender_id).where(
            EmailMessage.message_id.in_(list(message_ids))
        )
    ).all()
    known = {row.message_id: row.sender_id for row in rows}
    for message_id in message_ids:
        if message_id in known:
            return str(known[message_id])
    return None


def sender_of(session: Session, message_id: str) -> str | None:
    """The sender id already recorded for ``message_id``, if any."""
    return find_thread(session, [message_id])


def record_message(
    session: Session,
    *,
    message_id: str,
    sender_id: str,
    direction: str,
    address: str,
    subject: str | None,
    buttons: list[dict[str, Any]] | None = None,
    when: datetime,
) -> None:
    """Remember one mail of a thread; recording the same ``message_id`` twice is a no-op."""
    session.execute(
        _insert(session, EmailMessage)
        .values(
            message_id=message_id[:512],
            sender_id=sender_id,
            direction=direction,
            address=address.lower()[:320],
            subject=(subject or "")[:998] or None,
            buttons=buttons or None,
            created_at=when,
        )
        .on_conflict_do_nothing(index_elements=["message_id"])
    )


def count_recent_inbound(session: Session, address: str, since: datetime) -> int:
    """How many mails from ``address`` the assistant answered since ``since``."""
    return int(
        session.execute(
            select(func.count(EmailMessage.id)).where(
                EmailMessage.address == address.lower(),
                EmailMessage.direction == INBOUND,
                EmailMessage.created_at >= since,
            )
        ).scalar_one()
    )


def offered_buttons(
    session: Session, sender_id: str, in_reply_to: str | None
) -> list[dict[str, Any]]:
    """The numbered options a reply in this thread may choose from.

    Those of the mail being answered when it is one of ours, otherwise those of the
    thread's latest outbound mail (an empty list when it offered none).
    """
    query = select(EmailMessage).where(
        EmailMessage.sender_id == sender_id, EmailMessage.direction == OUTBOUND
    )
    row = None
    if in_reply_to:
        row = session.execute(query.where(EmailMessage.message_id == in_reply_to)).scalar()
    if row is None:
        row = session.execute(query.order_by(EmailMessage.id.desc()).limit(1)).scalar()
    buttons = row.buttons if row is not None else None
    return [b for b in buttons if isinstance(b, dict)] if isinstance(buttons, list) else []


@dataclass(frozen=True)
class Thread:
    """What an outbound mail of a thread needs: where to send it and how to thread it."""

    sender_id: str
    address: str
    subject: str
    message_ids: tuple[str, ...]
    last_inbound_id: str | None

    @property
    def in_reply_to(self) -> str | None:
        """The mail an outbound mail answers: the reader's latest, else the thread's latest."""
        return self.last_inbound_id or (self.message_ids[-1] if self.message_ids else None)

    @property
    def references(self) -> list[str]:
        """``References``: the thread's root, then its latest ids, ending with ``in_reply_to``."""
        ids = list(self.message_ids)
        parent = self.in_reply_to
        if parent in ids:
            ids = ids[: ids.index(parent) + 1]
        if len(ids) > _MAX_REFERENCES:
            ids = ids[:1] + ids[-(_MAX_REFERENCES - 1) :]
        return ids


def thread_of(session: Session, sender_id: str) -> Thread | None:
    """The thread of a Rasa sender id, or None when no mail of it is known."""
    rows = (
        session.execute(
            select(EmailMessage)
            .where(EmailMessage.sender_id == sender_id)
            .order_by(EmailMessage.id)
        )
        .scalars()
        .all()
    )
    if not rows:
        return None
    inbound = [row for row in rows if row.direction == INBOUND]
    address_row = inbound[-1] if inbound else rows[-1]
    subject = next((row.subject for row in rows if row.subject), "")
    return Thread(
        sender_id=sender_id,
        address=str(address_row.address),
        subject=str(subject or ""),
        message_ids=tuple(str(row.message_id) for row in rows),
        last_inbound_id=str(inbound[-1].message_id) if inbound else None,
    )


def _reader_for(session: Session, address: str, display_name: str) -> Reader:
    reader: Reader | None = session.execute(
        select(Reader)
        .where(func.lower(Reader.email) == address.lower())
        .order_by(Reader.id)
        .limit(1)
    ).scalar()
    if reader is None:
        reader = Reader(email=address.lower(), display_name=display_name[:200] or None)
        session.add(reader)
        session.flush()
    return reader


def _is_anonymous(session: Session, reader_id: int) -> bool:
    reader = session.get(Reader, reader_id)
    return reader is not None and not reader.email and not reader.card_number


def link_reader(
    session: Session, sender_id: str, address: str, display_name: str, when: datetime
) -> int:
    """Attach the thread's conversation and email identity to the reader with ``address``.

    Creates the conversation (race-safe, shared with the ingester), the reader when no
    reader has that address yet, and the identity. An identity the ingester made for
    an anonymous reader is moved to the address's reader; an identity a librarian has
    pointed at another known reader (a merge) is left alone.

    Returns:
        The id of the reader the conversation belongs to.
    """
    conversation: Conversation = ensure_conversation(session, sender_id, EMAIL_CHANNEL, when)
    reader = _reader_for(session, address, display_name)
    session.execute(
        _insert(session, ChannelIdentity)
        .values(
            reader_id=reader.id,
            channel=EMAIL_CHANNEL,
            external_id=sender_id,
            reachable=True,
            created_at=when,
        )
        .on_conflict_do_nothing(index_elements=["channel", "external_id"])
    )
    identity = session.execute(
        select(ChannelIdentity).where(
            ChannelIdentity.channel == EMAIL_CHANNEL, ChannelIdentity.external_id == sender_id
        )
    ).scalar_one()
    if identity.reader_id != reader.id and _is_anonymous(session, identity.reader_id):
        identity.reader_id = reader.id
    identity.last_seen_at = when
    if conversation.reader_id is None or (
        conversation.reader_id != identity.reader_id
        and _is_anonymous(session, conversation.reader_id)
    ):
        conversation.reader_id = identity.reader_id
    return int(conversation.reader_id)
