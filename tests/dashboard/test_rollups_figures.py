"""The dashboard's rollups on a hand-built day, on SQLite and PostgreSQL.

``tests/dashboard/rollup_data.py`` describes the day and each session's expected facts.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from crm_store.models import Conversation
from crm_store.models.dashboard import (
    ROLLUP_MEASURES,
    ConversationSession,
    DashboardDailyRollup,
    DashboardRollup,
)
from crm_store.rollups import refresh_days
from library.staffed_time import staffed_seconds
from tests.dashboard.chat_events import Chat, ingest_chats
from tests.dashboard.rollup_data import DAY, EXPECTED_DAY, EXPECTED_KEYS, HOURS, at, build_day
from worker.jobs.rollups import rebuild

pytestmark = pytest.mark.dashboard


def staffed(start: datetime, end: datetime) -> float:
    return staffed_seconds(HOURS, start, end)


def refresh(sessions: sessionmaker[Session]) -> int:
    with sessions.begin() as session:
        return refresh_days(session, [DAY], timezone.utc, staffed, at(23, days=2))


def test_sessions_get_their_facts(sessions: sessionmaker[Session]) -> None:
    build_day(sessions)
    refresh(sessions)
    with sessions.begin() as session:
        rows = session.execute(
            select(Conversation.sender_id, ConversationSession)
            .join(Conversation, Conversation.id == ConversationSession.conversation_id)
            .order_by(ConversationSession.started_at)
        ).all()
        facts = {
            (sender, s.seq): (
                s.intent,
                s.reader_messages,
                s.fallback_messages,
                s.handoff,
                s.first_response_seconds,
                s.resolution_seconds,
                s.rating,
                s.returned,
                s.contained,
                s.branch,
                s.hour,
            )
            for sender, s in rows
        }
    web, tg, slack, mail = "web-a", "tg-b", "slack-c", "mail-d"
    assert facts == {
        (web, 0): ("library_hours", 1, 0, False, None, None, None, False, True, "central", 10),
        (tg, 0): ("faq/parking", 3, 1, False, None, None, None, True, False, "unknown", 11),
        (tg, 1): ("renew_loans", 1, 0, False, None, None, None, False, True, "unknown", 20),
        (slack, 0): ("request_human", 1, 0, True, 600.0, 1800.0, 5, False, False, "unknown", 13),
        # the survey's answer: a session, but no conversation
        (slack, 1): (None, 1, 0, False, None, None, None, None, None, "unknown", 14),
        (mail, 0): ("check_loans", 1, 0, False, None, None, 2, False, False, "unknown", 15),
    }


def test_the_day_rolls_up_per_hour_and_keys(sessions: sessionmaker[Session]) -> None:
    build_day(sessions)
    assert refresh(sessions) == 5
    assert refresh(sessions) == 5  # again: the day's rows are replaced, not added
    with sessions.begin() as session:
        rows = list(session.execute(select(DashboardRollup)).scalars())
    assert {(r.hour, r.channel, r.branch, r.intent) for r in rows} == EXPECTED_KEYS
    assert {r.day for r in rows} == {DAY}
    totals: Counter[str] = Counter()
    for row in rows:
        for name in ROLLUP_MEASURES:
            totals[name] += getattr(row, name)
    assert dict(totals) == EXPECTED_DAY
    with sessions.begin() as session:
        daily = list(session.execute(select(DashboardDailyRollup)).scalars())
    # the daily table: one row per (channel, branch, language, intent), the same sums
    assert sorted((r.channel, r.intent) for r in daily) == sorted(
        (channel, intent) for _, channel, _, intent in EXPECTED_KEYS
    )
    assert {name: sum(getattr(r, name) for r in daily) for name in ROLLUP_MEASURES} == EXPECTED_DAY


def test_a_later_return_and_the_library_zone(sessions: sessionmaker[Session]) -> None:
    """Reader A comes back the next morning: A's session is no longer contained.

    In a zone 5 hours behind UTC, B's 20:00 UTC session is 15:00 the same local day and
    the 10:00 UTC session falls at 05:00.
    """
    build_day(sessions)
    ingest_chats(sessions, Chat("web-a", "webchat").reader(at(9, days=1), "me again", "greet"))
    zone = timezone(timedelta(hours=-5))
    with sessions.begin() as session:
        refresh_days(session, [DAY], zone, staffed, at(23, days=2))
        rows = list(session.execute(select(DashboardRollup)).scalars())
    by_hour = {(r.hour, r.intent): r for r in rows}
    assert by_hour[(5, "library_hours")].contained == 0
    assert by_hour[(15, "renew_loans")].conversations == 1
    assert sum(r.contained for r in rows) == 1


def test_rebuild_resplits_and_rolls_up_every_day(sessions: sessionmaker[Session]) -> None:
    """``python -m worker.jobs.rollups --resplit``: old chats without sessions, every day."""
    build_day(sessions)
    with sessions.begin() as session:
        session.execute(delete(ConversationSession))
    summary = rebuild(sessions, at(12, days=3), timezone.utc, HOURS)
    # six sessions (C's survey answer is one); days from DAY to "now"'s day
    assert summary == {"sessions": 6, "days": 4, "rollup_rows": 5}
    with sessions.begin() as session:
        rows = list(session.execute(select(DashboardRollup)).scalars())
    assert {name: sum(getattr(r, name) for r in rows) for name in ROLLUP_MEASURES} == EXPECTED_DAY
