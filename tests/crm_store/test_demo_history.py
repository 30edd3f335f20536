"""The demo history on SQLite and PostgreSQL: deterministic, written once, figures non-empty.

The history goes through the real ingestion path, then the worker's own refreshes
(``launcher.demo_history.seed_and_refresh``); the checks read the stored rows and the
rollups the dashboard reads.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from crm_store.db import make_engine, make_session_factory
from crm_store.demo_history import has_conversations, plan_history, seed_history
from crm_store.ingestion import RasaEvent, ingest
from crm_store.models import (
    Conversation,
    Feedback,
    Handoff,
    HandoffStatus,
    Message,
    Reader,
    SenderKind,
    StaffUser,
    Ticket,
)
from crm_store.models.dashboard import ConversationSession, DashboardDailyRollup
from crm_store.models.dashboard_reports import ReaderValueRow
from crm_store.models.operations import DailyMetric
from crm_store.seed import DEMO_READERS, seed_demo
from handoff_console.accounts import seed_demo_staff
from launcher.cli import prepare
from launcher.demo_history import seed_and_refresh
from launcher.settings import load_settings
from ric_config import SettingsError

pytestmark = pytest.mark.dashboard

NOW = datetime(2026, 11, 20, 15, 30, tzinfo=timezone.utc)
ZONE = ZoneInfo("Europe/Lisbon")


def _count(session: Session, column: object, *where: object) -> int:
    return int(session.execute(select(func.count(column)).where(*where)).scalar_one())


def test_the_plan_is_the_same_every_run_and_ends_before_now() -> None:
    librarians = [(1, "Sam"), (2, "Maria")]
    first = plan_history(NOW, ZONE, librarians)
    second = plan_history(NOW, ZONE, librarians)
    keys = [e.key for v in first for e in v.chat.events]
    assert keys == [e.key for v in second for e in v.chat.events]
    assert len(keys) > 2500
    assert max(e.timestamp for v in first for e in v.chat.events) < NOW.timestamp()
    other = plan_history(NOW, ZONE, librarians, seed=18)
    assert [e.key for v in other for e in v.chat.events] != keys


def test_the_plan_follows_the_library_week() -> None:
    visits = plan_history(NOW, ZONE, [(1, "Sam")])
    local = [v.started.astimezone(ZONE) for v in visits]
    by_weekday = Counter(when.weekday() for when in local)
    assert min(by_weekday[d] for d in range(5)) > 1.5 * by_weekday[5] > 1.5 * by_weekday[6]
    by_hour = Counter(when.hour for when in local)
    assert by_hour.most_common(1)[0][0] in {10, 11, 12}
    assert by_hour[11] > 3 * by_hour[20]
    assert {v.chat.channel for v in visits} == {"webchat", "telegram", "slack", "email"}


def _seeded(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        seed_demo(session)
        seed_demo_staff(session)


def test_seed_writes_a_full_history_once(sessions: sessionmaker[Session]) -> None:
    _seeded(sessions)
    history, refreshed = seed_and_refresh(sessions, NOW)
    assert history.skipped is None
    assert history.conversations > 300 and history.events > 2500
    assert history.handoffs > 20 and history.ratings > 100 and history.tickets > 10
    assert refreshed["rollup_rows"] > 0 and refreshed["analysis_days"] == 91
    with sessions.begin() as session:
        assert _count(session, Message.id) > 2500
        assert _count(session, ConversationSession.id) > history.conversations
        channels = set(session.execute(select(Conversation.channel).distinct()).scalars())
        assert channels == {"webchat", "telegram", "slack", "email"}
        fallbacks = _count(session, Message.id, Message.intent == "nlu_fallback")
        low = _count(session, Message.id, Message.confidence < 0.5)
        assert fallbacks > 20 and low > fallbacks
        # Handoffs answered by the seeded librarians, their replies ingested as theirs.
        librarians = dict(session.execute(select(StaffUser.id, StaffUser.username)).all())
        resolved = (
            session.execute(select(Handoff).where(Handoff.status == HandoffStatus.RESOLVED))
            .scalars()
            .all()
        )
        assert resolved and {librarians[h.librarian_id] for h in resolved} == {"sam", "maria"}
        assert all(h.requested_at < h.claimed_at <= h.first_response_at < h.resolved_at
                   for h in resolved)  # fmt: skip
        replies = _count(session, Message.id, Message.sender_kind == SenderKind.LIBRARIAN)
        assert replies == 2 * len(resolved)
        assert _count(session, Feedback.id) == history.ratings
        assert _count(session, Ticket.id) == history.tickets
        # Every demo reader has chats, on more than one channel.
        for demo in DEMO_READERS:
            reader_id = session.execute(
                select(Reader.id).where(Reader.card_number == demo["card_number"])
            ).scalar_one()
            mine = set(
                session.execute(
                    select(Conversation.channel).where(Conversation.reader_id == reader_id)
                ).scalars()
            )
            assert len(mine) >= 2, demo["display_name"]
        # The figures the dashboard reads.
        daily = session.execute(select(func.sum(DashboardDailyRollup.conversations))).scalar_one()
        assert daily == _count(session, ConversationSession.id)
        assert _count(session, DailyMetric.day) > 60
        assert _count(session, ReaderValueRow.reader_id) > 100
    again, refreshed_again = seed_and_refresh(sessions, NOW)
    assert again.skipped is not None and refreshed_again == {}
    with sessions.begin() as session:
        assert _count(session, Conversation.id) == history.conversations


def test_never_seeds_into_a_store_with_conversations(sessions: sessionmaker[Session]) -> None:
    _seeded(sessions)
    real = RasaEvent(
        "web-real",
        {
            "event": "user",
            "timestamp": NOW.timestamp() - 60,
            "text": "hello",
            "input_channel": "webchat",
            "parse_data": {"intent": {"name": "greet", "confidence": 0.9}},
        },
    )
    with sessions.begin() as session:
        ingest(session, [real], "broker")
    with sessions.begin() as session:
        assert has_conversations(session)
        history = seed_history(session, NOW, ZONE)
        assert history.skipped == "the store already has conversations"
        assert _count(session, Message.id) == 1


def test_ric_migrate_seeds_it_when_the_setting_is_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("RIC_DATABASE_URL", "RIC_TRACKER_DATABASE_URL", "RASA_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RIC_DEMO_HISTORY", "maybe")
    with pytest.raises(SettingsError, match="RIC_DEMO_HISTORY"):
        load_settings(tmp_path / "var")
    monkeypatch.setenv("RIC_DEMO_HISTORY", "0")
    settings = load_settings(tmp_path / "var")
    prepare(settings)
    sessions = make_session_factory(make_engine(settings.database_url))
    with sessions.begin() as session:
        assert _count(session, Reader.id) == len(DEMO_READERS)  # the readers, no history
        assert not has_conversations(session)
    assert "demo history" not in capsys.readouterr().out
    monkeypatch.setenv("RIC_DEMO_HISTORY", "1")
    prepare(settings)
    assert re.search(r"demo history: \d+ conversations", capsys.readouterr().out)
    with sessions.begin() as session:
        conversations = _count(session, Conversation.id)
        assert conversations > 300
        assert _count(session, DashboardDailyRollup.day) > 0
    prepare(settings)  # a second start writes nothing more
    assert "demo history: not seeded" in capsys.readouterr().out
    with sessions.begin() as session:
        assert _count(session, Conversation.id) == conversations
    sessions.kw["bind"].dispose()
