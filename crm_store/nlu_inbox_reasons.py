"""Why a reader message belongs in the NLU inbox: the reasons, found per conversation.

Used by :mod:`crm_store.nlu_inbox` (the reference scan of a window) and by
:mod:`crm_store.nlu_inbox_flags` (the stored flags the worker keeps up to date). The
reasons of a message depend only on its conversation's messages from the message on,
and on the handoffs and ratings after it, so computing them over every message since
any earlier time and keeping those since ``since`` gives what a scan of the window
since ``since`` gives: that is what lets the flags be stored once and read per request.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.models import Feedback, Handoff, Message, SenderKind
from ric_config.studio_inbox import NluInboxConfig

__all__ = [
    "CONVERSATIONAL_INTENTS",
    "FALLBACK_INTENT",
    "InboxRules",
    "MessageRow",
    "Reason",
    "content_words",
    "conversation_rows",
    "flag_reasons",
    "substantive",
]

FALLBACK_INTENT = "nlu_fallback"
CONVERSATIONAL_INTENTS = frozenset(
    {
        "request_human", "affirm", "deny", "greet", "goodbye", "thank", "bot_challenge",
        "give_feedback", "stop", "restart",
    }
)  # fmt: skip
"""Intents that are not a question the reader needed answered."""
_SKIPPED_PREFIXES = ("/", "[anonymised")
_WORD = re.compile(r"[a-z0-9]+")
_SHORT_WORDS = frozenset(
    {
        "about", "after", "also", "could", "does", "have", "here", "into", "just", "like",
        "need", "some", "than", "that", "them", "then", "there", "they", "this", "what",
        "when", "where", "which", "will", "with", "would", "your", "want", "know",
    }
)  # fmt: skip
_BATCH = 500


class Reason:
    """Why a message is in the inbox."""

    FALLBACK = "fallback"
    LOW_CONFIDENCE = "low_confidence"
    REPHRASED = "rephrased"
    HANDOFF_AFTER_ANSWER = "handoff_after_answer"
    LOW_RATING = "low_rating"
    ALL = (FALLBACK, LOW_CONFIDENCE, REPHRASED, HANDOFF_AFTER_ANSWER, LOW_RATING)


@dataclass(frozen=True)
class InboxRules:
    """The thresholds of the inbox (``ric_config.NluInboxConfig``)."""

    since: datetime
    low_confidence: float = 0.5
    rephrase_seconds: int = 90
    low_rating: int = 2

    @classmethod
    def from_config(cls, config: NluInboxConfig, now: datetime) -> InboxRules:
        """The rules of ``config``, looking ``inbox_window_days`` back from ``now``."""
        return cls(
            since=now - timedelta(days=config.inbox_window_days),
            low_confidence=config.inbox_low_confidence,
            rephrase_seconds=config.inbox_rephrase_seconds,
            low_rating=config.inbox_low_rating,
        )


@dataclass(frozen=True)
class MessageRow:
    """The columns of one stored message the reasons look at."""

    id: int
    conversation_id: int
    kind: str
    text: str | None
    intent: str | None
    confidence: float | None
    channel: str
    sent_at: datetime
    event_key: str


def _kind(value: Any) -> str:
    return str(getattr(value, "value", value))


def substantive(row: MessageRow) -> bool:
    """A reader's question: text, not a button payload or anonymised, not chit-chat."""
    text = (row.text or "").strip()
    return (
        row.kind == SenderKind.READER.value
        and bool(text)
        and not text.startswith(_SKIPPED_PREFIXES)
        and row.intent is not None
        and row.intent not in CONVERSATIONAL_INTENTS
    )


def content_words(text: str) -> set[str]:
    """The words of ``text`` that carry meaning (four letters or more, not filler)."""
    return {w for w in _WORD.findall(text.lower()) if len(w) >= 4 and w not in _SHORT_WORDS}


def conversation_rows(
    session: Session, since: datetime, conversation_ids: Collection[int] | None = None
) -> dict[int, list[MessageRow]]:
    """Every message since ``since`` (of the given conversations, or all), per conversation."""
    columns = (
        Message.id, Message.conversation_id, Message.sender_kind, Message.text,
        Message.intent, Message.confidence, Message.channel, Message.sent_at,
        Message.event_key,
    )  # fmt: skip
    order = (Message.conversation_id, Message.sent_at, Message.id)
    if conversation_ids is None:
        batches = [select(*columns).where(Message.sent_at >= since).order_by(*order)]
    else:
        ids = sorted(conversation_ids)
        batches = [
            select(*columns)
            .where(Message.sent_at >= since, Message.conversation_id.in_(ids[k : k + _BATCH]))
            .order_by(*order)
            for k in range(0, len(ids), _BATCH)
        ]
    found: dict[int, list[MessageRow]] = defaultdict(list)
    for query in batches:
        for r in session.execute(query):
            row = MessageRow(int(r[0]), int(r[1]), _kind(r[2]), r[3], r[4], r[5], r[6], r[7], r[8])
            found[row.conversation_id].append(row)
    return found


def _rephrased(rows: Sequence[MessageRow], seconds: int) -> set[int]:
    """Reader messages the bot answered, followed within ``seconds`` by a reworded one."""
    found: set[int] = set()
    readers = [i for i, row in enumerate(rows) if row.kind == SenderKind.READER.value]
    for first, second in itertools.pairwise(readers):
        a, b = rows[first], rows[second]
        answered = any(row.kind == SenderKind.BOT.value for row in rows[first + 1 : second])
        if not (answered and substantive(a) and substantive(b)):
            continue
        soon = (b.sent_at - a.sent_at).total_seconds() <= seconds
        if soon and content_words(a.text or "") & content_words(b.text or ""):
            found.add(a.id)
    return found


def _last_answered(rows: Sequence[MessageRow], before: datetime) -> MessageRow | None:
    """The last substantive reader message before ``before`` that the bot answered."""
    answered = False
    for row in reversed([r for r in rows if r.sent_at <= before]):
        if row.kind == SenderKind.BOT.value:
            answered = True
        elif substantive(row):
            return row if answered else None
    return None


def _events(
    session: Session, rules: InboxRules, conversation_ids: Collection[int] | None
) -> list[tuple[int, datetime, str]]:
    """(conversation, time, reason) of the handoffs and low ratings since ``rules.since``."""
    handoffs = select(Handoff.conversation_id, Handoff.requested_at).where(
        Handoff.requested_at >= rules.since
    )
    ratings = select(Feedback.conversation_id, Feedback.created_at).where(
        Feedback.created_at >= rules.since,
        Feedback.rating <= rules.low_rating,
        Feedback.conversation_id.is_not(None),
    )
    queries = [(handoffs, Reason.HANDOFF_AFTER_ANSWER), (ratings, Reason.LOW_RATING)]
    found: list[tuple[int, datetime, str]] = []
    for query, reason in queries:
        if conversation_ids is None:
            parts = [query]
        else:
            ids, column = sorted(conversation_ids), query.selected_columns[0]
            parts = [
                query.where(column.in_(ids[k : k + _BATCH])) for k in range(0, len(ids), _BATCH)
            ]
        for part in parts:
            found.extend((int(c), at, reason) for c, at in session.execute(part))
    return found


def _message_reasons(rows: Sequence[MessageRow], rules: InboxRules) -> dict[int, set[str]]:
    found: dict[int, set[str]] = defaultdict(set)
    for row in rows:
        if not substantive(row):
            continue
        if row.intent == FALLBACK_INTENT:
            found[row.id].add(Reason.FALLBACK)
        elif row.confidence is not None and row.confidence < rules.low_confidence:
            found[row.id].add(Reason.LOW_CONFIDENCE)
    for message_id in _rephrased(rows, rules.rephrase_seconds):
        found[message_id].add(Reason.REPHRASED)
    return found


def flag_reasons(
    session: Session,
    conversations: dict[int, list[MessageRow]],
    rules: InboxRules,
    conversation_ids: Collection[int] | None = None,
) -> dict[int, set[str]]:
    """``message id -> reasons`` of the messages of ``conversations`` (read since ``rules.since``).

    Args:
        session: An open session on the reader store.
        conversations: :func:`conversation_rows` since ``rules.since``.
        rules: The window's start and the thresholds.
        conversation_ids: The conversations read, to look up only their handoffs and
            ratings; None when ``conversations`` holds every conversation of the window.
    """
    found: dict[int, set[str]] = defaultdict(set)
    for conversation_id, at, reason in _events(session, rules, conversation_ids):
        row = _last_answered(conversations.get(conversation_id, []), at)
        if row is not None:
            found[row.id].add(reason)
    for conversation in conversations.values():
        for message_id, reasons in _message_reasons(conversation, rules).items():
            found[message_id] |= reasons
    return found
