"""One hand-built day (Monday 2026-03-02, UTC) of four chats, for the rollup and API tests.

Messages arrive through the real ingestion path; handoffs and feedback are rows as the
console and the feedback action write them. The expected figures, session by session:

- A (webchat, reader A, 10:00): opening hours, branch ``central`` set by a slot; the bot
  answers; contained.
- B1 (telegram, reader B, 11:00): "hi" then an FAQ about parking (``faq/parking``), then
  a question the bot could not parse (``nlu_fallback``); B comes back at 20:00 (B2, a
  renewal), so B1 is a repeat contact within 24 h: not contained. B2 is contained.
- C1 (slack, reader C, 13:00): asks for a librarian; a handoff at 13:00:10, Sam answers
  at 13:10:10 (600 staffed seconds) and resolves at 13:30:10 (1800 s). The survey's
  answer at 14:45 (intent ``feedback_rating``, rating 5) is a session of its own that is
  no conversation; the rating counts for C1.
- D (email, reader D, 15:00): loans, then a rating of 2: not contained.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_store.models import Conversation, Feedback, Handoff, HandoffStatus, StaffUser
from library.staffed_time import OpeningTimes, StaffedHours
from tests.dashboard.chat_events import Chat, ingest_chats

DAY = date(2026, 3, 2)
HOURS = StaffedHours(timezone.utc, (OpeningTimes(time(9), time(17)),) * 5 + (None, None))


def at(hh: int, mm: int = 0, ss: int = 0, days: int = 0) -> datetime:
    """A UTC time on DAY (+ ``days``)."""
    return datetime.combine(DAY + timedelta(days=days), time(hh, mm, ss), timezone.utc)


EXPECTED_DAY = {
    "conversations": 5,
    "contained": 2,
    "handoffs": 1,
    "reader_messages": 7,
    "fallback_messages": 1,
    "ratings": 2,
    "positive_ratings": 1,
    "rating_sum": 7,
    "responded": 1,
    "first_response_sum": 600.0,
    "resolved": 1,
    "resolution_sum": 1800.0,
}
"""The day's sums over every rollup row."""

EXPECTED_KEYS = {
    (10, "webchat", "central", "library_hours"),
    (11, "telegram", "unknown", "faq/parking"),
    (20, "telegram", "unknown", "renew_loans"),
    (13, "slack", "unknown", "request_human"),
    (15, "email", "unknown", "check_loans"),
}
"""(hour, channel, branch, intent) of the day's rollup rows."""


def librarian_id(session: Session, username: str = "sam") -> int | None:
    """The id of a staff account, or None when the store has none of that name."""
    return session.execute(
        select(StaffUser.id).where(StaffUser.username == username)
    ).scalar_one_or_none()


def build_day(sessions: sessionmaker[Session]) -> dict[str, Any]:
    """Ingest the day's chats and add its handoff and feedback; returns conversation ids."""
    with sessions.begin() as session:
        sam = librarian_id(session)
        if sam is None:  # a bare store: Sam as the console would create him
            user = StaffUser(username="sam", display_name="Sam Reyes", password_hash="-")
            session.add(user)
            session.flush()
            sam = int(user.id)
    a = Chat("web-a", "webchat").reader(at(10), "When do you open today?", "library_hours")
    a.slot(at(10, 0, 30), "home_branch", "central").bot(at(10, 0, 31))
    b = Chat("tg-b", "telegram").reader(at(11), "hi", "greet").bot(at(11, 0, 5))
    b.reader(at(11, 0, 30), "Is there parking?", "faq", faq="faq/parking").bot(at(11, 0, 35))
    b.reader(at(11, 30), "blorp zzz", "nlu_fallback").bot(at(11, 30, 5))
    b.reader(at(20), "Can I renew my books?", "renew_loans").bot(at(20, 0, 5))
    c = Chat("slack-c", "slack").reader(at(13), "I need a person", "request_human")
    c.bot(at(13, 0, 5)).librarian(at(13, 10, 10), sam).librarian(at(13, 30, 10), sam, "Bye")
    c.bot(at(14, 45), "How did we do?").reader(at(14, 45, 20), "5", "feedback_rating")
    d = Chat("mail-d", "email").reader(at(15), "What do I have on loan?", "check_loans")
    d.bot(at(15, 0, 5))
    ingest_chats(sessions, a, b, c, d)
    with sessions.begin() as session:
        ids = {s: i for s, i in session.execute(select(Conversation.sender_id, Conversation.id))}
        session.add(
            Handoff(
                conversation_id=ids["slack-c"],
                reason="asked for a person",
                status=HandoffStatus.RESOLVED,
                librarian_id=sam,
                requested_at=at(13, 0, 10),
                claimed_at=at(13, 10, 10),
                resolved_at=at(13, 30, 10),
            )
        )
        session.add(Feedback(conversation_id=ids["slack-c"], rating=5, created_at=at(14, 45, 21)))
        session.add(Feedback(conversation_id=ids["mail-d"], rating=2, created_at=at(15, 5)))
    return ids


CHANNELS = ("webchat", "webchat", "telegram", "email", "slack")
TOPICS = (
    ("When are you open on Saturday?", "library_hours", None),
    ("Is there parking at Central?", "faq", "faq/parking"),
    ("How do I print?", "faq", "faq/printing"),
    ("Renew my books please", "renew_loans", None),
    ("I need to talk to a person", "request_human", None),
    ("blorp", "nlu_fallback", None),
)
BRANCHES = ("central", "northside", "riverside")


def build_recent(sessions: sessionmaker[Session], now: datetime, days: int = 14) -> int:
    """A deterministic fortnight of chats before ``now`` (for the pages' demo data).

    Each day k has 3 + k % 4 conversations between 09:00 and 18:00 UTC, on the channels,
    topics and branches in turn; every "person" request is handed to Sam, who answers
    after 5 minutes and resolves after 20, and every other conversation with a handoff
    gets a rating. Returns how many conversations it made.
    """
    with sessions.begin() as session:
        sam = librarian_id(session)
    made, chats, handoffs = 0, [], []
    for k in range(1, days + 1):
        base = datetime.combine((now - timedelta(days=k)).date(), time(9), now.tzinfo)
        for n in range(3 + k % 4):
            when = base + timedelta(hours=(n * 7 + k) % 9, minutes=(n * 13) % 60)
            text, intent, faq = TOPICS[(k + n) % len(TOPICS)]
            chat = Chat(f"demo-{k}-{n}", CHANNELS[(k * 3 + n) % len(CHANNELS)])
            chat.reader(when, text, intent, faq=faq).bot(when + timedelta(seconds=3))
            chat.slot(when + timedelta(seconds=4), "home_branch", BRANCHES[(k + n) % 3])
            if intent == "request_human" and sam is not None:
                chat.librarian(when + timedelta(minutes=5), sam)
                handoffs.append((chat.sender_id, when, (k + n) % 5 + 1))
            chats.append(chat)
            made += 1
    ingest_chats(sessions, *chats)
    with sessions.begin() as session:
        ids = {s: i for s, i in session.execute(select(Conversation.sender_id, Conversation.id))}
        for sender, when, rating in handoffs:
            session.add(
                Handoff(
                    conversation_id=ids[sender],
                    reason="asked for a person" if rating % 2 else "account problem",
                    status=HandoffStatus.RESOLVED,
                    librarian_id=sam,
                    requested_at=when + timedelta(seconds=5),
                    claimed_at=when + timedelta(minutes=5),
                    resolved_at=when + timedelta(minutes=20),
                )
            )
            session.add(
                Feedback(
                    conversation_id=ids[sender],
                    rating=rating,
                    created_at=when + timedelta(minutes=21),
                )
            )
    return made
