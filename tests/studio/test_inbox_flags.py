"""The inbox's stored flags give exactly what scanning the window gives (SQLite, PostgreSQL).

:func:`crm_store.nlu_inbox.scan_inbox_groups` is the computation every request ran
before migration 0013 (every message of the window read); :func:`inbox_groups` reads
``nlu_inbox_flags``, which the worker job and each request keep up to date. Both are
compared on generated conversations (real ingestion of Rasa events), through new
messages in old conversations, later handoffs and ratings, decisions, an erasure and
other thresholds and windows.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from crm_store import clock, nlu_inbox
from crm_store.data_rights.erase import ERASED
from crm_store.db import make_engine, make_session_factory
from crm_store.ingestion import RasaEvent, ingest
from crm_store.migrate import upgrade
from crm_store.models import Feedback, Message
from crm_store.models.studio_inbox import NluInboxFlag, NluInboxFlagState
from crm_store.nlu_inbox import InboxRules, inbox_groups, scan_inbox_groups
from crm_store.nlu_inbox_flags import refresh_flags
from crm_store.nlu_labels import decide
from crm_store.repositories import conversation_of, open_handoff
from tests.studio.inbox_data import bot, fallback, faq, user
from worker.jobs.nlu_inbox_flags import refresh_nlu_inbox_flags
from worker.process import interval_jobs

pytestmark = pytest.mark.studio

WORDS = ["overdue", "fines", "renew", "wifi", "printer", "boxing", "kayak", "card", "what", "the"]
INTENTS = ["opening_hours", "renew_loans", "greet", "request_human", "borrow_ebooks"]
GAPS = [5, 20, 60, 85, 95, 400, 7200]


def _reader_event(rnd: random.Random) -> dict[str, Any]:
    text = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(1, 4)))
    if rnd.random() < 0.05:
        return user("/restart", "restart", 1.0)
    if rnd.random() < 0.25:
        return fallback(text, rnd.choice(INTENTS), rnd.uniform(0.1, 0.6))
    if rnd.random() < 0.4:
        return faq(text, rnd.choice(["fines", "wifi", "pets"]), rnd.uniform(0.2, 1.0))
    return user(text, rnd.choice(INTENTS), rnd.uniform(0.2, 1.0))


def _conversation(rnd: random.Random, start: float) -> list[dict[str, Any]]:
    events, at = [], start
    for _ in range(rnd.randint(2, 9)):
        kind = rnd.random()
        body = _reader_event(rnd) if kind < 0.55 else bot("An answer.")
        events.append({**body, "timestamp": at})
        at += rnd.choice(GAPS)
    return events


def _ingest(sessions: sessionmaker[Session], sender: str, events: list[dict[str, Any]]) -> None:
    with sessions.begin() as session:
        ingest(session, [RasaEvent(sender, {**e, "input_channel": "webchat"}) for e in events], "t")


def _events_after(sessions: sessionmaker[Session], rnd: random.Random, senders: list[str]) -> None:
    """Handoffs and ratings at a random moment of some conversations."""
    with sessions.begin() as session:
        for sender in senders:
            conversation = conversation_of(session, sender)
            assert conversation is not None
            first, last = session.execute(
                select(func.min(Message.sent_at), func.max(Message.sent_at)).where(
                    Message.conversation_id == conversation.id
                )
            ).one()
            at = first + (last - first) * rnd.random() + timedelta(seconds=1)
            if rnd.random() < 0.5:
                handoff, _ = open_handoff(session, sender_id=sender, channel="webchat", reason="x")
                handoff.requested_at = at
            else:
                session.add(
                    Feedback(
                        conversation_id=conversation.id, rating=rnd.randint(1, 5), created_at=at
                    )
                )


def generate(sessions: sessionmaker[Session], seed: int, count: int, now: datetime) -> list[str]:
    """``count`` conversations over the last 40 days, with handoffs and ratings; the senders."""
    rnd = random.Random(seed)
    senders = []
    for _ in range(count):
        sender = f"gen-{uuid.uuid4().hex[:12]}"
        start = (now - timedelta(days=rnd.uniform(0, 40))).timestamp()
        _ingest(sessions, sender, _conversation(rnd, start))
        senders.append(sender)
    _events_after(sessions, rnd, rnd.sample(senders, count // 3))
    return senders


def _json(groups: list[Any]) -> list[dict[str, Any]]:
    return [group.as_json() for group in groups]


def assert_same(sessions: sessionmaker[Session], rules: InboxRules, commit: bool = False) -> int:
    """Both computations give the same groups; returns the messages listed."""
    with sessions() as session:
        fast = _json(inbox_groups(session, rules, limit=1000))
        if commit:
            session.commit()
    with sessions() as session:
        reference = _json(scan_inbox_groups(session, rules, limit=1000))
    assert fast == reference
    return sum(group["size"] for group in fast)


def test_flags_equal_the_scan_through_new_data_decisions_and_erasure(
    sessions: sessionmaker[Session],
) -> None:
    now = clock.now()
    window = InboxRules(since=now - timedelta(days=30))
    senders = generate(sessions, seed=16, count=60, now=now)
    assert refresh_nlu_inbox_flags(sessions) > 0
    listed = assert_same(sessions, window)
    assert listed > 20
    with sessions() as session:
        stored = session.execute(select(func.count()).select_from(NluInboxFlag)).scalar_one()
    assert stored >= listed

    # New messages in old conversations, new conversations, later handoffs and ratings:
    # a request sees them before the worker ran (and, like the API, commits its catch-up).
    rnd = random.Random(17)
    for sender in rnd.sample(senders, 10):
        _ingest(sessions, sender, _conversation(rnd, (now - timedelta(days=2)).timestamp()))
    senders += generate(sessions, seed=18, count=15, now=now)
    assert_same(sessions, window, commit=True)
    assert refresh_nlu_inbox_flags(sessions) == 0
    # The same through the worker job first.
    for sender in rnd.sample(senders, 10):
        _ingest(sessions, sender, _conversation(rnd, (now - timedelta(days=1)).timestamp()))
    _events_after(sessions, rnd, rnd.sample(senders, 10))
    assert refresh_nlu_inbox_flags(sessions) > 0
    assert refresh_nlu_inbox_flags(sessions) == 0
    assert_same(sessions, window)

    # Other windows and thresholds (the thresholds rebuild the flags).
    assert_same(sessions, InboxRules(since=now - timedelta(days=5)))
    other = InboxRules(since=now - timedelta(days=38), low_confidence=0.8, rephrase_seconds=100)
    assert_same(sessions, other, commit=True)
    assert_same(sessions, InboxRules(since=now - timedelta(days=38), low_rating=3))

    # A decision takes its messages out at once, before any refresh.
    with sessions() as session:
        shown = [g.as_json()["message_ids"] for g in inbox_groups(session, window)]
    decided = shown[0] + shown[-1]
    with sessions.begin() as session:
        decide(session, decided, "dismissed", None, None)
    with sessions() as session:
        left = {i for g in inbox_groups(session, window) for i in g.as_json()["message_ids"]}
    assert left and not left & set(decided)
    assert_same(sessions, window)

    # An erasure rewrites the texts: the stored masked texts are not shown any more.
    with sessions() as session:
        item = inbox_groups(session, window)[0].items[0]
        conversation_id = session.get(Message, item.message_id).conversation_id  # type: ignore[union-attr]
    with sessions.begin() as session:
        session.execute(
            update(Message).where(Message.conversation_id == conversation_id).values(text=ERASED)
        )
    refresh_nlu_inbox_flags(sessions)  # the worker, before any request
    with sessions() as session:
        texts = session.scalars(
            select(NluInboxFlag.text).where(NluInboxFlag.conversation_id == conversation_id)
        ).all()
    assert texts and set(texts) == {ERASED}
    assert_same(sessions, window, commit=True)


def test_the_worker_job_is_scheduled_and_rebuilds_a_day_later(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (refresh_nlu_inbox_flags, 60) in interval_jobs()
    now = clock.now()
    generate(sessions, seed=3, count=12, now=now)
    refresh_nlu_inbox_flags(sessions)
    assert refresh_nlu_inbox_flags(sessions) == 0
    monkeypatch.setattr(clock, "now", lambda: now + timedelta(days=1, minutes=1))
    assert refresh_nlu_inbox_flags(sessions) == -1
    with sessions() as session:
        state = session.get(NluInboxFlagState, 1)
        assert state is not None and state.refreshed_at > now + timedelta(days=1)
    monkeypatch.setattr(clock, "now", lambda: now)
    assert_same(sessions, InboxRules(since=now - timedelta(days=30)))


def test_migration_0013_flags_the_messages_already_stored(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    upgrade(url, "0012")
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    now = clock.now()
    generate(sessions, seed=13, count=20, now=now)
    upgrade(url)
    with sessions() as session:
        state = session.get(NluInboxFlagState, 1)
        stored = session.execute(select(func.count()).select_from(NluInboxFlag)).scalar_one()
        assert state is not None and state.last_message_id > 0 and stored > 0
        window = InboxRules(since=clock.now() - timedelta(days=30))
        assert refresh_flags(session, window) == 0  # nothing to catch up with
    assert assert_same(sessions, window) > 0
    engine.dispose()


def test_a_request_that_cannot_write_the_flags_scans_the_window(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    now = clock.now()
    generate(sessions, seed=5, count=15, now=now)
    window = InboxRules(since=now - timedelta(days=30))

    def conflict(session: Session, rules: InboxRules) -> int:
        session.add(NluInboxFlagState(id=1))  # what another request's row does to a flush
        session.flush()
        return 0

    monkeypatch.setattr(nlu_inbox, "refresh_flags", conflict)
    with sessions() as session:
        groups = _json(inbox_groups(session, window))
        reference = _json(scan_inbox_groups(session, window))
    assert groups and groups == reference
