"""The admin studio's NLU inbox and learning loop (issue 16, migration 0009).

``nlu_inbox_labels``
    one admin decision per reader message of the NLU inbox: assigned to an intent or
    FAQ topic (``label``, and the masked ``text`` written into the training data), out
    of scope, or dismissed. The evaluation of a new model reads the assigned ones.
``faq_candidates``
    one per resolved handoff: the reader's question and the librarian's answer,
    proposed as a new FAQ topic or as examples of an existing one, and the admin's
    decision (pending, accepted, rejected).
``question_cluster_members``
    the reader messages of each nightly question cluster (``question_clusters``), so
    that the inbox groups messages by the nightly clusters without embedding again.
``nlu_inbox_flags`` (migration 0013)
    every reader message with a reason to be in the inbox, with its reasons, masked text
    and the NLU's intent and confidence, kept up to date from a watermark by the worker
    (``crm_store.nlu_inbox_flags``), so that a request reads these rows instead of every
    message of its window.
``nlu_inbox_flag_state`` (migration 0013)
    the one row of the flags' watermarks, the earliest time they cover and the
    thresholds they were computed with.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)

from crm_store.models.core import Base, UtcDateTime, utcnow

__all__ = [
    "CandidateStatus",
    "FaqCandidate",
    "InboxDecision",
    "NluInboxFlag",
    "NluInboxFlagState",
    "NluInboxLabel",
    "QuestionClusterMember",
]


class InboxDecision:
    """What an admin decided about an inbox message (``nlu_inbox_labels.decision``)."""

    ASSIGNED = "assigned"
    OUT_OF_SCOPE = "out_of_scope"
    DISMISSED = "dismissed"
    ALL = (ASSIGNED, OUT_OF_SCOPE, DISMISSED)


class CandidateStatus:
    """Where an FAQ candidate stands (``faq_candidates.status``)."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    ALL = (PENDING, ACCEPTED, REJECTED)


class NluInboxLabel(Base):
    """An admin's decision about one reader message of the NLU inbox."""

    __tablename__ = "nlu_inbox_labels"

    id = Column(Integer, primary_key=True)
    message_id = Column(Integer, ForeignKey("messages.id"), nullable=False, unique=True)
    decision = Column(String(20), nullable=False)
    label = Column(String(160), nullable=True)
    text = Column(Text, nullable=False)
    predicted_intent = Column(String(160), nullable=True)
    confidence = Column(Float, nullable=True)
    staff_user_id = Column(Integer, ForeignKey("staff_users.id"), nullable=True)
    decided_at = Column(UtcDateTime, nullable=False, default=utcnow)


class FaqCandidate(Base):
    """A librarian's answer to a reader's question, proposed for the FAQ."""

    __tablename__ = "faq_candidates"

    id = Column(Integer, primary_key=True)
    handoff_id = Column(Integer, ForeignKey("handoffs.id"), nullable=False, unique=True)
    conversation_id = Column(Integer, ForeignKey("conversations.id"), nullable=False, index=True)
    question_message_id = Column(Integer, ForeignKey("messages.id"), nullable=True)
    question = Column(Text, nullable=False)
    answer = Column(Text, nullable=False)
    suggested_label = Column(String(160), nullable=True)
    suggested_score = Column(Float, nullable=True)
    status = Column(String(20), nullable=False, default=CandidateStatus.PENDING, index=True)
    topic = Column(String(160), nullable=True)
    decided_by = Column(Integer, ForeignKey("staff_users.id"), nullable=True)
    decided_at = Column(UtcDateTime, nullable=True)
    created_at = Column(UtcDateTime, nullable=False, default=utcnow)


class QuestionClusterMember(Base):
    """One reader message of one nightly question cluster."""

    __tablename__ = "question_cluster_members"
    __table_args__ = (
        UniqueConstraint("cluster_id", "message_id", name="uq_question_cluster_member"),
    )

    id = Column(Integer, primary_key=True)
    cluster_id = Column(
        Integer, ForeignKey("question_clusters.id", ondelete="CASCADE"), nullable=False
    )
    message_id = Column(Integer, ForeignKey("messages.id"), nullable=False, index=True)


class NluInboxFlag(Base):
    """A reader message with a reason to be in the NLU inbox (whether decided or not)."""

    __tablename__ = "nlu_inbox_flags"
    __table_args__ = (Index("ix_nlu_inbox_flags_sent_at", "sent_at"),)

    message_id = Column(Integer, ForeignKey("messages.id"), primary_key=True, autoincrement=False)
    conversation_id = Column(Integer, nullable=False, index=True)
    sent_at = Column(UtcDateTime, nullable=False)
    channel = Column(String(40), nullable=False)
    text = Column(Text, nullable=False)
    """The message's text, masked (``crm_store.redaction.mask_personal``)."""
    text_hash = Column(String(64), nullable=False)
    """SHA-256 of the stored message's text, to notice an erasure rewrote it."""
    intent = Column(String(120), nullable=True)
    confidence = Column(Float, nullable=True)
    reasons = Column(String(200), nullable=False)
    """Comma-separated, in ``crm_store.nlu_inbox_reasons.Reason.ALL`` order."""
    event_key = Column(String(64), nullable=False)


class NluInboxFlagState(Base):
    """How far ``nlu_inbox_flags`` is: one row (``id`` 1)."""

    __tablename__ = "nlu_inbox_flag_state"

    id = Column(Integer, primary_key=True, autoincrement=False)
    covers_since = Column(UtcDateTime, nullable=False)
    last_message_id = Column(Integer, nullable=False, default=0)
    last_handoff_id = Column(Integer, nullable=False, default=0)
    last_feedback_id = Column(Integer, nullable=False, default=0)
    low_confidence = Column(Float, nullable=False)
    rephrase_seconds = Column(Integer, nullable=False)
    low_rating = Column(Integer, nullable=False)
    refreshed_at = Column(UtcDateTime, nullable=False, default=utcnow)
