"""Key readers: an RFM-style value segmentation, and the readers' stable pseudonyms.

Shared by the console's dashboard and the worker's weekly report (issue 17), so it
lives in the store. Every figure is computed from stored facts:

- **recency**: days since the reader's latest conversation activity (the end of their
  latest conversation in the window);
- **frequency**: conversations started in the window, plus loan and hold transactions
  (reader messages whose intent is in :data:`LOAN_INTENTS`);

A conversation is a **channel session** counted as the dashboard counts it
(:mod:`crm_store.conversation_counts`), not a Rasa conversation: a Telegram, Slack or
email reader who comes back to the same chat after a silence has two. The readers
scored are those with such a conversation started in the window.
- **breadth**: how many of the :data:`SERVICES` the reader used in the window (an
  intent of the service in one of their messages; a handoff counts as the service
  ``librarian``, a satisfaction rating as ``feedback``).

Each is scored 1 to 3 points with the thresholds of ``ReaderValueConfig``
(``RIC_VALUE_*``); the segments are, in this order of precedence:

``key``       at least ``value_key_score`` points and 3 on frequency
``loyal``     frequency and recency 2 or more
``new``       first contact in the recent window and frequency 1
``at_risk``   recency 1 and frequency 2 or more
``occasional``everyone else

Readers are shown by :func:`pseudonym` (``R-`` and 12 hex digits of an HMAC of the
reader id under a key the store generates once, ``dashboard_keys``), never by name.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_store.conversation_counts import reader_session_span
from crm_store.models import Conversation, Feedback, Handoff, Message, SenderKind
from crm_store.models.dashboard_reports import DashboardKey
from ric_config.reader_value import ReaderValueConfig

__all__ = [
    "LOAN_INTENTS",
    "SEGMENTS",
    "SERVICES",
    "PseudonymKey",
    "ReaderValue",
    "ValueRules",
    "pseudonym",
    "pseudonym_key",
    "reader_values",
    "segment_counts",
]

SERVICES: dict[str, tuple[str, ...]] = {
    "loans": ("check_loans", "renew_loans", "renew_item"),
    "holds": ("place_hold", "hold_status"),
    "catalogue": ("search_catalog", "book_query"),
    "fines": ("check_fines",),
    "rooms": ("book_room",),
    "interlibrary_loan": ("interlibrary_loan",),
    "research": ("research_help",),
    "e_resources": ("access_eresources",),
    "card_and_pin": ("get_library_card", "reset_pin"),
    "information": ("library_hours", "library_location", "faq"),
    "reminders": ("subscribe_reminders", "stop_reminders"),
}
"""The services a reader can use through the assistant, by the intents that ask for them."""
LOAN_INTENTS = ("renew_loans", "renew_item", "place_hold")
"""Intents that are loan or hold transactions; each message counts once in frequency."""
SEGMENTS = ("key", "loyal", "new", "at_risk", "occasional")
"""The value segments, in order of precedence."""
_SERVICE_OF = {intent: name for name, intents in SERVICES.items() for intent in intents}
_KEY_NAME = "reader_pseudonym"


@dataclass(frozen=True)
class ValueRules:
    """The thresholds of the segmentation (``ReaderValueConfig``, ``RIC_VALUE_*``)."""

    window_days: int = 365
    recent_days: int = 30
    lapsed_days: int = 90
    frequent: int = 6
    occasional: int = 2
    broad: int = 3
    some: int = 2
    key_score: int = 8

    @classmethod
    def from_settings(cls, config: ReaderValueConfig | None = None) -> ValueRules:
        """The rules of ``config`` (read from the environment when omitted)."""
        c = config or ReaderValueConfig()
        return cls(
            c.value_window_days,
            c.value_recent_days,
            c.value_lapsed_days,
            c.value_frequent,
            c.value_occasional,
            c.value_broad,
            c.value_some,
            c.value_key_score,
        )

    def as_dict(self) -> dict[str, int]:
        """The thresholds by name (for the API and the docs)."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class PseudonymKey:
    """The HMAC key of the readers' pseudonyms."""

    value: bytes


@dataclass
class ReaderValue:
    """One reader's value figures, points and segment."""

    reader_id: int
    first_contact_at: datetime
    last_contact_at: datetime
    conversations: int = 0
    loans: int = 0
    services: set[str] = field(default_factory=set)
    ratings: list[int] = field(default_factory=list)
    recency_days: int = 0
    recency: int = 1
    frequency: int = 1
    breadth: int = 1
    segment: str = "occasional"

    @property
    def score(self) -> int:
        """Recency, frequency and breadth points together (3 to 9)."""
        return self.recency + self.frequency + self.breadth

    @property
    def mean_rating(self) -> float | None:
        """The reader's mean satisfaction rating (1 to 5) in the window, if any."""
        return round(sum(self.ratings) / len(self.ratings), 2) if self.ratings else None


def pseudonym_key(session: Session) -> PseudonymKey:
    """The store's pseudonym key: 32 random bytes, made by migration 0010 (or on first use)."""
    row = session.get(DashboardKey, _KEY_NAME)
    if row is None:
        # Two requests may make it at once: the loser's insert fails on the primary
        # key inside its savepoint, and it reads the winner's key instead.
        try:
            with session.begin_nested():
                session.add(DashboardKey(name=_KEY_NAME, value=secrets.token_hex(32)))
        except IntegrityError:
            pass
        row = session.get(DashboardKey, _KEY_NAME)
        if row is None:  # pragma: no cover (the insert or the winner made it)
            raise RuntimeError("the pseudonym key could not be stored")
    return PseudonymKey(bytes.fromhex(row.value))


def pseudonym(key: PseudonymKey, reader_id: int) -> str:
    """A reader's stable pseudonym, such as ``R-3fa94c1d07be``.

    48 bits, so that even among a million readers two are unlikely to share one.
    """
    digest = hmac.new(key.value, str(reader_id).encode(), hashlib.sha256).hexdigest()
    return "R-" + digest[:12]


def _points(value: int, high: int, middle: int) -> int:
    return 3 if value >= high else 2 if value >= middle else 1


def _score(value: ReaderValue, rules: ValueRules, now: datetime) -> None:
    value.recency_days = max(0, (now - value.last_contact_at).days)
    if value.recency_days <= rules.recent_days:
        value.recency = 3
    elif value.recency_days <= rules.lapsed_days:
        value.recency = 2
    else:
        value.recency = 1
    value.frequency = _points(value.conversations + value.loans, rules.frequent, rules.occasional)
    value.breadth = _points(len(value.services), rules.broad, rules.some)
    new = (now - value.first_contact_at).days <= rules.recent_days
    if value.score >= rules.key_score and value.frequency == 3:
        value.segment = "key"
    elif value.frequency >= 2 and value.recency >= 2:
        value.segment = "loyal"
    elif new and value.frequency == 1:
        value.segment = "new"
    elif value.recency == 1 and value.frequency >= 2:
        value.segment = "at_risk"
    else:
        value.segment = "occasional"


def reader_values(
    session: Session, now: datetime, rules: ValueRules | None = None
) -> dict[int, ReaderValue]:
    """Every reader with a conversation in the window, scored and segmented, by id.

    Conversations are counted channel sessions started in ``[now - window, now)``
    (:func:`crm_store.conversation_counts.reader_session_span`, one grouped query).
    """
    rules = rules or ValueRules()
    since = now - timedelta(days=rules.window_days)
    values: dict[int, ReaderValue] = {}
    span = reader_session_span(since, now)
    for reader_id, first, last, count in session.execute(
        select(span.c.reader_id, span.c.first_started_at, span.c.last_ended_at, span.c.n)
    ):
        values[int(reader_id)] = ReaderValue(int(reader_id), first, last, int(count))
    # The first contact ever, not just in the window ("new" means new to the library).
    for reader_id, first in session.execute(
        select(Conversation.reader_id, func.min(Conversation.started_at))
        .where(Conversation.reader_id.is_not(None))
        .group_by(Conversation.reader_id)
    ):
        if reader_id in values:
            values[int(reader_id)].first_contact_at = first
    intents: dict[int, list[str]] = defaultdict(list)
    for reader_id, intent in session.execute(
        select(Conversation.reader_id, Message.intent)
        .join(Message, Message.conversation_id == Conversation.id)
        .where(
            Message.sender_kind == SenderKind.READER,
            Message.intent.is_not(None),
            Message.sent_at >= since,
            Message.sent_at < now,
            Conversation.reader_id.is_not(None),
        )
    ):
        intents[int(reader_id)].append(str(intent))
    for reader_id, names in intents.items():
        value = values.get(reader_id)
        if value is None:
            continue
        value.loans = sum(1 for name in names if name in LOAN_INTENTS)
        value.services |= {_SERVICE_OF[name] for name in names if name in _SERVICE_OF}
    for (reader_id,) in session.execute(
        select(Conversation.reader_id)
        .join(Handoff, Handoff.conversation_id == Conversation.id)
        .where(Handoff.requested_at >= since, Handoff.requested_at < now)
        .distinct()
    ):
        if reader_id in values:
            values[int(reader_id)].services.add("librarian")
    for reader_id, rating in session.execute(
        select(Conversation.reader_id, Feedback.rating)
        .join(Conversation, Conversation.id == Feedback.conversation_id)
        .where(Feedback.created_at >= since, Feedback.created_at < now)
    ):
        if reader_id in values:
            values[int(reader_id)].ratings.append(int(rating))
            values[int(reader_id)].services.add("feedback")
    for value in values.values():
        _score(value, rules, now)
    return values


def segment_counts(values: dict[int, ReaderValue]) -> dict[str, int]:
    """How many readers are in each segment, every segment named."""
    counts = dict.fromkeys(SEGMENTS, 0)
    for value in values.values():
        counts[value.segment] += 1
    return counts
