"""Jobs that keep handoffs moving: retry undelivered librarian messages, turn long waits
into tickets, close handoffs whose reader has gone, and (optionally) auto-assign.

Policies (environment, read at each run):

- ``RIC_QUEUE_WAIT_LIMIT_SECONDS`` (600): a handoff still *waiting* this long becomes
  a ticket. The reader is told, in the chat, that a librarian will reply there later,
  and the bot takes the conversation back (``ticketed``).
- ``RIC_ABANDON_SECONDS`` (300): a *waiting* handoff whose reader has written nothing
  since asking, and whose conversation has had no activity at all for this long, is
  ``abandoned``: the bot takes the conversation back silently (no one is there to
  read a message) and the conversation is marked abandoned. A reader who keeps
  writing is never abandoned; they reach the wait limit and get a ticket instead,
  so nothing they wrote is lost. Claimed handoffs are never closed by a job: a
  librarian is responsible for them.
- ``RIC_AUTO_ASSIGN=1``: waiting handoffs go round-robin to online librarians with
  free capacity.

Each job does the Rasa side first and commits the store second, so a failed Rasa
call leaves the handoff as it was for the next run.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session, sessionmaker

from crm_store.audit import audit
from crm_store.clock import now
from crm_store.conversations import set_conversation_status
from crm_store.models import (
    Conversation,
    ConversationStatus,
    Handoff,
    HandoffStatus,
    Message,
    SenderKind,
    Ticket,
    TicketStatus,
)
from crm_store.repositories import subject_from
from crm_store.staffing import auto_assign
from messaging.logs import conversation_scope
from messaging.rasa_client import RasaClient, RasaError, system_message
from messaging.relay import retry_pending
from ric_config import WorkerConfig
from worker.jobs._outreach import with_rasa
from worker.jobs._resources import store_sessions

logger = logging.getLogger(__name__)

TICKETED_TEXT = (
    "Sorry, all our librarians are still busy. I've passed your question on as "
    "a ticket: a librarian will reply here in this chat as soon as they can. "
    "Meanwhile I'm happy to help with anything else."
)
RESUME = [{"event": "resume"}, {"event": "action", "name": "action_listen"}]
HANDOFF_INTENT = "request_human"
"""The intent of "can I talk to a librarian": the request, not the reader's question."""


def retry_outbound(sessions: sessionmaker[Session] | None = None) -> dict[str, int]:
    """Try to deliver every pending librarian message again."""
    factory = sessions or store_sessions()

    async def run(rasa: RasaClient) -> dict[str, int]:
        return await retry_pending(factory, rasa)

    counts = with_rasa(run)
    if counts.get("sent") or counts.get("failed"):
        logger.info("outbound retry: %s", counts)
    return counts


def _stale_waiting(session: Session, older_than: timedelta) -> list[tuple[int, str, str]]:
    rows = session.execute(
        select(Handoff.id, Conversation.sender_id, Conversation.channel)
        .join(Conversation, Conversation.id == Handoff.conversation_id)
        .where(Handoff.status == HandoffStatus.WAITING, Handoff.requested_at < now() - older_than)
        .order_by(Handoff.requested_at)
    ).all()
    return [(int(r[0]), str(r[1]), str(r[2])) for r in rows]


def ticket_long_waits(sessions: sessionmaker[Session] | None = None) -> int:
    """Turn handoffs waiting longer than the limit into tickets; returns how many."""
    factory = sessions or store_sessions()
    limit = timedelta(seconds=WorkerConfig().queue_wait_limit_seconds)
    with factory() as session:
        stale = _stale_waiting(session, limit)

    async def run(rasa: RasaClient) -> int:
        done = 0
        for handoff_id, sender_id, channel in stale:
            with conversation_scope(sender_id):
                try:
                    await rasa.append_events(
                        sender_id,
                        [system_message(TICKETED_TEXT), *RESUME],
                        output_channel=channel,
                        execute_side_effects=True,
                    )
                except RasaError as error:
                    logger.warning("could not ticket handoff %s yet: %s", handoff_id, error)
                    break
                with factory.begin() as session:
                    if _ticket(session, handoff_id):
                        done += 1
        return done

    return with_rasa(run)


def _question_subject(said: Sequence[Row[Any]], handoff: Handoff) -> str:
    """The ticket's subject: the reader's question, trimmed, not "Chat not answered".

    The question is the reader's last message up to the handoff request that was not
    the request itself ("can I talk to a librarian"), else their first one after it;
    without either, the handoff's reason.
    """
    asked = [(text, at) for text, intent, at in said if text and intent != HANDOFF_INTENT]
    before = [text for text, at in asked if at <= handoff.requested_at]
    after = [text for text, at in asked if at > handoff.requested_at]
    question = before[-1] if before else after[0] if after else None
    return subject_from(question) or subject_from(handoff.reason) or "Message for the library"


def _ticket(session: Session, handoff_id: int) -> bool:
    """Make the ticket for a still-waiting handoff and mark the handoff ``ticketed``."""
    handoff = session.get(Handoff, handoff_id)
    if handoff is None or handoff.status != HandoffStatus.WAITING:
        return False
    conversation = session.get(Conversation, handoff.conversation_id)
    assert conversation is not None
    said = session.execute(
        select(Message.text, Message.intent, Message.sent_at)
        .where(
            Message.conversation_id == conversation.id,
            Message.sender_kind == SenderKind.READER,
            Message.sent_at >= handoff.requested_at - timedelta(minutes=5),
        )
        .order_by(Message.sent_at)
    ).all()
    body = "\n".join(text for text, _, _ in said if text) or handoff.reason
    ticket = Ticket(
        conversation_id=conversation.id,
        reader_id=conversation.reader_id,
        subject=_question_subject(said, handoff),
        body=body,
        contact=f"{conversation.channel}:{conversation.sender_id}",
        status=TicketStatus.NEW,
    )
    session.add(ticket)
    session.flush()
    current = now()
    handoff.status = HandoffStatus.TICKETED
    handoff.resolved_at = current
    handoff.resolution_note = f"No librarian in time; ticket #{ticket.id}."
    set_conversation_status(conversation, ConversationStatus.ACTIVE, current)
    audit(session, None, "handoff.ticketed", f"conversation:{conversation.id}", ticket_id=ticket.id)
    return True


def abandon_silent(sessions: sessionmaker[Session] | None = None) -> int:
    """Close waiting handoffs whose reader left without a word; returns how many."""
    factory = sessions or store_sessions()
    quiet = timedelta(seconds=WorkerConfig().abandon_seconds)
    cutoff = now() - quiet
    reader_spoke = exists().where(
        Message.conversation_id == Handoff.conversation_id,
        Message.sender_kind == SenderKind.READER,
        Message.sent_at > Handoff.requested_at,
    )
    with factory() as session:
        rows = session.execute(
            select(Handoff.id, Conversation.sender_id)
            .join(Conversation, Conversation.id == Handoff.conversation_id)
            .where(
                Handoff.status == HandoffStatus.WAITING,
                Handoff.requested_at < cutoff,
                Conversation.last_activity_at < cutoff,
                ~reader_spoke,
            )
        ).all()
    candidates = [(int(r[0]), str(r[1])) for r in rows]

    async def run(rasa: RasaClient) -> int:
        done = 0
        for handoff_id, sender_id in candidates:
            with conversation_scope(sender_id):
                try:
                    await rasa.append_events(sender_id, RESUME)
                except RasaError as error:
                    logger.warning(
                        "could not close abandoned handoff %s yet: %s", handoff_id, error
                    )
                    break
                with factory.begin() as session:
                    handoff = session.get(Handoff, handoff_id)
                    if handoff is None or handoff.status != HandoffStatus.WAITING:
                        continue
                    conversation = session.get(Conversation, handoff.conversation_id)
                    assert conversation is not None
                    current = now()
                    handoff.status = HandoffStatus.ABANDONED
                    handoff.resolved_at = current
                    set_conversation_status(conversation, ConversationStatus.ABANDONED, current)
                    audit(session, None, "handoff.abandoned", f"conversation:{conversation.id}")
                    done += 1
        return done

    return with_rasa(run)


def auto_assign_waiting(sessions: sessionmaker[Session] | None = None) -> int:
    """With ``RIC_AUTO_ASSIGN=1``, give waiting handoffs to online librarians with room."""
    if not WorkerConfig().auto_assign:
        return 0
    with (sessions or store_sessions()).begin() as session:
        assigned = auto_assign(session)
        for handoff_id, librarian_id in assigned:
            audit(
                session,
                None,
                "handoff.auto_assign",
                f"handoff:{handoff_id}",
                librarian_id=librarian_id,
            )
    return len(assigned)
