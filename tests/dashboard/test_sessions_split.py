"""Channel sessions: a chat split into conversations after an hour's silence, at ingestion.

Real ingestion (``crm_store.ingestion.ingest``) on SQLite and PostgreSQL: live batches
extend or open sessions, a late catch-up of an older event re-splits the chat, the
worker splits conversations stored before sessions existed, with the configured period,
and a Telegram chat saved by Rasa's own tracker store arrives split through the catch-up.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from crm_store.catchup import catch_up
from crm_store.models import Conversation
from crm_store.models.dashboard import ConversationSession
from crm_store.sessions import resplit_all, split_times
from rasa_plugins.tracker_store import IngestingTrackerStore
from tests.aio import run as aio_run
from tests.dashboard.chat_events import Chat, ingest_chats
from worker.jobs.rollups import split_unsplit

pytestmark = pytest.mark.dashboard

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def spans(sessions: sessionmaker[Session], sender_id: str) -> list[tuple[int, float, float]]:
    """(seq, start, end) of a chat's sessions, in minutes after T0."""
    with sessions.begin() as session:
        rows = session.execute(
            select(ConversationSession)
            .join(Conversation, Conversation.id == ConversationSession.conversation_id)
            .where(Conversation.sender_id == sender_id)
            .order_by(ConversationSession.seq)
        ).scalars()
        return [
            (
                r.seq,
                (r.started_at - T0).total_seconds() / 60,
                (r.ended_at - T0).total_seconds() / 60,
            )
            for r in rows
        ]


def test_split_times_opens_a_session_after_the_gap() -> None:
    times = [minutes(m) for m in (30, 0, 60, 121, 125, 60 * 24)]
    assert split_times(times, timedelta(minutes=60)) == [
        (minutes(0), minutes(60)),
        (minutes(121), minutes(125)),
        (minutes(60 * 24), minutes(60 * 24)),
    ]
    # exactly the gap still continues the session
    assert split_times([minutes(0), minutes(60)], timedelta(minutes=60)) == [
        (minutes(0), minutes(60))
    ]


def test_a_telegram_chat_becomes_one_session_per_visit(sessions: sessionmaker[Session]) -> None:
    chat = Chat("tg-1001", "telegram")
    chat.reader(minutes(0), "When do you open?").bot(minutes(0.1))
    chat.reader(minutes(40), "And on Sunday?").bot(minutes(40.1))
    ingest_chats(sessions, chat)
    assert spans(sessions, "tg-1001") == [(0, 0, 40.1)]

    # later batches, as the worker tails the tracker store: 59 min later continues,
    # 61 min of silence opens a new session, a week later a third
    later = Chat("tg-1001", "telegram")
    later.reader(minutes(99), "Thanks").bot(minutes(99.5))
    ingest_chats(sessions, later)
    again = Chat("tg-1001", "telegram")
    again.reader(minutes(160.5), "Can I renew?").bot(minutes(161))
    again.reader(minutes(60 * 24 * 7), "Hi again").bot(minutes(60 * 24 * 7 + 1))
    ingest_chats(sessions, again)
    assert spans(sessions, "tg-1001") == [
        (0, 0, 99.5),
        (1, 160.5, 161),
        (2, 60 * 24 * 7, 60 * 24 * 7 + 1),
    ]
    with sessions.begin() as session:
        channels = set(session.execute(select(ConversationSession.channel)).scalars())
        readers = set(session.execute(select(ConversationSession.reader_id)).scalars())
    assert channels == {"telegram"}
    assert len(readers) == 1 and None not in readers


def test_a_late_older_event_resplits_the_chat(sessions: sessionmaker[Session]) -> None:
    chat = Chat("slack-U1", "slack")
    chat.reader(minutes(0), "hello").bot(minutes(0.2))
    chat.reader(minutes(150), "renew please").bot(minutes(150.2))
    ingest_chats(sessions, chat)
    assert spans(sessions, "slack-U1") == [(0, 0, 0.2), (1, 150, 150.2)]
    # the catch-up brings a message the live path missed: it bridges the two visits
    late = Chat("slack-U1", "slack")
    late.reader(minutes(50), "are you there?").bot(minutes(51))
    late.reader(minutes(100), "hello?").bot(minutes(101))
    ingest_chats(sessions, late)
    assert spans(sessions, "slack-U1") == [(0, 0, 150.2)]


def test_the_worker_splits_old_chats_with_the_configured_period(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = Chat("mail-ada@example.org", "email")
    for start in (0, 45, 90, 200):
        chat.reader(minutes(start), f"message at {start}").bot(minutes(start + 1))
    ingest_chats(sessions, chat)
    assert spans(sessions, "mail-ada@example.org") == [(0, 0, 91), (1, 200, 201)]
    # as if the chat was stored before migration 0010
    with sessions.begin() as session:
        session.execute(delete(ConversationSession))
    assert spans(sessions, "mail-ada@example.org") == []
    monkeypatch.setenv("RIC_SESSION_INACTIVITY_MINUTES", "30")
    assert split_unsplit(sessions) == 4
    assert spans(sessions, "mail-ada@example.org") == [
        (0, 0, 1),
        (1, 45, 46),
        (2, 90, 91),
        (3, 200, 201),
    ]
    assert split_unsplit(sessions) == 0  # nothing left to split
    monkeypatch.setenv("RIC_SESSION_INACTIVITY_MINUTES", "120")
    with sessions.begin() as session:
        assert resplit_all(session) == 1
    assert spans(sessions, "mail-ada@example.org") == [(0, 0, 201)]


def test_rasa_tracker_store_to_sessions_through_the_catch_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sessions: sessionmaker[Session]
) -> None:
    """Rasa's own tracker store (Telegram turns saved by Rasa) read by the worker's catch-up."""
    monkeypatch.setenv("RIC_TRACKER_DATABASE_URL", f"sqlite:///{tmp_path / 'tracker.db'}")
    monkeypatch.setenv("RIC_STORE_LOGGING", "off")  # only the catch-up writes the reader store
    store = IngestingTrackerStore(domain=Domain.empty())
    tracker = DialogueStateTracker("tg-77", slots=[])
    for start in (0, 30, 150, 60 * 26):  # a gap of 119 minutes, then the next day
        when = minutes(start).timestamp()
        intent = {"name": "library_hours", "confidence": 0.9}
        tracker.update(
            UserUttered("hours?", intent=intent, timestamp=when, input_channel="telegram")
        )
        tracker.update(BotUttered("9 to 5", timestamp=when + 2))
        aio_run(store.save(tracker))
    result = catch_up(store.engine, sessions)
    assert result.events_ingested >= 8
    assert spans(sessions, "tg-77") == [
        (0, 0, 30 + 2 / 60),
        (1, 150, 150 + 2 / 60),
        (2, 60 * 26, 60 * 26 + 2 / 60),
    ]
