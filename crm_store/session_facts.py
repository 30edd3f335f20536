"""The facts of each channel session, read from messages, handoffs, feedback and slots.

:func:`collect_facts` reads every session that started in a window with what the
dashboard needs of it (docs/analytics.md, "Dashboard figures"):

- it is a **conversation** when the reader wrote in it something other than an answer
  to a survey or a follow-up (:data:`OUTREACH_ANSWERS`);
- its **intent** is its first reader intent that is not small talk; an FAQ question
  keeps its topic (``faq/parking``) from the response selector;
- **handoff** when a handoff was requested in it; its first response is in staffed
  hours, from the request to the librarian's first claim or message;
- its **rating** is the latest feedback on the conversation given before the next
  conversation started;
- **returned** when the same reader started another conversation within 24 hours of
  its end; **contained** when it is a conversation with no handoff, no librarian
  message, no rating of 2 or less and no return;
- its **branch** is the latest ``home_branch`` or ``pickup_branch`` slot set before
  its end.

:mod:`crm_store.rollups` stores them and sums them per hour.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.models import Conversation, Feedback, Handoff, Message, RawEvent, SenderKind
from crm_store.models.dashboard import UNKNOWN, ConversationSession

__all__ = [
    "BRANCH_SLOTS",
    "OUTREACH_ANSWERS",
    "POSITIVE_RATING",
    "RETURN_WINDOW",
    "SMALL_TALK",
    "SessionFacts",
    "StaffedSeconds",
    "collect_facts",
]

FALLBACK_INTENT = "nlu_fallback"
NEGATIVE_RATING = 2
POSITIVE_RATING = 4
RETURN_WINDOW = timedelta(hours=24)
OUTREACH_ANSWERS = frozenset({"feedback_rating", "follow_up_id"})
"""Intents of a reader answering a survey or a follow-up: no new conversation by itself."""
SMALL_TALK = frozenset({"greet", "goodbye", "thank", "affirm", "deny", "bot_challenge"})
BRANCH_SLOTS = ("home_branch", "pickup_branch")
"""Slots whose latest value before a session's end is its branch."""
_FEEDBACK_HORIZON = timedelta(days=7)
_CHUNK = 500
_HANDOFF_SLACK = timedelta(minutes=5)

StaffedSeconds = Callable[[datetime, datetime], float]
"""Seconds of staffed chat time between two instants (``library.staffed_time``)."""


@dataclass
class SessionFacts:
    """One session with the facts the rollups sum."""

    row: ConversationSession
    reader_id: int | None
    channel: str
    language: str
    counted: bool = False
    intent: str = UNKNOWN
    reader_messages: int = 0
    fallback_messages: int = 0
    librarian: bool = False
    handoff: bool = False
    handoff_reason: str | None = None
    librarian_id: int | None = None
    first_response: float | None = None
    resolution: float | None = None
    rating: int | None = None
    branch: str = UNKNOWN
    returned: bool = False
    intents: list[str] = field(default_factory=list)

    @property
    def contained(self) -> bool:
        """A conversation the bot resolved: no handoff, no bad rating, no return."""
        negative = self.rating is not None and self.rating <= NEGATIVE_RATING
        return (
            self.counted
            and not (self.handoff or self.librarian)
            and not negative
            and not self.returned
        )


def _chunks(values: Iterable[int]) -> Iterable[list[int]]:
    items = sorted(set(values))
    for offset in range(0, len(items), _CHUNK):
        yield items[offset : offset + _CHUNK]


def _faq_topic(body: dict[str, Any]) -> str | None:
    selector = (body.get("parse_data") or {}).get("response_selector") or {}
    faq = selector.get("faq") if isinstance(selector, dict) else None
    response = faq.get("response") if isinstance(faq, dict) else None
    key = response.get("intent_response_key") if isinstance(response, dict) else None
    return str(key) if isinstance(key, str) and key.startswith("faq/") else None


def _owner(
    facts: list[SessionFacts], moment: datetime, slack: timedelta | None = timedelta(0)
) -> SessionFacts | None:
    """The session of one conversation that ``moment`` falls in, or None.

    With ``slack`` None, the last session that started at or before ``moment``;
    otherwise ``moment`` must be at most ``slack`` after that session's end.
    """
    found = None
    for item in facts:
        if item.row.started_at <= moment:
            found = item
    if found is not None and slack is not None and moment > found.row.ended_at + slack:
        return None
    return found


def _load_sessions(session: Session, lo: datetime, hi: datetime) -> list[SessionFacts]:
    rows = session.execute(
        select(ConversationSession, Conversation.channel, Conversation.reader_id)
        .join(Conversation, Conversation.id == ConversationSession.conversation_id)
        .where(ConversationSession.started_at >= lo, ConversationSession.started_at < hi)
        .order_by(ConversationSession.conversation_id, ConversationSession.seq)
    ).all()
    languages = _languages(session, {row[0].conversation_id for row in rows})
    return [
        SessionFacts(
            row=row[0],
            reader_id=row.reader_id,
            channel=row.channel,
            language=languages.get(row[0].conversation_id) or UNKNOWN,
        )
        for row in rows
    ]


def _languages(session: Session, ids: set[int]) -> dict[int, str | None]:
    column = getattr(Conversation, "language", None)
    if column is None:  # before issue 15's column exists
        return {}
    found: dict[int, str | None] = {}
    for batch in _chunks(ids):
        found.update(
            session.execute(select(Conversation.id, column).where(Conversation.id.in_(batch))).all()
        )
    return found


def _messages(
    session: Session,
    by_conversation: dict[int, list[SessionFacts]],
    lo: datetime,
    hi: datetime,
    fallback_ids: set[int],
) -> None:
    faq_keys: dict[str, SessionFacts] = {}
    for batch in _chunks(by_conversation):
        for cid, sent_at, kind, intent, mid, key in session.execute(
            select(
                Message.conversation_id,
                Message.sent_at,
                Message.sender_kind,
                Message.intent,
                Message.id,
                Message.event_key,
            )
            .where(Message.conversation_id.in_(batch), Message.sent_at >= lo)
            .where(Message.sent_at <= hi)
            .order_by(Message.sent_at, Message.id)
        ):
            owner = _owner(by_conversation[int(cid)], sent_at)
            if owner is None:
                continue
            if kind == SenderKind.LIBRARIAN:
                owner.librarian = True
            if kind != SenderKind.READER:
                continue
            owner.reader_messages += 1
            owner.fallback_messages += int(intent == FALLBACK_INTENT or int(mid) in fallback_ids)
            if intent not in OUTREACH_ANSWERS:
                owner.counted = True
            if intent and intent not in OUTREACH_ANSWERS:
                owner.intents.append(intent)
                topical = [name for name in owner.intents if name not in SMALL_TALK]
                if intent == "faq" and len(topical) == 1:
                    faq_keys[key] = owner
    for item in (f for facts in by_conversation.values() for f in facts):
        topical = [name for name in item.intents if name not in SMALL_TALK]
        item.intent = (topical or item.intents or [UNKNOWN])[0]
    keys = list(faq_keys)
    for offset in range(0, len(keys), _CHUNK):
        for key, body in session.execute(
            select(RawEvent.event_key, RawEvent.body).where(
                RawEvent.event_key.in_(keys[offset : offset + _CHUNK])
            )
        ):
            topic = _faq_topic(body) if isinstance(body, dict) else None
            owner = faq_keys[key]
            if topic and owner.intent == "faq":
                owner.intent = topic


def _handoffs(
    session: Session,
    by_conversation: dict[int, list[SessionFacts]],
    lo: datetime,
    hi: datetime,
    staffed: StaffedSeconds,
) -> None:
    first_librarian = (
        select(Message.sent_at)
        .where(
            Message.conversation_id == Handoff.conversation_id,
            Message.sender_kind == SenderKind.LIBRARIAN,
            Message.sent_at >= Handoff.requested_at,
        )
        .order_by(Message.sent_at)
        .limit(1)
        .scalar_subquery()
    )
    for batch in _chunks(by_conversation):
        for handoff, first_message in session.execute(
            select(Handoff, first_librarian)
            .where(Handoff.conversation_id.in_(batch))
            .where(Handoff.requested_at >= lo, Handoff.requested_at <= hi)
            .order_by(Handoff.requested_at)
        ):
            owner = _owner(
                by_conversation[handoff.conversation_id], handoff.requested_at, _HANDOFF_SLACK
            )
            if owner is None or owner.handoff:
                continue
            owner.handoff = True
            owner.handoff_reason = (handoff.reason or UNKNOWN)[:200]
            owner.librarian_id = handoff.librarian_id
            answers = [t for t in (handoff.first_response_at, first_message) if t is not None]
            if answers:
                owner.first_response = round(staffed(handoff.requested_at, min(answers)), 3)
            if handoff.resolved_at is not None and handoff.resolved_at >= handoff.requested_at:
                seconds = (handoff.resolved_at - handoff.requested_at).total_seconds()
                owner.resolution = round(seconds, 3)


def _ratings(
    session: Session, by_conversation: dict[int, list[SessionFacts]], lo: datetime, hi: datetime
) -> None:
    for batch in _chunks(by_conversation):
        for cid, rating, created_at in session.execute(
            select(Feedback.conversation_id, Feedback.rating, Feedback.created_at)
            .where(Feedback.conversation_id.in_(batch))
            .where(Feedback.created_at >= lo, Feedback.created_at <= hi)
            .order_by(Feedback.created_at, Feedback.id)
        ):
            counted = [f for f in by_conversation[int(cid)] if f.counted]
            owner = _owner(counted, created_at, None)
            if owner is not None:
                owner.rating = int(rating)


def _branches(
    session: Session, by_conversation: dict[int, list[SessionFacts]], hi: datetime
) -> None:
    ids = list(by_conversation)
    sender_of: dict[str, int] = {}
    for batch in _chunks(ids):
        for cid, sender in session.execute(
            select(Conversation.id, Conversation.sender_id).where(Conversation.id.in_(batch))
        ):
            sender_of[sender] = int(cid)
    name = RawEvent.body["name"].as_string()
    value = RawEvent.body["value"].as_string()
    names = list(sender_of)
    for offset in range(0, len(names), _CHUNK):
        for sender, timestamp, branch in session.execute(
            select(RawEvent.sender_id, RawEvent.timestamp, value)
            .where(RawEvent.sender_id.in_(names[offset : offset + _CHUNK]))
            .where(RawEvent.type_name == "slot", name.in_(BRANCH_SLOTS))
            .where(RawEvent.timestamp <= hi.timestamp())
            .order_by(RawEvent.timestamp)
        ):
            if not branch:
                continue
            for item in by_conversation[sender_of[sender]]:
                if timestamp <= item.row.ended_at.timestamp():
                    item.branch = str(branch)[:80]


def _returns(facts: list[SessionFacts], window: timedelta) -> None:
    by_reader: dict[int, list[SessionFacts]] = defaultdict(list)
    for item in facts:
        if item.counted and item.reader_id is not None:
            by_reader[item.reader_id].append(item)
    for items in by_reader.values():
        items.sort(key=lambda f: f.row.started_at)
        for index, item in enumerate(items):
            end = item.row.ended_at
            item.returned = any(
                end < other.row.started_at <= end + window for other in items[index + 1 :]
            )


def collect_facts(
    session: Session,
    lo: datetime,
    hi: datetime,
    staffed: StaffedSeconds,
    fallback_ids: set[int] | None = None,
    return_window: timedelta = RETURN_WINDOW,
) -> list[SessionFacts]:
    """The facts of every session that started in ``[lo, hi)``.

    Args:
        session: An open session.
        lo: Start of the window (aware).
        hi: End of the window; sessions up to a day later should be included by
            the caller when it needs their returns.
        staffed: Staffed seconds between two instants.
        fallback_ids: Reader message ids answered by a fallback action.
        return_window: A session is ``returned`` when the reader's next conversation
            starts within this long after its end (the dashboard: 24 hours; the nightly
            ``daily_metrics``: ``RIC_ANALYTICS_RETURN_DAYS``).
    """
    facts = _load_sessions(session, lo, hi)
    by_conversation: dict[int, list[SessionFacts]] = defaultdict(list)
    for item in facts:
        by_conversation[item.row.conversation_id].append(item)
    last_end = max((f.row.ended_at for f in facts), default=hi)
    _messages(session, by_conversation, lo, last_end, fallback_ids or set())
    _handoffs(session, by_conversation, lo, last_end, staffed)
    _ratings(session, by_conversation, lo, last_end + _FEEDBACK_HORIZON)
    _branches(session, by_conversation, last_end)
    _returns(facts, return_window)
    return facts
