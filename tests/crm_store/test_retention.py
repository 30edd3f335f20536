"""Retention: transcripts older than the retention period are anonymised; aggregates stay."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_store import clock
from crm_store.models import Feedback, Message, Note, RawEvent, Reader, StaffRole, StaffUser
from crm_store.models.operations import DailyMetric, RetentionRun
from tests.crm_store.test_analytics_metrics import HOURS, action_event, conversation, message
from worker.analytics.metrics import compute_day, store_day
from worker.analytics.retention import MARKER
from worker.jobs._resources import store_sessions
from worker.jobs.retention import anonymise_old_transcripts

NOW = datetime(2027, 6, 1, 3, tzinfo=timezone.utc)
OLD = NOW - timedelta(days=400)  # past the default 365 days
RECENT = NOW - timedelta(days=10)


@pytest.fixture
def travel(store_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[clock.TravelClock]:
    """The jobs' store is ``store_url``; the clock stands at NOW."""
    monkeypatch.setenv("RIC_DATABASE_URL", store_url)
    monkeypatch.delenv("RIC_RETENTION_DAYS", raising=False)
    store_sessions.cache_clear()
    travel_clock = clock.TravelClock(NOW)
    previous = clock.install(travel_clock)
    yield travel_clock
    clock.install(previous)
    store_sessions().kw["bind"].dispose()
    store_sessions.cache_clear()


def _build(sessions: sessionmaker[Session]) -> dict[str, int]:
    with sessions.begin() as s:
        gone = Reader(
            display_name="Ada Gone", email="ada@example.org", card_number="21234000000001",
            created_at=OLD - timedelta(days=5),
        )  # fmt: skip
        back = Reader(
            display_name="Bo Back", email="bo@example.org", card_number="21234000000002",
            created_at=OLD - timedelta(days=5),
        )  # fmt: skip
        s.add_all([gone, back])
        s.flush()
        old = conversation(s, "webchat", gone, OLD, "old")
        old_msg = message(s, old, OLD, "my card is 21234000000001", "nlu_fallback")
        old_msg.payload = {"buttons": [{"title": "Ada"}]}
        reply = message(s, old, OLD + timedelta(seconds=1), "Hi Ada", None)
        reply.payload = {"buttons": [{"title": "ok"}]}
        action_event(s, old, OLD + timedelta(seconds=1), "action_clarify")
        s.add(Feedback(conversation_id=old.id, rating=2, comment="Ada here: slow", created_at=OLD))
        staff = StaffUser(
            username="sam", display_name="Sam", role=StaffRole.LIBRARIAN, password_hash="x"
        )
        s.add(staff)
        s.flush()
        s.add(
            Note(
                conversation_id=old.id,
                staff_user_id=staff.id,
                body="Ada lives at 1 Road",
                created_at=OLD,
            )
        )
        # Bo had an old conversation too, but came back recently.
        back_old = conversation(s, "telegram", back, OLD, "back-old")
        message(s, back_old, OLD, "old question from Bo", "faq")
        recent = conversation(s, "telegram", back, RECENT, "recent")
        message(s, recent, RECENT, "recent question from Bo", "nlu_fallback")
        action_event(s, recent, RECENT + timedelta(seconds=1), "action_clarify")
        s.add(Feedback(conversation_id=recent.id, rating=5, comment="great", created_at=RECENT))
    return {"gone": gone.id, "back": back.id}


def _metrics(sessions: sessionmaker[Session]) -> list[tuple[object, ...]]:
    with sessions.begin() as s:
        return [
            tuple(getattr(r, c.name) for c in DailyMetric.__table__.columns)
            for r in s.execute(select(DailyMetric).order_by(DailyMetric.id)).scalars()
        ]


def test_old_transcripts_are_anonymised_and_aggregates_kept(
    travel: clock.TravelClock, caplog: pytest.LogCaptureFixture
) -> None:
    sessions = store_sessions()
    ids = _build(sessions)
    with sessions.begin() as s:
        for day in (OLD.date(), RECENT.date()):
            store_day(s, day, compute_day(s, day, HOURS), NOW)
    before = _metrics(sessions)

    with caplog.at_level(logging.INFO, logger="worker.analytics.retention"):
        summary = anonymise_old_transcripts()

    assert summary["counts"] == {
        "messages": 3,  # the old reader message, the old bot reply, Bo's old question
        "raw_events": 1,  # the old action event
        "feedback_comments": 1,
        "notes": 1,
        "outbound_messages": 0,
        "handoff_notes": 0,
        "tickets": 0,
        "readers": 1,  # Ada; Bo was active 10 days ago
    }
    assert summary["cutoff"] == (NOW - timedelta(days=365)).isoformat()
    with sessions.begin() as s:
        texts = {m.text for m in s.execute(select(Message)).scalars()}
        assert texts == {MARKER, "recent question from Bo"}
        old_messages = (
            s.execute(
                select(Message)
                .where(Message.sent_at < NOW - timedelta(days=365))
                .order_by(Message.id)
            )
            .scalars()
            .all()
        )
        assert [(m.text, m.intent) for m in old_messages] == [
            (MARKER, "nlu_fallback"),  # the intent stays for counting
            (MARKER, None),  # the bot's reply
            (MARKER, "faq"),  # Bo's old question
        ]
        assert all(m.payload is None for m in old_messages)
        bodies = [
            e.body for e in s.execute(select(RawEvent).order_by(RawEvent.timestamp)).scalars()
        ]
        assert bodies[0] == {
            "event": "action",
            "timestamp": (OLD + timedelta(seconds=1)).timestamp(),
            "name": "action_clarify",
            "anonymised": 1,
        }
        assert bodies[1]["name"] == "action_clarify" and "anonymised" not in bodies[1]
        comments = {f.rating: f.comment for f in s.execute(select(Feedback)).scalars()}
        assert comments == {2: None, 5: "great"}
        assert s.execute(select(Note.body)).scalar_one() == MARKER
        gone = s.get(Reader, ids["gone"])
        back = s.get(Reader, ids["back"])
        assert gone is not None and back is not None
        assert (gone.display_name, gone.email, gone.card_number) == (None, None, None)
        assert (back.display_name, back.email) == ("Bo Back", "bo@example.org")
        run = s.get(RetentionRun, NOW.date())
        assert run is not None and run.counts == summary["counts"]

    assert _metrics(sessions) == before  # aggregates untouched
    log = caplog.text
    assert "messages=3" in log and "readers=1" in log
    for secret in ("Ada", "21234000000001", "Road", "Bo"):
        assert secret not in log


def test_a_second_run_changes_nothing(travel: clock.TravelClock) -> None:
    sessions = store_sessions()
    _build(sessions)
    first = anonymise_old_transcripts()
    assert first["counts"]["messages"] == 3
    travel.advance(timedelta(hours=1))
    second = anonymise_old_transcripts()
    assert set(second["counts"].values()) == {0}
    assert second["oldest"] is None
    with sessions.begin() as s:
        assert len(s.execute(select(RetentionRun)).scalars().all()) == 1  # same day: replaced


def test_time_travel_moves_the_cutoff(travel: clock.TravelClock) -> None:
    sessions = store_sessions()
    _build(sessions)
    travel.set(RECENT + timedelta(days=300))  # still within a year of RECENT
    assert anonymise_old_transcripts()["counts"]["messages"] == 3
    travel.set(RECENT + timedelta(days=366))  # now Bo's recent conversation is old too
    counts = anonymise_old_transcripts()["counts"]
    assert (counts["messages"], counts["feedback_comments"], counts["readers"]) == (1, 1, 1)


def test_retention_days_come_from_the_environment(
    travel: clock.TravelClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions = store_sessions()
    _build(sessions)
    monkeypatch.setenv("RIC_RETENTION_DAYS", "5")
    summary = anonymise_old_transcripts()
    assert summary["counts"]["messages"] == 4  # everything is older than 5 days
    assert summary["cutoff"] == (NOW - timedelta(days=5)).isoformat()
