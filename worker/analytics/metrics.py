"""Daily figures per channel, computed with SQL aggregation over one UTC day.

Every figure is kept as a numerator and a denominator (or a sum and a count), so that
a range of days or channels aggregates exactly; docs/analytics.md gives each formula.
The unit of work is one day: only that day's channel sessions (and, for returns, the
sessions of the return window after it), handoffs, feedback, surveys and reader messages
are read, through indexes on their time columns. Conversations are counted as the
dashboard counts them: channel sessions (``crm_store.session_facts``).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import and_, case, delete, func, or_, select
from sqlalchemy.orm import Session

from crm_store.models import (
    Conversation,
    Feedback,
    Handoff,
    HandoffStatus,
    Message,
    RawEvent,
    SenderKind,
)
from crm_store.models.operations import ALL_CHANNELS, DailyMetric, Survey
from crm_store.models.statuses import SurveyStatus
from crm_store.session_facts import collect_facts
from library.staffed_time import StaffedHours, staffed_seconds
from worker.analytics.sentiment import score

FALLBACK_INTENT = "nlu_fallback"
FALLBACK_ACTIONS = ("action_clarify", "action_default_fallback")
NEGATIVE_RATING = 2  # a rating at or below this spoils containment
POSITIVE_RATING = 4  # CSAT counts ratings at or above this
UNKNOWN_CHANNEL = "unknown"
# A bot's fallback action can run just after midnight for a message sent just before.
_ACTION_GRACE = timedelta(hours=1)


def chunks(values: Iterable[Any], size: int = 900) -> Iterable[list[Any]]:
    """``values`` in lists of at most ``size``: SQLite limits bound parameters per query."""
    items = sorted(values)
    for offset in range(0, len(items), size):
        yield items[offset : offset + size]


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The UTC instants at which ``day`` starts and the next day starts."""
    start = datetime.combine(day, time.min, tzinfo=timezone.utc)
    return start, start + timedelta(days=1)


@dataclass
class DayFigures:
    """The counts and sums of one day on one channel (mirrors ``daily_metrics``)."""

    conversations: int = 0
    contained_conversations: int = 0
    handoff_conversations: int = 0
    handoffs: int = 0
    abandoned_handoffs: int = 0
    responded_handoffs: int = 0
    first_response_seconds_sum: float = 0.0
    first_response_seconds_median: float | None = None
    resolved_handoffs: int = 0
    resolution_seconds_sum: float = 0.0
    resolution_seconds_median: float | None = None
    ratings: int = 0
    positive_ratings: int = 0
    rating_sum: int = 0
    surveys_sent: int = 0
    surveys_answered: int = 0
    reader_messages: int = 0
    fallback_messages: int = 0
    comments: int = 0
    positive_comments: int = 0
    negative_comments: int = 0
    sentiment_sum: float = 0.0
    first_responses: list[float] = field(default_factory=list, repr=False)
    resolutions: list[float] = field(default_factory=list, repr=False)

    def finish(self) -> None:
        """Fill the sums and medians from the collected durations."""
        self.responded_handoffs = len(self.first_responses)
        self.first_response_seconds_sum = round(sum(self.first_responses), 3)
        self.first_response_seconds_median = (
            round(statistics.median(self.first_responses), 3) if self.first_responses else None
        )
        self.resolved_handoffs = len(self.resolutions)
        self.resolution_seconds_sum = round(sum(self.resolutions), 3)
        self.resolution_seconds_median = (
            round(statistics.median(self.resolutions), 3) if self.resolutions else None
        )

    def columns(self) -> dict[str, Any]:
        """The values of the ``daily_metrics`` columns."""
        skip = {"first_responses", "resolutions"}
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in skip}


class _Buckets(defaultdict[str, DayFigures]):
    """Figures per channel; every addition also lands in ``all``."""

    def __init__(self) -> None:
        super().__init__(DayFigures)

    def each(self, channel: str | None) -> Iterable[DayFigures]:
        yield self[channel or UNKNOWN_CHANNEL]
        yield self[ALL_CHANNELS]


def _conversation_figures(
    session: Session,
    buckets: _Buckets,
    start: datetime,
    end: datetime,
    return_days: int,
    hours: StaffedHours,
) -> None:
    """Count the day's conversations as the dashboard does: channel sessions.

    A Telegram, Slack or email chat is one Rasa conversation forever; each of its
    sessions (``conversation_sessions``) that started in ``[start, end)`` and in which the
    reader wrote something besides a survey answer is one conversation here, with the
    facts of :func:`crm_store.session_facts.collect_facts` (handoff, rating, return within
    ``return_days``, containment).
    """
    window = timedelta(days=return_days)
    facts = collect_facts(
        session,
        start,
        end + window + timedelta(hours=1),
        lambda a, b: staffed_seconds(hours, a, b),
        return_window=window,
    )
    for item in facts:
        if not item.counted or item.row.started_at >= end:
            continue
        for figures in buckets.each(item.channel):
            figures.conversations += 1
            figures.handoff_conversations += int(item.handoff)
            figures.contained_conversations += int(item.contained)


def _handoff_figures(
    session: Session, buckets: _Buckets, start: datetime, end: datetime, hours: StaffedHours
) -> None:
    first_librarian = (
        select(func.min(Message.sent_at))
        .where(
            Message.conversation_id == Handoff.conversation_id,
            Message.sender_kind == SenderKind.LIBRARIAN,
            Message.sent_at >= Handoff.requested_at,
        )
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            Conversation.channel,
            Handoff.status,
            Handoff.requested_at,
            Handoff.first_response_at,
            Handoff.resolved_at,
            first_librarian.label("first_message_at"),
        )
        .join(Conversation, Conversation.id == Handoff.conversation_id)
        .where(Handoff.requested_at >= start, Handoff.requested_at < end)
    ).all()
    for row in rows:
        answers = [t for t in (row.first_response_at, row.first_message_at) if t is not None]
        first = min(answers) if answers else None
        waited = staffed_seconds(hours, row.requested_at, first) if first else None
        resolution = (
            (row.resolved_at - row.requested_at).total_seconds()
            if row.resolved_at is not None and row.resolved_at >= row.requested_at
            else None
        )
        for figures in buckets.each(row.channel):
            figures.handoffs += 1
            figures.abandoned_handoffs += int(row.status == HandoffStatus.ABANDONED)
            if waited is not None:
                figures.first_responses.append(waited)
            if resolution is not None:
                figures.resolutions.append(resolution)


def _feedback_figures(session: Session, buckets: _Buckets, start: datetime, end: datetime) -> None:
    rows = session.execute(
        select(Conversation.channel, Feedback.rating, Feedback.comment)
        .outerjoin(Conversation, Conversation.id == Feedback.conversation_id)
        .where(Feedback.created_at >= start, Feedback.created_at < end)
    ).all()
    for channel, rating, comment in rows:
        sentiment = score(comment) if comment and comment.strip() else None
        for figures in buckets.each(channel):
            figures.ratings += 1
            figures.positive_ratings += int(rating >= POSITIVE_RATING)
            figures.rating_sum += int(rating)
            if sentiment is not None:
                figures.comments += 1
                figures.positive_comments += int(sentiment.label == "positive")
                figures.negative_comments += int(sentiment.label == "negative")
                figures.sentiment_sum += sentiment.compound


def _survey_figures(session: Session, buckets: _Buckets, start: datetime, end: datetime) -> None:
    answered = or_(Survey.status == SurveyStatus.ANSWERED.value, Survey.feedback_id.is_not(None))
    rows = session.execute(
        select(
            Conversation.channel,
            func.count(Survey.id),
            func.sum(case((answered, 1), else_=0)),
        )
        .join(Conversation, Conversation.id == Survey.conversation_id)
        .where(Survey.sent_at >= start, Survey.sent_at < end)
        .group_by(Conversation.channel)
    ).all()
    for channel, sent, answers in rows:
        for figures in buckets.each(channel):
            figures.surveys_sent += int(sent)
            figures.surveys_answered += int(answers or 0)


def fallback_action_messages(
    session: Session, start: datetime, end: datetime, action_grace: timedelta = timedelta(0)
) -> set[int]:
    """Ids of reader messages sent in ``[start, end)`` whose bot reply was a fallback action.

    The message is the conversation's latest reader message at or before the
    ``action_clarify`` / ``action_default_fallback`` event; actions up to
    ``action_grace`` after ``end`` still count for a message sent before ``end``.
    """
    name = RawEvent.body["name"].as_string()
    actions = session.execute(
        select(RawEvent.sender_id, RawEvent.timestamp).where(
            RawEvent.type_name == "action",
            RawEvent.timestamp >= start.timestamp(),
            RawEvent.timestamp < (end + action_grace).timestamp(),
            name.in_(FALLBACK_ACTIONS),
        )
    ).all()
    by_sender: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    for batch in chunks({sender_id for sender_id, _ in actions}):
        for sender_id, sent_at, message_id in session.execute(
            select(Conversation.sender_id, Message.sent_at, Message.id)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(
                Conversation.sender_id.in_(batch),
                Message.sender_kind == SenderKind.READER,
                Message.sent_at >= start,
                Message.sent_at < end,
            )
        ):
            by_sender[sender_id].append((sent_at, int(message_id)))
    found: set[int] = set()
    for sender_id, timestamp in actions:
        when = datetime.fromtimestamp(timestamp, tz=timezone.utc)
        earlier = [item for item in by_sender.get(sender_id, []) if item[0] <= when]
        if earlier:
            found.add(max(earlier)[1])
    return found


def _message_figures(session: Session, buckets: _Buckets, start: datetime, end: datetime) -> None:
    in_day = and_(
        Message.sender_kind == SenderKind.READER, Message.sent_at >= start, Message.sent_at < end
    )
    by_intent = case((Message.intent == FALLBACK_INTENT, 1), else_=0)
    for channel, count, fallbacks in session.execute(
        select(Message.channel, func.count(Message.id), func.sum(by_intent))
        .where(in_day)
        .group_by(Message.channel)
    ):
        for figures in buckets.each(channel):
            figures.reader_messages += int(count)
            figures.fallback_messages += int(fallbacks or 0)
    extra = fallback_action_messages(session, start, end, _ACTION_GRACE)
    for batch in chunks(extra):
        for channel, count in session.execute(
            select(Message.channel, func.count(Message.id))
            .where(
                Message.id.in_(batch),
                or_(Message.intent.is_(None), Message.intent != FALLBACK_INTENT),
            )
            .group_by(Message.channel)
        ):
            for figures in buckets.each(channel):
                figures.fallback_messages += int(count)


def compute_day(
    session: Session, day: date, hours: StaffedHours, return_days: int = 7
) -> dict[str, DayFigures]:
    """Compute one UTC day's figures per channel, and for ``all`` channels together."""
    start, end = day_bounds(day)
    buckets = _Buckets()
    _conversation_figures(session, buckets, start, end, return_days, hours)
    _handoff_figures(session, buckets, start, end, hours)
    _feedback_figures(session, buckets, start, end)
    _survey_figures(session, buckets, start, end)
    _message_figures(session, buckets, start, end)
    buckets[ALL_CHANNELS]  # a day without any activity still gets its (zero) row
    for figures in buckets.values():
        figures.finish()
    return dict(buckets)


def store_day(
    session: Session,
    day: date,
    figures: dict[str, DayFigures],
    computed_at: datetime,
    return_days: int = 7,
) -> int:
    """Replace the day's ``daily_metrics`` rows (in the caller's transaction)."""
    session.execute(delete(DailyMetric).where(DailyMetric.day == day))
    _, end = day_bounds(day)
    complete = computed_at >= end + timedelta(days=return_days)
    for channel, values in sorted(figures.items()):
        session.add(
            DailyMetric(
                day=day,
                channel=channel,
                complete=complete,
                computed_at=computed_at,
                **values.columns(),
            )
        )
    session.flush()
    return len(figures)
