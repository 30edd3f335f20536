"""Reader acquisition, cohorts, loyalty segments and churn risk (issue 17, reader intelligence).

Shared by the console's dashboard and the worker's weekly report. Readers are referred
to by id here; the callers turn ids into pseudonyms (:mod:`crm_store.reader_value`).

- A reader's **first contact** is their earliest conversation; its month is their
  cohort, its channel their acquisition channel, and the first meaningful intent of
  its reader messages (not a greeting, thanks, yes or no) their first-contact intent.
- A reader **came back** when they started two or more conversations (the first
  contact and another one after it).
- **Cohort retention**: of the readers whose first contact was in month M, the share
  who started a conversation in month M+k (k = 0 is 100 %).
- **Loyalty segments** over the loyalty window (``RIC_LOYALTY_WINDOW_DAYS``): one
  conversation ``one_time``, two or three ``returning``, four or more ``loyal``; CSAT
  per segment is the share of ratings of 4 or 5 (and the mean rating).

Counting a reader's conversations (came back, cohort activity, loyalty segments) counts
channel sessions, as the dashboard does (:mod:`crm_store.conversation_counts`): a
Telegram, Slack or email reader who returns to the same chat after a silence starts a
new conversation. The first contact is still the reader's earliest Rasa conversation.
- **Churn risk** scores the latest nightly churn list (``churned_readers``) with
  transparent points (:data:`RISK_POINTS`), each listed as a factor.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from crm_store.conversation_counts import counted_sessions, sessions_per_reader
from crm_store.models import (
    Conversation,
    Feedback,
    Handoff,
    HandoffStatus,
    Message,
    SenderKind,
    Ticket,
    TicketStatus,
)
from crm_store.models.dashboard import ConversationSession
from crm_store.models.operations import AnalysisRun, ChurnedReader

__all__ = [
    "LOYALTY_SEGMENTS",
    "RISK_POINTS",
    "SMALL_TALK",
    "Acquisition",
    "ChurnRisk",
    "LoyaltyView",
    "acquisition",
    "churn_risk",
    "cohort_retention",
    "loyalty_segments",
    "month_of",
    "months_back",
    "new_readers_between",
    "new_readers_by_day",
]

SMALL_TALK = frozenset({"greet", "goodbye", "thank", "affirm", "deny", "inform", "bot_challenge"})
"""Intents that say nothing about why a reader came (skipped for the first-contact intent)."""
LOYALTY_SEGMENTS = ("one_time", "returning", "loyal")
RISK_POINTS = {"silence": 40, "was_regular": 20, "low_rating": 20, "left_waiting": 20}
"""The most points each churn-risk factor adds (silence scales with the days quiet)."""


def month_of(when: datetime | date) -> str:
    """``YYYY-MM`` of a time or day."""
    return f"{when.year:04d}-{when.month:02d}"


def months_back(now: datetime, months: int) -> list[str]:
    """The ``months`` months up to and including ``now``'s, oldest first."""
    year, month = now.year, now.month
    found: list[str] = []
    for _ in range(months):
        found.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return found[::-1]


def _month_index(month: str) -> int:
    year, number = month.split("-")
    return int(year) * 12 + int(number) - 1


@dataclass
class Acquisition:
    """New readers by month and channel, their first-contact intents, and who came back."""

    months: list[str]
    channels: list[str]
    new_readers: dict[str, dict[str, int]]
    returned: dict[str, int]
    first_intents: list[tuple[str, int]]
    first_intents_by_month: dict[str, dict[str, int]] = field(default_factory=dict)

    def total(self, month: str) -> int:
        """New readers of ``month`` over every channel."""
        return sum(self.new_readers.get(month, {}).values())

    @property
    def returning_share(self) -> float | None:
        """Share of the period's new readers who started another conversation later."""
        new = sum(self.total(m) for m in self.months)
        return round(sum(self.returned.values()) / new, 4) if new else None


def _first_contacts(session: Session) -> dict[int, tuple[datetime, int, str]]:
    """Each reader's first conversation: (start, conversation id, channel)."""
    first: dict[int, tuple[datetime, int, str]] = {}
    for reader_id, started, conversation_id, channel in session.execute(
        select(
            Conversation.reader_id,
            Conversation.started_at,
            Conversation.id,
            Conversation.channel,
        )
        .where(Conversation.reader_id.is_not(None))
        .order_by(Conversation.started_at, Conversation.id)
    ):
        first.setdefault(int(reader_id), (started, int(conversation_id), str(channel)))
    return first


def new_readers_between(session: Session, start: datetime, end: datetime) -> int:
    """How many readers had their first conversation in ``[start, end)``."""
    first = (
        select(func.min(Conversation.started_at).label("first"))
        .where(Conversation.reader_id.is_not(None))
        .group_by(Conversation.reader_id)
        .subquery()
    )
    count = session.execute(
        select(func.count()).select_from(first).where(first.c.first >= start, first.c.first < end)
    ).scalar_one()
    return int(count)


def new_readers_by_day(session: Session, start: datetime, end: datetime) -> dict[date, int]:
    """How many readers had their first conversation on each UTC day of ``[start, end)``."""
    first = func.min(Conversation.started_at)
    found: Counter[date] = Counter()
    for (when,) in session.execute(
        select(first)
        .where(Conversation.reader_id.is_not(None))
        .group_by(Conversation.reader_id)
        .having(and_(first >= start, first < end))
    ):
        found[when.astimezone(timezone.utc).date()] += 1
    return dict(found)


def acquisition(session: Session, now: datetime, months: int = 12) -> Acquisition:
    """New readers per month and channel over the ``months`` up to ``now``'s month."""
    period = months_back(now, months)
    firsts = {
        reader: entry
        for reader, entry in _first_contacts(session).items()
        if month_of(entry[0]) in period and entry[0] < now
    }
    new: dict[str, dict[str, int]] = {m: {} for m in period}
    for started, _, channel in firsts.values():
        bucket = new[month_of(started)]
        bucket[channel] = bucket.get(channel, 0) + 1
    before = counted_sessions(ConversationSession.started_at < now).subquery()
    counts = dict(
        session.execute(select(before.c.reader_id, func.count()).group_by(before.c.reader_id)).all()
    )
    returned: dict[str, int] = dict.fromkeys(period, 0)
    for reader, (started, _, _) in firsts.items():
        if counts.get(reader, 0) >= 2:
            returned[month_of(started)] += 1
    first_conversations = {conversation: reader for reader, (_, conversation, _) in firsts.items()}
    intents: dict[int, str] = {}
    if first_conversations:
        for conversation_id, intent in session.execute(
            select(Message.conversation_id, Message.intent)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(
                Message.sender_kind == SenderKind.READER,
                Message.intent.is_not(None),
                Conversation.started_at >= _month_start(period[0]),
            )
            .order_by(Message.sent_at, Message.id)
        ):
            owner = first_conversations.get(int(conversation_id))
            if owner is not None and owner not in intents and intent not in SMALL_TALK:
                intents[owner] = str(intent)
    channels = sorted({c for bucket in new.values() for c in bucket})
    ranked = Counter(intents.values()).most_common()
    by_month: dict[str, dict[str, int]] = {m: {} for m in period}
    for reader, intent in intents.items():
        bucket = by_month[month_of(firsts[reader][0])]
        bucket[intent] = bucket.get(intent, 0) + 1
    return Acquisition(period, channels, new, returned, ranked, by_month)


def _month_start(month: str) -> datetime:
    year, number = month.split("-")
    return datetime(int(year), int(number), 1, tzinfo=timezone.utc)


def cohort_retention(session: Session, now: datetime, months: int = 12) -> list[dict[str, Any]]:
    """One row per cohort month: its size and the share active in each later month."""
    period = months_back(now, months)
    firsts = _first_contacts(session)
    cohort_of = {r: month_of(s) for r, (s, _, _) in firsts.items() if month_of(s) in period}
    active: dict[int, set[int]] = defaultdict(set)
    for reader, month in cohort_of.items():  # the first contact's month is 100 %
        active[reader].add(_month_index(month))
    started_in = counted_sessions(
        ConversationSession.started_at >= _month_start(period[0]),
        ConversationSession.started_at < now,
    ).subquery()
    for reader_id, started in session.execute(
        select(started_in.c.reader_id, started_in.c.started_at)
    ):
        if int(reader_id) in cohort_of:
            active[int(reader_id)].add(_month_index(month_of(started)))
    last = _month_index(period[-1])
    rows = []
    for month in period:
        members = [r for r, m in cohort_of.items() if m == month]
        start = _month_index(month)
        shares: list[float | None] = []
        for offset in range(last - start + 1):
            seen = sum(1 for r in members if start + offset in active[r])
            shares.append(round(seen / len(members), 4) if members else None)
        rows.append({"month": month, "readers": len(members), "retention": shares})
    return rows


@dataclass
class LoyaltyView:
    """Loyalty segments of the window, CSAT by segment, and each rated reader's point."""

    window_days: int
    readers: dict[str, int]
    ratings: dict[str, int]
    positive: dict[str, int]
    rating_sum: dict[str, int]
    points: list[dict[str, Any]] = field(default_factory=list)

    def csat(self, segment: str) -> float | None:
        """Share of the segment's ratings that are 4 or 5."""
        n = self.ratings[segment]
        return round(self.positive[segment] / n, 4) if n else None

    def mean_rating(self, segment: str) -> float | None:
        """The segment's mean rating."""
        n = self.ratings[segment]
        return round(self.rating_sum[segment] / n, 2) if n else None


def _loyalty_segment(conversations: int) -> str:
    return "loyal" if conversations >= 4 else "returning" if conversations >= 2 else "one_time"


def loyalty_segments(session: Session, now: datetime, window_days: int = 90) -> LoyaltyView:
    """Readers of the window by loyalty segment, their CSAT, and (conversations, rating)."""
    since = now - timedelta(days=window_days)
    counted = sessions_per_reader(since, now)
    per_reader = dict(session.execute(select(counted.c.reader_id, counted.c.n)).all())
    empty = dict.fromkeys(LOYALTY_SEGMENTS, 0)
    view = LoyaltyView(window_days, dict(empty), dict(empty), dict(empty), dict(empty))
    for count in per_reader.values():
        view.readers[_loyalty_segment(int(count))] += 1
    rated: dict[int, list[int]] = defaultdict(list)
    for reader_id, rating in session.execute(
        select(Conversation.reader_id, Feedback.rating)
        .join(Conversation, Conversation.id == Feedback.conversation_id)
        .where(Feedback.created_at >= since, Feedback.created_at < now)
    ):
        if reader_id in per_reader:
            rated[int(reader_id)].append(int(rating))
    for reader_id, ratings in sorted(rated.items()):
        segment = _loyalty_segment(int(per_reader[reader_id]))
        view.ratings[segment] += len(ratings)
        view.positive[segment] += sum(1 for r in ratings if r >= 4)
        view.rating_sum[segment] += sum(ratings)
        view.points.append(
            {
                "reader_id": reader_id,
                "conversations": int(per_reader[reader_id]),
                "mean_rating": round(sum(ratings) / len(ratings), 2),
                "segment": segment,
            }
        )
    return view


@dataclass
class ChurnRisk:
    """One reader of the latest churn list, with a risk score and the factors behind it."""

    reader_id: int
    last_active_at: datetime
    conversations: int
    score: int
    factors: list[dict[str, Any]]


def churn_risk(session: Session, now: datetime) -> tuple[date | None, list[ChurnRisk]]:
    """The latest nightly churn list, scored (highest risk first), and its run's day.

    Factors: ``silence`` (up to 40 points, growing with the days since the last
    activity over the run's active window), ``was_regular`` (3 or more conversations in
    that window: a regular went quiet), ``low_rating`` (their latest rating was 1 or 2),
    ``left_waiting`` (a handoff they abandoned or an open ticket).
    """
    run = session.execute(
        select(AnalysisRun).order_by(AnalysisRun.day.desc()).limit(1)
    ).scalar_one_or_none()
    if run is None:
        return None, []
    entries = list(
        session.execute(select(ChurnedReader).where(ChurnedReader.run_day == run.day)).scalars()
    )
    ids = [e.reader_id for e in entries]
    latest_rating: dict[int, int] = {}
    left: set[int] = set()
    if ids:
        for reader_id, rating in session.execute(
            select(Conversation.reader_id, Feedback.rating)
            .join(Conversation, Conversation.id == Feedback.conversation_id)
            .where(Conversation.reader_id.in_(ids))
            .order_by(Feedback.created_at)
        ):
            latest_rating[int(reader_id)] = int(rating)
        left |= set(
            session.execute(
                select(Conversation.reader_id)
                .join(Handoff, Handoff.conversation_id == Conversation.id)
                .where(Conversation.reader_id.in_(ids), Handoff.status == HandoffStatus.ABANDONED)
            ).scalars()
        )
        left |= set(
            session.execute(
                select(Ticket.reader_id).where(
                    Ticket.reader_id.in_(ids),
                    Ticket.status.in_([TicketStatus.NEW, TicketStatus.OPEN]),
                )
            ).scalars()
        )
    window = max(1, run.churn_active_days)
    scored = []
    for entry in entries:
        quiet = max(0, (now - entry.last_active_at).days)
        silence = round(RISK_POINTS["silence"] * min(1.0, quiet / window))
        factors = [{"factor": "silence", "points": silence, "detail": f"quiet for {quiet} days"}]
        if entry.conversations >= 3:
            detail = f"{entry.conversations} conversations in {window} days, then none"
            factors.append({"factor": "was_regular", "points": 20, "detail": detail})
        rating = latest_rating.get(entry.reader_id)
        if rating is not None and rating <= 2:
            detail = f"latest rating {rating} of 5"
            factors.append({"factor": "low_rating", "points": 20, "detail": detail})
        if entry.reader_id in left:
            detail = "left a librarian handoff or has an open ticket"
            factors.append({"factor": "left_waiting", "points": 20, "detail": detail})
        score = min(100, sum(int(f["points"]) for f in factors))
        scored.append(
            ChurnRisk(entry.reader_id, entry.last_active_at, entry.conversations, score, factors)
        )
    scored.sort(key=lambda r: (-r.score, r.reader_id))
    return run.day, scored
