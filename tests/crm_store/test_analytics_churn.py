"""Churn list and repeat-reader loyalty on a hand-built store.

Every visit is one web chat conversation with one reader message, so it is one channel
session (tests/crm_store/test_analytics_channel_sessions.py has readers who return to
the same Telegram chat).
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_store.models import Conversation, Reader
from crm_store.sessions import resplit
from tests.crm_store.test_analytics_metrics import conversation, message
from worker.analytics.churn import ChurnEntry, churned_readers, loyalty

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)
# active 90 / quiet 30 days before NOW: churned readers were last active in
# [2026-03-03, 2026-05-02).


def _when(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 12, tzinfo=timezone.utc)


def _build(sessions: sessionmaker[Session]) -> dict[str, int]:
    visits = {
        "a": [_when(3, 10), _when(5, 20)],  # active recently: not churned
        "b": [_when(4, 1)],  # churned
        "c": [_when(2, 1)],  # too long ago: not churned
        "d": [_when(3, 15), _when(4, 20)],  # churned, 2 conversations
        "e": [datetime(2026, 5, 2, tzinfo=timezone.utc)],  # on the quiet boundary: active
    }
    ids = {}
    with sessions.begin() as s:
        for name, times in visits.items():
            reader = Reader(created_at=_when(1, 1))
            s.add(reader)
            s.flush()
            ids[name] = reader.id
            for n, when in enumerate(times):
                visit = conversation(s, "webchat", reader, when, f"{name}{n}")
                message(s, visit, when, "when do you open", "library_hours")
        # An anonymous conversation is nobody's churn.
        anonymous = conversation(s, "webchat", None, _when(4, 1), "anon")
        message(s, anonymous, _when(4, 1), "hello", "greet")
        # The channel sessions ingestion would have opened (the counts count them).
        resplit(s, list(s.execute(select(Conversation.id)).scalars()))
    return ids


def test_churn_list_holds_readers_quiet_for_the_last_30_days(
    sessions: sessionmaker[Session],
) -> None:
    ids = _build(sessions)
    with sessions.begin() as s:
        churn = churned_readers(s, NOW, active_days=90, quiet_days=30)
    assert churn == [
        ChurnEntry(ids["b"], _when(4, 1), 1),
        ChurnEntry(ids["d"], _when(4, 20), 2),
    ]


def test_churn_windows_are_configurable(sessions: sessionmaker[Session]) -> None:
    ids = _build(sessions)
    with sessions.begin() as s:
        # active within 120 days, quiet for 10: window [2026-02-01, 2026-05-22).
        churn = churned_readers(s, NOW, active_days=120, quiet_days=10)
    # a: last 05-20; b: 04-01; c: 02-01 12:00; d: 04-20; e: 05-02 -> all five.
    assert [entry.reader_id for entry in churn] == [
        ids["c"], ids["b"], ids["d"], ids["e"], ids["a"]
    ]  # fmt: skip


def test_loyalty_counts_repeat_readers(sessions: sessionmaker[Session]) -> None:
    _build(sessions)
    with sessions.begin() as s:
        result = loyalty(s, NOW, window_days=90)
    # started in [03-03, 06-01): a 2, b 1, d 2, e 1 (c is older, anonymous is nobody)
    assert (result.active_readers, result.repeat_readers, result.conversations) == (4, 2, 6)
    assert result.repeat_share == 0.5  # 2 / 4
    assert result.conversations_per_reader == 1.5  # 6 / 4
