"""Daily figures on a fixed, hand-built store; every expected number is worked out by hand.

The day under test is Tuesday 2026-03-10 (UTC). Staffed chat hours in these tests are
Monday to Friday, 09:00-17:00 UTC.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_store.ingestion import RasaEvent, ingest
from crm_store.models import (
    Conversation,
    ConversationStatus,
    Direction,
    Feedback,
    Handoff,
    HandoffStatus,
    Message,
    RawEvent,
    Reader,
    SenderKind,
)
from crm_store.models.operations import DailyMetric, Survey
from crm_store.sessions import resplit
from library.profile import (
    OpeningTimes,
    clear_profile_cache,
    default_profile_path,
    load_profile,
)
from library.staffed_time import (
    StaffedHours,
    staffed_hours_from_profile,
    staffed_seconds,
)
from worker.analytics.metrics import compute_day, store_day
from worker.analytics.settings import AnalyticsSettings

DAY = date(2026, 3, 10)
NINE_TO_FIVE = OpeningTimes(time(9), time(17))
HOURS = StaffedHours(timezone.utc, (NINE_TO_FIVE,) * 5 + (None, None))
_keys = itertools.count(1)


def at(day_offset: int, hh: int, mm: int = 0, ss: int = 0) -> datetime:
    """A UTC time on DAY + day_offset."""
    return datetime.combine(DAY + timedelta(days=day_offset), time(hh, mm, ss), timezone.utc)


def conversation(
    session: Session, channel: str, reader: Reader | None, started: datetime, name: str
) -> Conversation:
    """A conversation row (its sender id is ``name``)."""
    row = Conversation(
        sender_id=name,
        channel=channel,
        reader_id=reader.id if reader else None,
        status=ConversationStatus.ACTIVE,
        started_at=started,
        last_activity_at=started,
    )
    session.add(row)
    session.flush()
    return row


def message(
    session: Session,
    conv: Conversation,
    when: datetime,
    text: str,
    intent: str | None = None,
    kind: SenderKind = SenderKind.READER,
) -> Message:
    """A message in ``conv``; reader messages come in, the rest go out."""
    row = Message(
        event_key=f"k{next(_keys)}",
        conversation_id=conv.id,
        direction=Direction.INBOUND if kind == SenderKind.READER else Direction.OUTBOUND,
        sender_kind=kind,
        text=text,
        intent=intent,
        channel=conv.channel,
        sent_at=when,
    )
    session.add(row)
    if when > conv.last_activity_at:
        conv.last_activity_at = when
    session.flush()
    return row


def action_event(session: Session, conv: Conversation, when: datetime, name: str) -> None:
    """A raw Rasa ``action`` event, as ingestion stores it."""
    session.add(
        RawEvent(
            event_key=f"k{next(_keys)}",
            sender_id=conv.sender_id,
            type_name="action",
            timestamp=when.timestamp(),
            body={"event": "action", "name": name, "timestamp": when.timestamp()},
            source="test",
        )
    )


def build_store(sessions: sessionmaker[Session]) -> dict[str, Any]:
    """The fixed data set of the day under test (see the module docstring of each figure)."""
    with sessions.begin() as s:
        r1, r2, r3, r4, r5 = (Reader(created_at=at(-30, 8)) for _ in range(5))
        s.add_all([r1, r2, r3, r4, r5])
        s.flush()
        # C1 webchat, bot only, R1 never returns: contained.
        c1 = conversation(s, "webchat", r1, at(0, 9), "c1")
        message(s, c1, at(0, 9), "when do you open", "library_hours")
        message(s, c1, at(0, 9, 1), "what about the wifi password", "nlu_fallback")
        # C2 webchat, bot only, but R2 comes back on day +3 (C6): not contained.
        c2 = conversation(s, "webchat", r2, at(0, 10), "c2")
        message(s, c2, at(0, 10), "can I borrow a telescope", "search_catalog")
        action_event(s, c2, at(0, 10, 0, 2), "action_default_fallback")
        c6 = conversation(s, "webchat", r2, at(3, 15), "c6")
        message(s, c6, at(3, 15), "is the telescope back", "search_catalog")
        # C3 webchat: handoff 11:05, first librarian message 11:15, resolved 11:45, rated 5.
        c3 = conversation(s, "webchat", r3, at(0, 11), "c3")
        message(s, c3, at(0, 11, 4), "my card is blocked", "out_of_scope")
        message(s, c3, at(0, 11, 5), "talk to a human", "request_human")
        message(s, c3, at(0, 11, 15), "Hello, I can help.", None, SenderKind.LIBRARIAN)
        s.add(
            Handoff(
                conversation_id=c3.id,
                reason="reader asked",
                status=HandoffStatus.RESOLVED,
                requested_at=at(0, 11, 5),
                resolved_at=at(0, 11, 45),
            )
        )
        good = Feedback(
            conversation_id=c3.id, rating=5, comment="Great help, thank you!", created_at=at(0, 12)
        )
        s.add(good)
        # C4 telegram: handoff at 16:50, answered Wednesday 09:10, resolved 09:30.
        c4 = conversation(s, "telegram", r4, at(0, 16, 50), "c4")
        message(s, c4, at(0, 16, 49), "question about fines", "check_fines")
        message(s, c4, at(0, 16, 50), "please a librarian", "request_human")
        message(s, c4, at(1, 9, 20), "thanks", "thank")
        s.add(
            Handoff(
                conversation_id=c4.id,
                reason="reader asked",
                status=HandoffStatus.RESOLVED,
                requested_at=at(0, 16, 50),
                first_response_at=at(1, 9, 10),
                resolved_at=at(1, 9, 30),
            )
        )
        s.add(Feedback(conversation_id=c4.id, rating=2, comment="slow", created_at=at(1, 10)))
        # C5 telegram: bot only, but rated 1: not contained.
        c5 = conversation(s, "telegram", r5, at(0, 13), "c5")
        message(s, c5, at(0, 13), "asdfgh", "nlu_fallback")
        action_event(s, c5, at(0, 13, 0, 1), "action_clarify")
        s.add(
            Feedback(
                conversation_id=c5.id,
                rating=1,
                comment="terrible, the bot was useless",
                created_at=at(0, 13, 30),
            )
        )
        # C7 telegram, anonymous: handoff at 14:00, abandoned, never answered.
        c7 = conversation(s, "telegram", None, at(0, 14), "c7")
        message(s, c7, at(0, 14), "hello", "greet")
        s.add(
            Handoff(
                conversation_id=c7.id,
                reason="reader asked",
                status=HandoffStatus.ABANDONED,
                requested_at=at(0, 14),
            )
        )
        # Feedback without a conversation (channel unknown), no comment.
        s.add(Feedback(rating=4, created_at=at(0, 18)))
        s.flush()
        # Surveys: C1's sent today and unanswered, C3's sent today and answered,
        # C4's sent tomorrow.
        for conv, sent, answer in (
            (c1, at(0, 10), None),
            (c3, at(0, 12), good),
            (c4, at(1, 10), None),
        ):
            s.add(
                Survey(
                    conversation_id=conv.id,
                    resolved_by="bot",
                    resolved_at=sent,
                    scheduled_at=sent,
                    status="answered" if answer else "sent",
                    sent_at=sent,
                    feedback_id=answer.id if answer else None,
                )
            )
        # The channel sessions ingestion would have opened (the figures count them).
        resplit(s, [c.id for c in s.execute(select(Conversation)).scalars()])
    return {"readers": [r1.id, r2.id, r3.id, r4.id, r5.id]}


def test_staffed_seconds_skip_nights_and_weekends() -> None:
    # Friday 16:55 -> Monday 09:05: 5 min on Friday + 5 min on Monday = 600 s.
    friday = datetime(2026, 3, 13, 16, 55, tzinfo=timezone.utc)
    monday = datetime(2026, 3, 16, 9, 5, tzinfo=timezone.utc)
    assert staffed_seconds(HOURS, friday, monday) == 600.0
    # Entirely on a Sunday: nothing.
    sunday = datetime(2026, 3, 15, 10, tzinfo=timezone.utc)
    assert staffed_seconds(HOURS, sunday, sunday + timedelta(hours=3)) == 0.0
    # 08:00 -> 10:00 on a Tuesday: only 09:00-10:00 counts.
    assert staffed_seconds(HOURS, at(0, 8), at(0, 10)) == 3600.0


def test_staffed_hours_honour_closures_for_every_branch() -> None:
    closed = StaffedHours(timezone.utc, HOURS.weekly, frozenset({DAY}))
    # Tuesday closed: 16:00 Tuesday -> 10:00 Wednesday counts only Wednesday 09-10.
    assert staffed_seconds(closed, at(0, 16), at(1, 10)) == 3600.0
    early = StaffedHours(timezone.utc, HOURS.weekly, early_close=((DAY, time(12)),))
    # Early closing at 12:00: 11:00 -> 13:00 counts 11-12.
    assert staffed_seconds(early, at(0, 11), at(0, 13)) == 3600.0


def _rows(sessions: sessionmaker[Session], day: date) -> dict[str, DailyMetric]:
    with sessions.begin() as s:
        rows = s.execute(select(DailyMetric).where(DailyMetric.day == day)).scalars().all()
        return {row.channel: row for row in rows}


EXPECTED: dict[str, dict[str, object]] = {
    "webchat": {
        "conversations": 3,  # C1, C2, C3
        "contained_conversations": 1,  # C1 (C2 returned as C6 on day +3, C3 was handed off)
        "handoff_conversations": 1,  # C3
        "handoffs": 1,
        "abandoned_handoffs": 0,
        "responded_handoffs": 1,
        "first_response_seconds_sum": 600.0,  # 11:05 -> 11:15, all staffed
        "first_response_seconds_median": 600.0,
        "resolved_handoffs": 1,
        "resolution_seconds_sum": 2400.0,  # 11:05 -> 11:45
        "resolution_seconds_median": 2400.0,
        "ratings": 1,  # C3's 5
        "positive_ratings": 1,
        "rating_sum": 5,
        "surveys_sent": 2,  # C1's and C3's
        "surveys_answered": 1,  # C3's
        "reader_messages": 5,  # C1: 2, C2: 1, C3: 2
        "fallback_messages": 2,  # C1 by intent, C2 by action_default_fallback
        "comments": 1,
        "positive_comments": 1,
        "negative_comments": 0,
    },
    "telegram": {
        "conversations": 3,  # C4, C5, C7
        "contained_conversations": 0,  # C4, C7 handed off; C5 rated 1
        "handoff_conversations": 2,  # C4, C7
        "handoffs": 2,
        "abandoned_handoffs": 1,  # C7
        "responded_handoffs": 1,  # C4
        # C4: 16:50 -> 17:00 Tuesday (600 s) + 09:00 -> 09:10 Wednesday (600 s) = 1200 s
        "first_response_seconds_sum": 1200.0,
        "first_response_seconds_median": 1200.0,
        "resolved_handoffs": 1,
        "resolution_seconds_sum": 60000.0,  # 16:50 -> 09:30 next day = 16 h 40 min
        "resolution_seconds_median": 60000.0,
        "ratings": 1,  # C5's 1 (C4's 2 was given on day +1)
        "positive_ratings": 0,
        "rating_sum": 1,
        "surveys_sent": 0,  # C4's was sent on day +1
        "surveys_answered": 0,
        "reader_messages": 4,  # C4: 2 today (1 tomorrow), C5: 1, C7: 1
        "fallback_messages": 1,  # C5, counted once although action_clarify also ran
        "comments": 1,
        "positive_comments": 0,
        "negative_comments": 1,
    },
    "unknown": {
        "conversations": 0,
        "ratings": 1,  # feedback without a conversation
        "positive_ratings": 1,
        "rating_sum": 4,
        "comments": 0,
    },
    "all": {
        "conversations": 6,  # 3 + 3
        "contained_conversations": 1,
        "handoff_conversations": 3,  # 1 + 2
        "handoffs": 3,
        "abandoned_handoffs": 1,
        "responded_handoffs": 2,
        "first_response_seconds_sum": 1800.0,  # 600 + 1200
        "first_response_seconds_median": 900.0,  # (600 + 1200) / 2
        "resolved_handoffs": 2,
        "resolution_seconds_sum": 62400.0,  # 2400 + 60000
        "resolution_seconds_median": 31200.0,  # (2400 + 60000) / 2
        "ratings": 3,  # 5, 1, 4
        "positive_ratings": 2,  # 5 and 4: CSAT 2/3
        "rating_sum": 10,
        "surveys_sent": 2,
        "surveys_answered": 1,  # response rate 1/2
        "reader_messages": 9,  # 5 + 4
        "fallback_messages": 3,  # 2 + 1: fallback rate 3/9
        "comments": 2,
        "positive_comments": 1,
        "negative_comments": 1,
    },
}


def test_daily_figures_match_hand_computed_values(sessions: sessionmaker[Session]) -> None:
    build_store(sessions)
    computed_at = at(9, 3)  # day + 9: the 7-day return window has closed
    with sessions.begin() as s:
        store_day(s, DAY, compute_day(s, DAY, HOURS), computed_at)
    rows = _rows(sessions, DAY)
    assert set(rows) == {"webchat", "telegram", "unknown", "all"}
    for channel, expected in EXPECTED.items():
        actual = {name: getattr(rows[channel], name) for name in expected}
        assert actual == expected, channel
    assert all(row.complete for row in rows.values())
    # Sentiment: the positive comment scores above zero, the negative one below.
    assert rows["webchat"].sentiment_sum > 0.05
    assert rows["telegram"].sentiment_sum < -0.05


def test_rerunning_a_day_replaces_its_rows(sessions: sessionmaker[Session]) -> None:
    build_store(sessions)
    with sessions.begin() as s:
        store_day(s, DAY, compute_day(s, DAY, HOURS), at(1, 3))
    first = {
        c: (r.conversations, r.contained_conversations) for c, r in _rows(sessions, DAY).items()
    }
    assert first["all"] == (6, 1)
    assert not _rows(sessions, DAY)["all"].complete  # computed a day later: provisional
    with sessions.begin() as s:
        store_day(s, DAY, compute_day(s, DAY, HOURS), at(9, 3))
    rows = _rows(sessions, DAY)
    assert {c: (r.conversations, r.contained_conversations) for c, r in rows.items()} == first
    with sessions.begin() as s:
        total = len(s.execute(select(DailyMetric)).scalars().all())
    assert total == 4  # webchat, telegram, unknown, all: no duplicates


def test_a_day_without_activity_has_a_zero_row(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        store_day(s, DAY, compute_day(s, DAY, HOURS), at(1, 3))
    rows = _rows(sessions, DAY)
    assert list(rows) == ["all"]
    assert (rows["all"].conversations, rows["all"].ratings) == (0, 0)


def test_settings_reject_inconsistent_churn_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIC_CHURN_ACTIVE_DAYS", "30")
    monkeypatch.setenv("RIC_CHURN_QUIET_DAYS", "30")
    with pytest.raises(ValueError, match="RIC_CHURN_QUIET_DAYS"):
        AnalyticsSettings.from_env()


def test_fallbacks_of_events_stored_by_ingestion(sessions: sessionmaker[Session]) -> None:
    """Rasa events as the tracker store serialises them, stored by the real ingester."""
    t0 = at(0, 15).timestamp()

    def user(text: str, intent: str, offset: float) -> RasaEvent:
        return RasaEvent(
            "ingested",
            {
                "event": "user",
                "text": text,
                "timestamp": t0 + offset,
                "input_channel": "telegram",
                "parse_data": {"intent": {"name": intent, "confidence": 0.5}},
            },
        )

    def action(name: str, offset: float) -> RasaEvent:
        return RasaEvent("ingested", {"event": "action", "name": name, "timestamp": t0 + offset})

    def bot(text: str, offset: float) -> RasaEvent:
        return RasaEvent("ingested", {"event": "bot", "text": text, "timestamp": t0 + offset})

    events = [
        user("hello", "greet", 0), action("utter_greet", 0.1), bot("Hi!", 0.2),
        user("blorp the flumph", "faq", 10), action("action_default_fallback", 10.1),
        bot("Sorry, I did not get that.", 10.2),
        user("zzz", "nlu_fallback", 20), action("action_clarify", 20.1), bot("Did you mean", 20.2),
        user("opening hours", "library_hours", 30), action("action_hours", 30.1),
        bot("We open at 9.", 30.2),
    ]  # fmt: skip
    with sessions.begin() as s:
        assert ingest(s, events, "test") == len(events)
    with sessions.begin() as s:
        figures = compute_day(s, DAY, HOURS)
    telegram = figures["telegram"]
    # 4 reader messages; "blorp the flumph" (action_default_fallback) and "zzz"
    # (nlu_fallback, followed by action_clarify: counted once) fell back.
    assert (telegram.reader_messages, telegram.fallback_messages) == (4, 2)
    # One bot-only conversation, no handoff, no rating, no return: contained.
    assert (telegram.conversations, telegram.contained_conversations) == (1, 1)


def test_staffed_hours_of_the_shipped_library_profile() -> None:
    """bot/library_profile.yml: Europe/London; Mon-Thu 09-19, Fri 09-17, Sat 10-16, Sun closed."""
    clear_profile_cache()
    hours = staffed_hours_from_profile(load_profile(default_profile_path()))
    # Friday 2026-03-13 16:55 GMT -> Monday 09:05: Friday 5 min + Saturday 6 h + Monday 5 min
    # = 300 + 21600 + 300 = 22200 s.
    friday = datetime(2026, 3, 13, 16, 55, tzinfo=timezone.utc)
    assert staffed_seconds(hours, friday, datetime(2026, 3, 16, 9, 5, tzinfo=timezone.utc)) == 22200
    # Summer time (BST = UTC+1): Wednesday 2026-07-01 17:30 UTC is 18:30 local, the chat
    # closes at 19:00 local: 30 min that day, then Thursday 09:00-09:10 local: 2400 s.
    evening = datetime(2026, 7, 1, 17, 30, tzinfo=timezone.utc)
    assert staffed_seconds(hours, evening, datetime(2026, 7, 2, 8, 10, tzinfo=timezone.utc)) == 2400
    # Christmas Eve closes early at 14:00 (all branches); Christmas Day and Boxing Day
    # (a Saturday) are closed; Sunday is closed; Monday 28th is the substitute holiday.
    # Thursday 24th 13:00 -> Tuesday 29th 09:30: 1 h + 30 min = 5400 s.
    eve = datetime(2026, 12, 24, 13, tzinfo=timezone.utc)
    assert staffed_seconds(hours, eve, datetime(2026, 12, 29, 9, 30, tzinfo=timezone.utc)) == 5400


def test_a_returning_telegram_reader_is_a_return(sessions: sessionmaker[Session]) -> None:
    """One Telegram chat (one Rasa conversation forever) with a silence of two days.

    Counted as the dashboard counts: two channel sessions, so the first one's reader came
    back within the return window and it is not contained; each day has one conversation.
    """
    with sessions.begin() as s:
        reader = Reader(created_at=at(-30, 8))
        s.add(reader)
        s.flush()
        chat = conversation(s, "telegram", reader, at(0, 10), "tg-chat")
        message(s, chat, at(0, 10), "when do you open", "library_hours")
        message(s, chat, at(2, 10), "can I renew my loan", "renew_loan")
        resplit(s, [chat.id])
    with sessions.begin() as s:
        today = compute_day(s, DAY, HOURS)["telegram"]
        later = compute_day(s, DAY + timedelta(days=2), HOURS)["telegram"]
    assert (today.conversations, today.contained_conversations) == (1, 0)
    assert (later.conversations, later.contained_conversations) == (1, 1)
