"""Key readers' frequency and recency count channel sessions, not Rasa conversations.

Issue 17, item 3 (key readers, an RFM-style segmentation over recency, frequency of
contact and loans): a Telegram chat is one Rasa conversation forever, so a reader who
comes back to it after a silence longer than ``RIC_SESSION_INACTIVITY_MINUTES`` has
started a new conversation, and the frequency must count it. The events go through the
real ingester, which opens the channel sessions.

The store, as of NOW = 2026-06-01 00:00 UTC (value window 365 days, recent 30, lapsed 90,
frequency points: 2 for 2 to 5, 3 for 6 or more):

- ``tg-1`` writes on 04-01 10:00 (``check_fines``) and comes back to the same chat on
  05-01 10:00 (``library_hours``): one Rasa conversation, two sessions, no loans;
- ``web-1`` writes twice on 04-15, five minutes apart: one conversation, one session;
- ``tg-old`` first wrote 400 days before NOW (before the window) and comes back to the
  same chat 10 days before NOW: its Rasa conversation started before the window, its
  second session inside it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy.orm import Session, sessionmaker

from crm_store.reader_snapshot import refresh, value_rows
from crm_store.reader_value import ValueRules, reader_values
from tests.crm_store.test_analytics_channel_sessions import _reader, _visit

NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)
TELEGRAM_FIRST = datetime(2026, 4, 1, 10, tzinfo=timezone.utc)
TELEGRAM_BACK = datetime(2026, 5, 1, 10, tzinfo=timezone.utc)
WEB = datetime(2026, 4, 15, 10, tzinfo=timezone.utc)
OLD_FIRST = NOW - timedelta(days=400)
OLD_BACK = NOW - timedelta(days=10)


def _build(sessions: sessionmaker[Session]) -> dict[str, int]:
    _visit(sessions, "tg-1", "telegram", [(TELEGRAM_FIRST, "check_fines")])
    _visit(
        sessions,
        "web-1",
        "webchat",
        [(WEB, "library_hours"), (WEB + timedelta(minutes=5), "library_location")],
    )
    _visit(sessions, "tg-1", "telegram", [(TELEGRAM_BACK, "library_hours")])
    _visit(sessions, "tg-old", "telegram", [(OLD_FIRST, "search_catalog")])
    _visit(sessions, "tg-old", "telegram", [(OLD_BACK, "search_catalog")])
    return {name: _reader(sessions, sender) for name, sender in _SENDERS.items()}


_SENDERS = {"telegram": "tg-1", "web": "web-1", "old": "tg-old"}


def test_a_returning_telegram_reader_has_frequency_two(sessions: sessionmaker[Session]) -> None:
    ids = _build(sessions)
    with sessions.begin() as s:
        values = reader_values(s, NOW, ValueRules())
    telegram, web = values[ids["telegram"]], values[ids["web"]]
    # Two sessions in one chat: two conversations, 2 frequency points (a Rasa
    # conversation count gives 1 and 1 point), so recent and frequent: loyal.
    assert (telegram.conversations, telegram.loans, telegram.frequency) == (2, 0, 2)
    assert telegram.last_contact_at == TELEGRAM_BACK + timedelta(seconds=2)
    assert (telegram.recency_days, telegram.recency) == (30, 3)
    assert (telegram.services, telegram.segment) == ({"fines", "information"}, "loyal")
    # Web chat is unchanged: two messages five minutes apart are one conversation.
    assert (web.conversations, web.frequency, web.recency_days, web.recency) == (1, 1, 46, 2)
    assert web.segment == "occasional"


def test_a_return_to_a_chat_older_than_the_window_counts(
    sessions: sessionmaker[Session],
) -> None:
    ids = _build(sessions)
    with sessions.begin() as s:
        old = reader_values(s, NOW, ValueRules())[ids["old"]]
    # Only the session inside the window counts; the first contact ever is the old one,
    # so the reader is not "new"; recency is from the latest session.
    assert (old.conversations, old.frequency) == (1, 1)
    assert old.first_contact_at == OLD_FIRST
    assert (old.recency_days, old.recency, old.segment) == (9, 3, "occasional")


def test_the_stored_key_readers_carry_the_session_counts(
    sessions: sessionmaker[Session],
) -> None:
    ids = _build(sessions)
    with sessions.begin() as s:
        refresh(s, NOW)
    with sessions.begin() as s:
        total, rows = value_rows(s, "all")
        stored = {r.reader_id: (r.conversations, r.frequency, r.segment) for r in rows}
    assert total == 3
    assert stored == {
        ids["telegram"]: (2, 2, "loyal"),
        ids["web"]: (1, 1, "occasional"),
        ids["old"]: (1, 1, "occasional"),
    }
    # The Telegram reader ranks first: highest score.
    assert rows[0].reader_id == ids["telegram"]
