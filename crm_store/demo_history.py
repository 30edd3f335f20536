"""A deterministic demo history: about 90 days of library chats for a fresh install.

:func:`seed_history` writes seeded-random chats of the demo readers (``seed_data/
demo_readers.yml``) and of anonymous readers across web chat, Telegram, Slack and email
through the real ingestion path (:func:`crm_store.ingestion.ingest`, as the worker's
catch-up does), then the rows the bot's actions and the console would have written:
handoffs claimed, answered and resolved by the store's librarians (``pause``/``resume``
and the librarians' replies go through ingestion too), survey ratings and tickets.

Chats follow the library's week: busier late mornings, quieter evenings and weekends.
Readers ask the real intents and FAQ topics of ``bot/data/nlu``; some messages are
``nlu_fallback`` or of low confidence, so the admin studio's NLU inbox has material.

Idempotent and careful: it writes nothing into a store that already has conversations
(real or an earlier demo history), and remembers its run in the audit log
(``demo.history``). Everything happens in one transaction.

The dashboard's rollups and the reader intelligence are computed by the worker's jobs;
``launcher.demo_history`` runs them right after seeding.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.audit import audit
from crm_store.demo_history_chats import FALLBACK_TEXTS, TOPICS, Chat, Topic
from crm_store.ingestion import ingest
from crm_store.models import (
    AuditEntry,
    ChannelIdentity,
    Conversation,
    Feedback,
    Handoff,
    HandoffStatus,
    Reader,
    StaffRole,
    StaffUser,
    Ticket,
    TicketStatus,
)
from crm_store.seed import DEMO_READERS

__all__ = [
    "DEMO_HISTORY_MARK",
    "DemoHistory",
    "Visit",
    "has_conversations",
    "plan_history",
    "seed_history",
]

DEMO_HISTORY_MARK = "demo.history"
"""The audit action that records a demo history was written."""

CHANNELS = (("webchat", 45), ("telegram", 25), ("email", 18), ("slack", 12))
HOUR_WEIGHTS = {
    7: 1, 8: 3, 9: 6, 10: 10, 11: 12, 12: 10, 13: 7, 14: 7, 15: 7,
    16: 6, 17: 5, 18: 4, 19: 3, 20: 3, 21: 2, 22: 1,
}  # fmt: skip
"""Local hour of day -> relative number of chats starting then."""
WEEKDAY_CHATS = (15, 15, 14, 15, 13, 7, 4)
"""Mean chats per day, Monday to Sunday (late in the period; earlier days a little fewer)."""
STAFFED_HOURS = (*(range(9, 19),) * 4, range(9, 17), range(10, 16), range(0))
"""Local hours, Monday to Sunday, when librarians answer chats (as ``bot/library_profile.yml``)."""
RATINGS = ((5, 45), (4, 30), (3, 12), (2, 8), (1, 5))
LIBRARIAN_LINES = (
    "Hello, this is {name} from the library. Let me look into that for you.",
    "Hi, {name} here. I can help with that.",
)
LIBRARIAN_ANSWERS = (
    "I've sorted it out on your account; anything else?",
    "It's done. You'll get an email confirmation shortly.",
    "I've passed this to our acquisitions team; they'll contact you this week.",
)
HANDOFF_REASONS = ("reader asked", "fallback", "account question")
TICKET_SUBJECTS = (
    "Damaged book returned",
    "Question about a membership for my school",
    "Missing item on my account",
    "Request for a large-print edition",
)


@dataclass
class DemoHistory:
    """What :func:`seed_history` wrote (or why it wrote nothing)."""

    conversations: int = 0
    events: int = 0
    handoffs: int = 0
    ratings: int = 0
    tickets: int = 0
    skipped: str | None = None


@dataclass
class Visit:
    """One planned chat, and the rows that go with it besides its events."""

    chat: Chat
    reader_index: int | None
    started: datetime
    handoff: dict[str, Any] | None = None
    rating: tuple[int, datetime] | None = None
    ticket: tuple[str, str, TicketStatus, datetime] | None = None


def _weighted(rng: random.Random, pairs: Any) -> Any:
    items = list(pairs)
    return rng.choices([k for k, _ in items], weights=[w for _, w in items])[0]


def _sender(channel: str, rng: random.Random, reader: int | None, visit: int) -> str:
    """A sender id as the channel makes them: stable per reader, except the web widget's."""
    if reader is not None:
        demo = DEMO_READERS[reader]
        return {
            "webchat": f"web-demo-{reader}-{visit}",
            "telegram": f"70000{reader:02d}",
            "slack": f"UDEMO{reader:02d}",
            "email": demo["email"],
        }[channel]
    # A few regulars come back often; most readers write once or twice.
    regular = rng.randrange(12) if rng.random() < 0.35 else rng.randrange(12, 400)
    return {
        "webchat": f"web-{visit:05d}",
        "telegram": f"{5100000 + regular}",
        "slack": f"U{4100 + regular}",
        "email": f"reader{regular}@example.net",
    }[channel]


def _topic(rng: random.Random) -> Topic:
    return rng.choices(TOPICS, weights=[t.weight for t in TOPICS])[0]


def _script(
    rng: random.Random, visit: Visit, librarians: list[tuple[int, str]], staffed: bool
) -> None:
    """Fill in one chat: greetings, questions, misunderstandings, a handoff, a rating."""
    chat, at = visit.chat, visit.started

    def later(low: int, high: int) -> datetime:
        nonlocal at
        at += timedelta(seconds=rng.randint(low, high))
        return at

    if rng.random() < 0.3 and chat.channel != "email":
        chat.reader(at, rng.choice(("hi", "hello", "good morning")), "greet", confidence=0.97)
        chat.bot(later(1, 3), "Hello! I'm the library assistant. How can I help?")
    for _ in range(1 if rng.random() < 0.7 else 2):
        roll = rng.random()
        if roll < 0.08:
            chat.reader(
                later(20, 90),
                rng.choice(FALLBACK_TEXTS),
                "nlu_fallback",
                None,
                round(rng.uniform(0.15, 0.38), 2),
            )
            chat.action(later(1, 2), "action_default_fallback")
            chat.bot(later(0, 1), "Sorry, I didn't get that. Could you rephrase?")
            continue
        topic = _topic(rng)
        confidence = round(rng.uniform(0.3, 0.49), 2) if roll < 0.14 else 0.0
        confidence = confidence or round(rng.uniform(0.82, 0.99), 2)
        chat.reader(later(20, 90), rng.choice(topic.texts), topic.intent, topic.faq, confidence)
        chat.bot(later(1, 4), topic.answer)
    roll = rng.random()
    if roll < 0.12 and chat.channel != "email":
        _handoff(rng, visit, later, librarians if staffed else [])
    elif roll < 0.15:
        subject = rng.choice(TICKET_SUBJECTS)
        chat.reader(
            later(30, 120),
            f"I'd like to leave a message: {subject.lower()}",
            "leave_message",
            confidence=0.9,
        )
        chat.bot(later(1, 3), "Thanks, your message is with our staff.")
        status = _weighted(
            rng,
            (
                (TicketStatus.CLOSED, 6),
                (TicketStatus.OPEN, 2),
                (TicketStatus.NEW, 1),
                (TicketStatus.PENDING, 1),
            ),
        )
        visit.ticket = (subject, f"{subject}. Please get back to me.", status, at)
    if rng.random() < 0.4 and chat.channel != "email":
        chat.reader(
            later(10, 60),
            rng.choice(("thanks!", "thank you", "great, thanks")),
            "thank",
            confidence=0.96,
        )
        chat.bot(later(1, 2), "You're welcome!")
    if rng.random() < 0.2 or (visit.handoff and rng.random() < 0.5):
        visit.rating = (_weighted(rng, RATINGS), later(60, 600))


def _handoff(
    rng: random.Random,
    visit: Visit,
    later: Callable[[int, int], datetime],
    librarians: list[tuple[int, str]],
) -> None:
    chat = visit.chat
    asked = later(20, 60)
    chat.reader(
        asked,
        rng.choice(("can I talk to a librarian", "I need a real person", "speak to staff please")),
        "request_human",
        confidence=0.95,
    )
    chat.bot(later(1, 2), "I'm connecting you with a librarian.")
    chat.pause(later(0, 1))
    row: dict[str, Any] = {"reason": rng.choice(HANDOFF_REASONS), "requested_at": asked}
    if not librarians or rng.random() < 0.1:
        row.update(status=HandoffStatus.ABANDONED)
        chat.resume(later(900, 1800))
    else:
        librarian_id, name = rng.choice(librarians)
        claimed = later(30, 420)
        first = later(20, 90)
        chat.librarian(first, librarian_id, rng.choice(LIBRARIAN_LINES).format(name=name))
        chat.reader(later(30, 120), "thanks, it's about my account", "inform", confidence=0.8)
        chat.librarian(later(60, 300), librarian_id, rng.choice(LIBRARIAN_ANSWERS))
        resolved = later(60, 240)
        chat.resume(resolved)
        row.update(
            status=HandoffStatus.RESOLVED,
            librarian_id=librarian_id,
            claimed_at=claimed,
            first_response_at=first,
            resolved_at=resolved,
            resolution_note="Answered in chat.",
        )
    visit.handoff = row


def _day_starts(rng: random.Random, day: date, zone: tzinfo, mean: float) -> list[datetime]:
    count = max(0, round(rng.gauss(mean, mean / 4)))
    hours = list(HOUR_WEIGHTS.items())
    return sorted(
        datetime.combine(
            day, time(_weighted(rng, hours), rng.randrange(60), rng.randrange(60)), tzinfo=zone
        )
        for _ in range(count)
    )


def plan_history(
    now: datetime,
    zone: tzinfo,
    librarians: list[tuple[int, str]],
    days: int = 90,
    seed: int = 17,
) -> list[Visit]:
    """The chats of ``days`` days up to ``now`` (library time ``zone``); the same each run.

    Args:
        now: The end of the history; nothing is planned after it.
        zone: The library's time zone (opening hours and weekends are local).
        librarians: ``(staff id, display name)`` of who answers handoffs; none: abandoned.
        days: How many days back the history starts.
        seed: The random seed.
    """
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    today = now.astimezone(zone).date()
    visits: list[Visit] = []
    for back in range(days, -1, -1):
        day = today - timedelta(days=back)
        growth = 0.75 + 0.25 * (days - back) / max(days, 1)
        for started in _day_starts(rng, day, zone, WEEKDAY_CHATS[day.weekday()] * growth):
            channel = _weighted(rng, CHANNELS)
            reader = rng.randrange(len(DEMO_READERS)) if rng.random() < 0.22 else None
            chat = Chat(_sender(channel, rng, reader, len(visits)), channel)
            visit = Visit(chat, reader, started)
            staffed = started.hour in STAFFED_HOURS[day.weekday()]
            _script(rng, visit, librarians, staffed)
            if max(e.timestamp for e in chat.events) < now.timestamp():
                visits.append(visit)
    return visits


def has_conversations(session: Session) -> bool:
    """Whether the store has any conversation, or had a demo history written once."""
    if session.execute(select(Conversation.id).limit(1)).first() is not None:
        return True
    marked = select(AuditEntry.id).where(AuditEntry.action == DEMO_HISTORY_MARK).limit(1)
    return session.execute(marked).first() is not None


def _librarians(session: Session) -> list[tuple[int, str]]:
    rows = session.execute(
        select(StaffUser.id, StaffUser.display_name)
        .where(StaffUser.role == StaffRole.LIBRARIAN, StaffUser.active.is_(True))
        .order_by(StaffUser.id)
    ).all()
    return [(int(i), str(name).split()[0]) for i, name in rows]


def _demo_reader_ids(session: Session) -> list[int | None]:
    by_card = dict(session.execute(select(Reader.card_number, Reader.id)).all())
    return [by_card.get(demo["card_number"]) for demo in DEMO_READERS]


def _link_demo_identities(
    session: Session, visits: list[Visit], reader_ids: list[int | None]
) -> None:
    """Point the demo readers' chat addresses at them, as a verified sign-in would."""
    known = set(session.execute(select(ChannelIdentity.channel, ChannelIdentity.external_id)).all())
    for visit in visits:
        key = (visit.chat.channel, visit.chat.sender_id)
        reader_id = reader_ids[visit.reader_index] if visit.reader_index is not None else None
        if reader_id is None or key in known:
            continue
        session.add(ChannelIdentity(reader_id=reader_id, channel=key[0], external_id=key[1]))
        known.add(key)
    session.flush()


def seed_history(
    session: Session, now: datetime, zone: tzinfo, days: int = 90, seed: int = 17
) -> DemoHistory:
    """Write the demo history into an empty store; the caller owns the transaction.

    Run it after :func:`crm_store.seed.seed_demo` (the demo readers) and the console's
    demo staff, so that chats belong to demo readers and handoffs to librarians.
    """
    if has_conversations(session):
        return DemoHistory(skipped="the store already has conversations")
    visits = plan_history(now, zone, _librarians(session), days, seed)
    _link_demo_identities(session, visits, _demo_reader_ids(session))
    result = DemoHistory()
    result.events = ingest(session, [e for v in visits for e in v.chat.events], "catchup")
    senders = {v.chat.sender_id for v in visits}
    conversations = dict(
        session.execute(
            select(Conversation.sender_id, Conversation).where(Conversation.sender_id.in_(senders))
        ).all()
    )
    result.conversations = len(conversations)
    for visit in visits:
        conversation = conversations[visit.chat.sender_id]
        librarian_id = None
        if visit.handoff is not None:
            session.add(Handoff(conversation_id=conversation.id, **visit.handoff))
            librarian_id = visit.handoff.get("librarian_id")
            result.handoffs += 1
        if visit.rating is not None:
            rating, rated_at = visit.rating
            session.add(
                Feedback(
                    conversation_id=conversation.id,
                    reader_id=conversation.reader_id,
                    librarian_id=librarian_id,
                    rating=rating,
                    created_at=rated_at,
                )
            )
            result.ratings += 1
        if visit.ticket is not None:
            subject, body, status, at = visit.ticket
            session.add(
                Ticket(
                    conversation_id=conversation.id,
                    reader_id=conversation.reader_id,
                    subject=subject,
                    body=body,
                    status=status,
                    created_at=at,
                    updated_at=at,
                )
            )
            result.tickets += 1
    audit(
        session,
        None,
        DEMO_HISTORY_MARK,
        f"{days} days",
        conversations=result.conversations,
        events=result.events,
    )
    session.flush()
    return result
