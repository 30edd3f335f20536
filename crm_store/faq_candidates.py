"""The learning loop: a resolved handoff's question and the librarian's answer, as an FAQ candidate.

:func:`sync_candidates` turns every resolved handoff that has no candidate yet into one
``faq_candidates`` row (the handoff id is unique, so running it twice, or from two
processes, proposes nothing twice):

- the **question** is the reader's last substantive message up to the handoff request
  (the one the bot could not settle), or else their first message to the librarian;
- the **answer** is what the librarian wrote between the request and the resolve, without
  the messages that are only greetings, holding lines or sign-offs and without a leading
  greeting (:func:`crm_store.pleasantries.answer_text`; all of it when nothing else is left);
- the **suggestion**: when the NLU recorded that question as an FAQ topic or intent with
  at least ``match_confidence``, the candidate proposes new examples for it; otherwise a
  new FAQ topic.

Texts are masked (:func:`crm_store.redaction.mask_personal`). A handoff with no reader
question or no librarian answer proposes nothing. The admin then accepts (creating or
extending a topic: done by the console, which writes the training data), edits first,
or rejects (:func:`decide_candidate`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store import clock
from crm_store.errors import CrmStoreError
from crm_store.models import (
    CandidateStatus,
    FaqCandidate,
    Handoff,
    HandoffStatus,
    Message,
    OutboundMessage,
    RawEvent,
    SenderKind,
)
from crm_store.nlu_inbox import CONVERSATIONAL_INTENTS, FALLBACK_INTENT, predicted_label
from crm_store.pleasantries import answer_text
from crm_store.redaction import mask_personal

__all__ = ["CandidateError", "decide_candidate", "sync_candidates"]

_SKIPPED = ("/", "[anonymised")


class CandidateError(CrmStoreError):
    """A candidate decision that cannot be recorded (unknown, already decided, bad)."""


def _question(messages: list[Message], handoff: Handoff) -> Message | None:
    readers = [m for m in messages if m.sender_kind == SenderKind.READER and m.text]
    readers = [m for m in readers if not m.text.startswith(_SKIPPED)]
    before = [
        m
        for m in readers
        if m.sent_at <= handoff.requested_at and m.intent not in CONVERSATIONAL_INTENTS
    ]
    if before:
        return before[-1]
    after = [m for m in readers if m.sent_at > handoff.requested_at]
    return after[0] if after else None


def _answer(session: Session, messages: list[Message], handoff: Handoff, end: datetime) -> str:
    """The librarian's messages after the request (outbox rows if not ingested), no small talk."""
    texts = [
        m.text.strip()
        for m in messages
        if m.sender_kind == SenderKind.LIBRARIAN and m.text and m.sent_at >= handoff.requested_at
    ]
    if not texts:
        texts = [
            text.strip()
            for text in session.execute(
                select(OutboundMessage.text)
                .where(
                    OutboundMessage.conversation_id == handoff.conversation_id,
                    OutboundMessage.ticket_id.is_(None),
                    OutboundMessage.created_at >= handoff.requested_at,
                    OutboundMessage.created_at <= end,
                )
                .order_by(OutboundMessage.id)
            ).scalars()
        ]
    return answer_text(texts)


def _suggestion(
    session: Session, question: Message, match_confidence: float
) -> tuple[str | None, float | None]:
    body = session.execute(
        select(RawEvent.body).where(RawEvent.event_key == question.event_key)
    ).scalar()
    label, confidence = predicted_label(body if isinstance(body, dict) else None)
    if label is None:
        label, confidence = question.intent, question.confidence
    if (
        label is None
        or label in (FALLBACK_INTENT, "faq")
        or label in CONVERSATIONAL_INTENTS
        or confidence is None
        or confidence < match_confidence
    ):
        return None, confidence
    return label, confidence


def sync_candidates(
    session: Session, match_confidence: float, since: datetime | None = None
) -> int:
    """Propose an FAQ candidate for every resolved handoff without one; returns how many.

    Args:
        session: An open session on the reader store (the caller commits).
        match_confidence: The NLU confidence from which a question extends a topic.
        since: Only handoffs resolved at or after this (default: all).
    """
    query = (
        select(Handoff)
        .outerjoin(FaqCandidate, FaqCandidate.handoff_id == Handoff.id)
        .where(Handoff.status == HandoffStatus.RESOLVED, FaqCandidate.id.is_(None))
        .order_by(Handoff.id)
    )
    if since is not None:
        query = query.where(Handoff.resolved_at >= since)
    made = 0
    for handoff in session.execute(query).scalars().all():
        end = handoff.resolved_at or clock.now()
        messages = (
            session.execute(
                select(Message)
                .where(Message.conversation_id == handoff.conversation_id, Message.sent_at <= end)
                .order_by(Message.sent_at, Message.id)
            )
            .scalars()
            .all()
        )
        question = _question(list(messages), handoff)
        answer = _answer(session, list(messages), handoff, end)
        if question is None or not answer:
            continue
        label, score = _suggestion(session, question, match_confidence)
        session.add(
            FaqCandidate(
                handoff_id=handoff.id,
                conversation_id=handoff.conversation_id,
                question_message_id=question.id,
                question=mask_personal(question.text),
                answer=mask_personal(answer),
                suggested_label=label,
                suggested_score=score,
                status=CandidateStatus.PENDING,
            )
        )
        made += 1
    session.flush()
    return made


def decide_candidate(
    session: Session,
    candidate_id: int,
    status: str,
    staff_id: int | None,
    *,
    topic: str | None = None,
    question: str | None = None,
    answer: str | None = None,
) -> FaqCandidate:
    """Accept or reject a pending candidate, keeping the admin's edits.

    Args:
        session: An open session on the reader store.
        candidate_id: The candidate.
        status: ``accepted`` or ``rejected``.
        staff_id: The admin.
        topic: Accepted: the FAQ topic or intent it went to.
        question: The question as the admin edited it (kept).
        answer: The answer as the admin edited it (kept).

    Raises:
        CandidateError: Unknown or already decided, a bad status, or an accept with no topic.
    """
    candidate: FaqCandidate | None = session.get(FaqCandidate, candidate_id, with_for_update=True)
    if candidate is None:
        raise CandidateError("no such candidate")
    if candidate.status != CandidateStatus.PENDING:
        raise CandidateError(f"this candidate was already {candidate.status}")
    if status not in (CandidateStatus.ACCEPTED, CandidateStatus.REJECTED):
        raise CandidateError("status must be accepted or rejected")
    if status == CandidateStatus.ACCEPTED and not topic:
        raise CandidateError("an accepted candidate needs its topic")
    candidate.status = status
    candidate.topic = topic
    candidate.question = question if question is not None else candidate.question
    candidate.answer = answer if answer is not None else candidate.answer
    candidate.decided_by = staff_id
    candidate.decided_at = clock.now()
    session.flush()
    return candidate
