"""Time travel through the nightly analysis job, as APScheduler calls it (no arguments)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from crm_store import clock
from crm_store.models import Conversation, Message
from crm_store.models.dashboard import ConversationSession
from crm_store.models.operations import AnalysisRun, ChurnedReader, DailyMetric, QuestionCluster
from crm_store.sessions import resplit
from tests.crm_store.test_analytics_metrics import DAY, at, build_store, conversation, message
from worker.jobs._resources import store_sessions
from worker.jobs.analysis import nightly_analysis


@pytest.fixture
def travel(store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[clock.TravelClock]:
    """The jobs' store is ``store_url``; their clock stands at DAY 03:00 until moved."""
    monkeypatch.setenv("RIC_DATABASE_URL", store_url)
    store_sessions.cache_clear()
    travel_clock = clock.TravelClock(at(0, 3))
    previous = clock.install(travel_clock)
    yield travel_clock
    clock.install(previous)
    store_sessions().kw["bind"].dispose()
    store_sessions.cache_clear()


def _snapshot(sessions: sessionmaker[Session]) -> dict[str, list[tuple[object, ...]]]:
    skip = {"id", "computed_at"}
    with sessions.begin() as s:
        metrics = [
            tuple(getattr(row, c.name) for c in DailyMetric.__table__.columns if c.name not in skip)
            for row in s.execute(
                select(DailyMetric).order_by(DailyMetric.day, DailyMetric.channel)
            ).scalars()
        ]
        runs = [
            (r.day, r.churned_readers, r.active_readers, r.repeat_readers, r.unanswered_questions)
            for r in s.execute(select(AnalysisRun).order_by(AnalysisRun.day)).scalars()
        ]
        churn = [
            (c.run_day, c.reader_id, c.conversations)
            for c in s.execute(select(ChurnedReader).order_by(ChurnedReader.id)).scalars()
        ]
        clusters = [
            (c.run_day, c.rank, c.label, c.size)
            for c in s.execute(select(QuestionCluster).order_by(QuestionCluster.id)).scalars()
        ]
    return {"metrics": metrics, "runs": runs, "churn": churn, "clusters": clusters}


def _day_row(sessions: sessionmaker[Session], channel: str = "all") -> DailyMetric:
    with sessions.begin() as s:
        return s.execute(
            select(DailyMetric).where(DailyMetric.day == DAY, DailyMetric.channel == channel)
        ).scalar_one()


def test_containment_becomes_final_a_week_later(travel: clock.TravelClock) -> None:
    sessions = store_sessions()
    build_store(sessions)
    with sessions.begin() as s:  # R2's return (day +3) has not happened yet on day +1
        c6 = s.execute(select(Conversation).where(Conversation.sender_id == "c6")).scalar_one()
        s.execute(delete(ConversationSession).where(ConversationSession.conversation_id == c6.id))
        s.execute(delete(Message).where(Message.conversation_id == c6.id))
        s.delete(c6)

    travel.set(at(1, 3))
    summary = nightly_analysis()
    assert summary["day"] == (DAY + timedelta(days=1)).isoformat()
    assert summary["days"][-1] == DAY.isoformat()  # yesterday is the newest day analysed
    assert len(summary["days"]) == 8
    row = _day_row(sessions)
    # On day +1: C1 and C2 are bot-only, unrated, and nobody came back yet.
    assert (row.conversations, row.contained_conversations, row.complete) == (6, 2, False)
    # Unanswered questions in the 30 days before day +1: C1's and C5's fallback intents,
    # C2's action_default_fallback, and the questions before C3's and C4's handoffs
    # (C7's only message is a greeting) = 5.
    assert summary["unanswered_questions"] == 5

    with sessions.begin() as s:  # day +3: R2 comes back
        c6 = conversation(s, "webchat", None, at(3, 15), "c6")
        c6.reader_id = build_reader_of(s, "c2")
        message(s, c6, at(3, 15), "is the telescope back", "search_catalog")
        resplit(s, [c6.id])
    travel.set(at(8, 3))
    nightly_analysis()
    row = _day_row(sessions)
    # Day +8 recomputes DAY with the whole 7-day window: C2 returned, only C1 is contained.
    assert (row.conversations, row.contained_conversations, row.complete) == (6, 1, True)


def build_reader_of(session: Session, sender_id: str) -> int:
    """The reader id of a conversation."""
    reader_id = session.execute(
        select(Conversation.reader_id).where(Conversation.sender_id == sender_id)
    ).scalar_one()
    assert reader_id is not None
    return int(reader_id)


def build_reader_ids(sessions: sessionmaker[Session]) -> dict[str, int]:
    """The reader id of each conversation with a reader, by sender id."""
    with sessions.begin() as s:
        rows = s.execute(
            select(Conversation.sender_id, Conversation.reader_id).where(
                Conversation.reader_id.is_not(None)
            )
        ).all()
    return {str(sender): int(reader) for sender, reader in rows}


def test_running_twice_gives_the_same_rows(travel: clock.TravelClock) -> None:
    sessions = store_sessions()
    build_store(sessions)
    travel.set(at(9, 2))
    first_summary = nightly_analysis()
    first = _snapshot(sessions)
    travel.advance(timedelta(hours=3))  # the same day, later
    second_summary = nightly_analysis()
    assert _snapshot(sessions) == first
    assert first_summary["daily_metric_rows"] == second_summary["daily_metric_rows"]
    # 8 days analysed: DAY +1 .. DAY +8; only DAY +1 has activity (C4's last message,
    # C4's feedback, C4's survey: telegram) -> 1 + 7 "all" rows + telegram = 9; plus
    # DAY +3 has C6 (webchat) -> 10.
    assert first_summary["daily_metric_rows"] == 10


def test_churn_and_loyalty_follow_the_clock(travel: clock.TravelClock) -> None:
    sessions = store_sessions()
    build_store(sessions)
    # 40 days after DAY: everybody was last active 37-40 days ago, inside [90, 30) days.
    travel.set(at(40, 3))
    summary = nightly_analysis()
    # R1, R3, R4, R5 last active on DAY (+1 for R4), R2 on DAY +3: all five churned.
    assert summary["churned_readers"] == 5
    # Loyalty over 90 days counts channel sessions: R2 has C2 and C6 (repeat); R4's
    # Telegram chat C4 is two conversations (the handoff on DAY, then "thanks" the next
    # morning after more than an hour of silence: repeat); R1, R3, R5 one each.
    assert (summary["active_readers"], summary["repeat_readers"]) == (5, 2)
    with sessions.begin() as s:
        churned = dict(
            s.execute(select(ChurnedReader.reader_id, ChurnedReader.conversations)).all()
        )
    readers = build_reader_ids(sessions)
    assert churned == {
        readers["c1"]: 1, readers["c2"]: 2, readers["c3"]: 1, readers["c4"]: 2, readers["c5"]: 1
    }  # fmt: skip
    # 100 days after: nobody is inside the 90-day window any more.
    travel.set(at(100, 3))
    assert nightly_analysis()["churned_readers"] == 0
    with sessions.begin() as s:
        days = [r.day for r in s.execute(select(AnalysisRun).order_by(AnalysisRun.day)).scalars()]
    assert days == [DAY + timedelta(days=40), DAY + timedelta(days=100)]


def test_the_job_uses_the_installed_clock(travel: clock.TravelClock) -> None:
    travel.set(datetime.fromisoformat("2027-01-15T02:00:00+00:00"))
    summary = nightly_analysis()
    assert summary["day"] == "2027-01-15"
    assert summary["days"] == [f"2027-01-{d:02d}" for d in range(7, 15)]
