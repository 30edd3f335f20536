"""Churn, loyalty and the reader figures count channel sessions, not Rasa conversations.

Issue 17, "Count conversations honestly on every channel": a Telegram chat is one Rasa
conversation (one ``sender_id``) forever, so a reader who comes back to it after a
silence longer than ``RIC_SESSION_INACTIVITY_MINUTES`` has started a new conversation.
The events go through the real ingester, which opens the channel sessions.

The store, as of NOW = 2026-06-01 00:00 UTC (churn: active 90 days, quiet 30, so
churned readers were last active in [2026-03-03, 2026-05-02)):

- the Telegram reader writes on 04-01 10:00 and comes back to the same chat on 05-01
  10:00 (30 days of silence): one Rasa conversation, two sessions; rated 5 on 05-01;
- the web chat reader writes twice on 04-15, five minutes apart: one conversation.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from crm_store.ingestion import RasaEvent, ingest
from crm_store.models import Conversation, Feedback
from crm_store.models.dashboard import ConversationSession
from crm_store.models.operations import AnalysisRun, ChurnedReader
from crm_store.reader_dynamics import acquisition, cohort_retention, loyalty_segments
from crm_store.sessions import resplit
from tests.crm_store.test_analytics_metrics import HOURS
from worker.analytics.churn import ChurnEntry, churned_readers, loyalty
from worker.analytics.run import run_analysis
from worker.analytics.settings import AnalyticsSettings

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)
TELEGRAM_FIRST = datetime(2026, 4, 1, 10, tzinfo=timezone.utc)
TELEGRAM_BACK = datetime(2026, 5, 1, 10, tzinfo=timezone.utc)
WEB = datetime(2026, 4, 15, 10, tzinfo=timezone.utc)


def _user(sender: str, channel: str, when: datetime, text: str, intent: str) -> RasaEvent:
    return RasaEvent(
        sender,
        {
            "event": "user",
            "text": text,
            "timestamp": when.timestamp(),
            "input_channel": channel,
            "parse_data": {"intent": {"name": intent, "confidence": 0.9}},
        },
    )


def _bot(sender: str, when: datetime, text: str) -> RasaEvent:
    return RasaEvent(sender, {"event": "bot", "text": text, "timestamp": when.timestamp()})


def _visit(
    sessions: sessionmaker[Session], sender: str, channel: str, turns: list[tuple[datetime, str]]
) -> None:
    """One batch of ingested events: each turn a reader message and the bot's answer."""
    events = []
    for when, intent in turns:
        events.append(_user(sender, channel, when, f"asking: {intent}", intent))
        events.append(_bot(sender, when + timedelta(seconds=2), "Here is what I found."))
    with sessions.begin() as s:
        ingest(s, events, "live")


def _reader(sessions: sessionmaker[Session], sender: str) -> int:
    with sessions.begin() as s:
        reader = s.execute(
            select(Conversation.reader_id).where(Conversation.sender_id == sender)
        ).scalar_one()
    assert reader is not None
    return int(reader)


def _build(sessions: sessionmaker[Session]) -> dict[str, int]:
    _visit(sessions, "tg-1", "telegram", [(TELEGRAM_FIRST, "renew_loans")])
    _visit(
        sessions,
        "web-1",
        "webchat",
        [(WEB, "library_hours"), (WEB + timedelta(minutes=5), "thank")],
    )
    _visit(sessions, "tg-1", "telegram", [(TELEGRAM_BACK, "check_fines")])
    ids = {"telegram": _reader(sessions, "tg-1"), "web": _reader(sessions, "web-1")}
    with sessions.begin() as s:
        telegram = s.execute(
            select(Conversation).where(Conversation.sender_id == "tg-1")
        ).scalar_one()
        s.add(
            Feedback(
                conversation_id=telegram.id,
                reader_id=ids["telegram"],
                rating=5,
                created_at=TELEGRAM_BACK + timedelta(minutes=10),
            )
        )
        conversations = s.execute(select(func.count(Conversation.id))).scalar_one()
        channel_sessions = s.execute(select(func.count(ConversationSession.id))).scalar_one()
    assert (conversations, channel_sessions) == (2, 3)  # the Telegram chat is split in two
    return ids


def test_a_returning_telegram_reader_has_two_conversations_in_churn_and_loyalty(
    sessions: sessionmaker[Session],
) -> None:
    ids = _build(sessions)
    with sessions.begin() as s:
        churn = churned_readers(s, NOW, active_days=90, quiet_days=30)
        loyal = loyalty(s, NOW, window_days=90)
    # Oldest activity first: web chat 04-15 10:05:02, Telegram 05-01 10:00:02.
    assert churn == [
        ChurnEntry(ids["web"], WEB + timedelta(minutes=5, seconds=2), 1),
        ChurnEntry(ids["telegram"], TELEGRAM_BACK + timedelta(seconds=2), 2),
    ]
    # Started in [03-03, 06-01): Telegram 2 sessions (repeat), web chat 1.
    assert (loyal.active_readers, loyal.repeat_readers, loyal.conversations) == (2, 1, 3)


def test_the_nightly_run_stores_the_session_counts(sessions: sessionmaker[Session]) -> None:
    ids = _build(sessions)
    settings = AnalyticsSettings(clustering=False, recompute_days=1)
    summary = run_analysis(sessions, NOW, HOURS, settings)
    assert (summary["active_readers"], summary["repeat_readers"]) == (2, 1)
    with sessions.begin() as s:
        run = s.execute(select(AnalysisRun)).scalar_one()
        stored = dict(s.execute(select(ChurnedReader.reader_id, ChurnedReader.conversations)).all())
        assert run.loyalty_conversations == 3
    assert stored == {ids["telegram"]: 2, ids["web"]: 1}


def test_loyalty_segments_cohorts_and_returns_count_the_return(
    sessions: sessionmaker[Session],
) -> None:
    ids = _build(sessions)
    with sessions.begin() as s:
        view = loyalty_segments(s, NOW, 90)
        found = acquisition(s, NOW, 3)
        cohorts = cohort_retention(s, NOW, 3)
    assert view.readers == {"one_time": 1, "returning": 1, "loyal": 0}
    # The Telegram reader's rating counts for the returning segment.
    assert (view.ratings, view.csat("returning")) == (
        {"one_time": 0, "returning": 1, "loyal": 0},
        1.0,
    )
    assert view.points == [
        {
            "reader_id": ids["telegram"],
            "conversations": 2,
            "mean_rating": 5.0,
            "segment": "returning",
        }
    ]
    # Both readers are April's new readers; the Telegram one came back (in May).
    assert found.new_readers["2026-04"] == {"telegram": 1, "webchat": 1}
    assert found.returned == {"2026-04": 1, "2026-05": 0, "2026-06": 0}
    assert cohorts[0] == {"month": "2026-04", "readers": 2, "retention": [1.0, 0.5, 0.0]}


def test_a_survey_answer_alone_is_no_new_conversation(sessions: sessionmaker[Session]) -> None:
    _visit(sessions, "tg-2", "telegram", [(TELEGRAM_FIRST, "renew_loans")])
    # Two days later the reader only answers the survey (a session, but no conversation).
    _visit(sessions, "tg-2", "telegram", [(TELEGRAM_FIRST + timedelta(days=2), "feedback_rating")])
    reader = _reader(sessions, "tg-2")
    with sessions.begin() as s:
        churn = churned_readers(s, NOW, active_days=90, quiet_days=30)
        loyal = loyalty(s, NOW, window_days=90)
        assert s.execute(select(func.count(ConversationSession.id))).scalar_one() == 2
    assert [(e.reader_id, e.conversations) for e in churn] == [(reader, 1)]
    assert (loyal.active_readers, loyal.repeat_readers, loyal.conversations) == (1, 0, 1)


def test_the_inactivity_period_decides_what_is_a_return(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two messages 45 minutes apart: one conversation with the default 60 minutes.
    turns = [
        (TELEGRAM_FIRST, "renew_loans"),
        (TELEGRAM_FIRST + timedelta(minutes=45), "check_fines"),
    ]
    _visit(sessions, "tg-3", "telegram", turns)
    with sessions.begin() as s:
        assert loyalty(s, NOW, 90).repeat_readers == 0
    # RIC_SESSION_INACTIVITY_MINUTES=30 and the chats re-split (`rollups --resplit`): two.
    monkeypatch.setenv("RIC_SESSION_INACTIVITY_MINUTES", "30")
    with sessions.begin() as s:
        resplit(s, list(s.execute(select(Conversation.id)).scalars()))
    with sessions.begin() as s:
        loyal = loyalty(s, NOW, 90)
        churn = churned_readers(s, NOW)
    assert (loyal.active_readers, loyal.repeat_readers, loyal.conversations) == (1, 1, 2)
    assert [e.conversations for e in churn] == [2]
