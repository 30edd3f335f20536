"""Catch-up reads Rasa's real tracker-store table and fills what live logging missed."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from crm_store.catchup import catch_up, ingestion_lag, newest_event_id, tracker_events
from crm_store.db import make_engine
from crm_store.models import IngestCheckpoint, Message, QuarantinedEvent
from rasa_plugins.tracker_store import IngestingTrackerStore
from tests.aio import run as aio_run
from worker.jobs._resources import store_sessions, tracker_engine
from worker.jobs.ingest import tail_tracker_store


@pytest.fixture
def tracker_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> IngestingTrackerStore:
    monkeypatch.setenv("RIC_TRACKER_DATABASE_URL", f"sqlite:///{tmp_path / 'tracker.db'}")
    monkeypatch.setenv("RIC_STORE_LOGGING", "off")  # simulate live logging having missed everything
    return IngestingTrackerStore(domain=Domain.empty())


def save_turns(store: IngestingTrackerStore, sender: str, turns: int) -> None:
    tracker = DialogueStateTracker(sender, slots=[])
    for i in range(turns):
        tracker.update(UserUttered(f"question {i}", intent={"name": "greet", "confidence": 1.0}))
        tracker.update(BotUttered(f"answer {i}"))
        aio_run(store.save(tracker))


def message_count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.execute(select(func.count(Message.id))).scalar_one()


def test_catch_up_ingests_everything_once_and_moves_the_checkpoint(
    tracker_store: IngestingTrackerStore, sessions: sessionmaker[Session]
) -> None:
    save_turns(tracker_store, "reader-a", 3)
    save_turns(tracker_store, "reader-b", 2)
    result = catch_up(tracker_store.engine, sessions, batch_size=4)
    assert (result.rows_read, result.events_ingested) == (10, 10)
    assert message_count(sessions) == 10
    again = catch_up(tracker_store.engine, sessions)
    assert again.events_ingested == 0
    with sessions() as session:
        assert session.get(IngestCheckpoint, "tracker_store").position == 10
    assert message_count(sessions) == 10


def test_catch_up_with_empty_tracker_database(
    tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'nothing.db'}")
    assert catch_up(engine, sessions).rows_read == 0


def test_live_logging_writes_the_same_keys_as_catch_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sessions: sessionmaker[Session], store_url: str
) -> None:
    monkeypatch.setenv("RIC_TRACKER_DATABASE_URL", f"sqlite:///{tmp_path / 'live.db'}")
    monkeypatch.setenv("RIC_DATABASE_URL", store_url)
    monkeypatch.setenv("RIC_STORE_LOGGING", "live")
    store = IngestingTrackerStore(domain=Domain.empty())
    save_turns(store, "reader-live", 2)
    assert store.ingester is not None and store.ingester.flush()
    assert message_count(sessions) == 4
    assert catch_up(store.engine, sessions).events_ingested == 0
    store.ingester.close()


# -- issue 12: one message that cannot be ingested must not stop ingestion ----------------

POISON_TEXT = "hello \ud800 open?"  # the widget message: a lone surrogate


def save_poisoned_conversation(store: IngestingTrackerStore, sender: str) -> None:
    """Two good turns, the poisoned message, then three more good turns."""
    tracker = DialogueStateTracker(sender, slots=[])
    for i in range(2):
        tracker.update(UserUttered(f"before {i}", intent={"name": "greet", "confidence": 1.0}))
        tracker.update(BotUttered(f"answer before {i}"))
        aio_run(store.save(tracker))
    tracker.update(UserUttered(POISON_TEXT, intent={"name": "greet", "confidence": 1.0}))
    aio_run(store.save(tracker))
    for i in range(3):
        tracker.update(UserUttered(f"after {i}", intent={"name": "greet", "confidence": 1.0}))
        tracker.update(BotUttered(f"answer after {i}"))
        aio_run(store.save(tracker))


def stored_texts(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return list(
            session.execute(select(Message.text).order_by(Message.sent_at, Message.id)).scalars()
        )


EXPECTED_TEXTS = [
    "before 0", "answer before 0", "before 1", "answer before 1",
    "after 0", "answer after 0", "after 1", "answer after 1", "after 2", "answer after 2",
]  # fmt: skip


def poisoned_row_id(store: IngestingTrackerStore) -> int:
    with store.engine.connect() as connection:
        return connection.execute(
            select(tracker_events.c.id).where(tracker_events.c.data.contains("\\ud800"))
        ).scalar_one()


@pytest.mark.defects
def test_catch_up_quarantines_a_poisoned_event_and_moves_on(
    tracker_store: IngestingTrackerStore,
    sessions: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
) -> None:
    save_poisoned_conversation(tracker_store, "reader-poison")
    newest = newest_event_id(tracker_store.engine)
    with caplog.at_level(logging.WARNING, logger="crm_store.ingestion"):
        result = catch_up(tracker_store.engine, sessions, batch_size=4)
        # The worker's job runs again every 5 s over an overlap: nothing new, no new log.
        again = catch_up(tracker_store.engine, sessions)
    assert (result.rows_read, result.events_ingested, result.events_quarantined) == (11, 10, 1)
    assert result.position == newest
    assert (again.events_ingested, again.events_quarantined) == (0, 0)
    assert stored_texts(sessions) == EXPECTED_TEXTS
    with sessions() as session:
        row = session.execute(select(QuarantinedEvent)).scalar_one()
        assert session.get(IngestCheckpoint, "tracker_store").position == newest
    assert (row.tracker_event_id, row.sender_id, row.type_name, row.source) == (
        poisoned_row_id(tracker_store), "reader-poison", "user", "catchup",
    )  # fmt: skip
    assert row.error.startswith("UnicodeEncodeError")
    assert "hello" not in row.error
    lag = ingestion_lag(tracker_store.engine, sessions, datetime.now(timezone.utc))
    assert (lag.events_behind, lag.seconds_behind, lag.quarantined) == (0, 0.0, 1)
    assert (lag.tracker_position, lag.store_position) == (newest, newest)
    assert sum("quarantined tracker event" in r.getMessage() for r in caplog.records) == 1


@pytest.mark.defects
def test_catch_up_quarantines_a_row_that_is_not_json(
    tracker_store: IngestingTrackerStore, sessions: sessionmaker[Session]
) -> None:
    save_turns(tracker_store, "reader-a", 1)
    with tracker_store.engine.begin() as connection:
        connection.execute(
            tracker_events.insert().values(sender_id="reader-a", type_name="user", data="{oops")
        )
    save_turns(tracker_store, "reader-b", 1)
    result = catch_up(tracker_store.engine, sessions)
    assert (result.rows_read, result.events_ingested, result.events_quarantined) == (5, 4, 1)
    assert message_count(sessions) == 4
    with sessions() as session:
        row = session.execute(select(QuarantinedEvent)).scalar_one()
    assert (row.tracker_event_id, row.type_name) == (3, "user")
    assert row.error.startswith("JSONDecodeError")


@pytest.mark.defects
def test_the_tail_loop_keeps_ingesting_after_a_poisoned_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store_url: str, sessions: sessionmaker[Session]
) -> None:
    # The worker's tailing thread, as it runs in production: before issue 12 it died on
    # the poisoned event and nothing after it reached the reader store.
    monkeypatch.setenv("RIC_TRACKER_DATABASE_URL", f"sqlite:///{tmp_path / 'tail.db'}")
    monkeypatch.setenv("RIC_DATABASE_URL", store_url)
    monkeypatch.setenv("RIC_STORE_LOGGING", "off")
    store_sessions.cache_clear()
    tracker_engine.cache_clear()
    store = IngestingTrackerStore(domain=Domain.empty())
    stop = threading.Event()
    tailer = threading.Thread(target=tail_tracker_store, args=(stop, 0.02), daemon=True)
    tailer.start()
    try:
        save_poisoned_conversation(store, "reader-tail")
        newest = newest_event_id(store.engine)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(stored_texts(sessions)) < 10:
            time.sleep(0.05)
        assert tailer.is_alive()
    finally:
        stop.set()
        tailer.join(10)
        store_sessions().kw["bind"].dispose()
        tracker_engine().dispose()
        store_sessions.cache_clear()
        tracker_engine.cache_clear()
    assert stored_texts(sessions) == EXPECTED_TEXTS
    lag = ingestion_lag(store.engine, sessions, datetime.now(timezone.utc))
    assert (lag.events_behind, lag.quarantined, lag.store_position) == (0, 1, newest)


@pytest.mark.defects
def test_live_logging_quarantines_by_position_and_catch_up_skips_it(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sessions: sessionmaker[Session],
    store_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("RIC_TRACKER_DATABASE_URL", f"sqlite:///{tmp_path / 'live.db'}")
    monkeypatch.setenv("RIC_DATABASE_URL", store_url)
    monkeypatch.setenv("RIC_STORE_LOGGING", "live")
    store = IngestingTrackerStore(domain=Domain.empty())
    assert store.ingester is not None
    with caplog.at_level(logging.WARNING, logger="crm_store.ingestion"):
        save_poisoned_conversation(store, "reader-live-poison")
        # Before issue 12 the writer thread died here and flush() timed out.
        assert store.ingester.flush()
        assert stored_texts(sessions) == EXPECTED_TEXTS
        result = catch_up(store.engine, sessions)
    store.ingester.close()
    assert (result.events_ingested, result.events_quarantined) == (0, 0)
    with sessions() as session:
        row = session.execute(select(QuarantinedEvent)).scalar_one()
    assert (row.tracker_event_id, row.source) == (poisoned_row_id(store), "live")
    assert sum("quarantined tracker event" in r.getMessage() for r in caplog.records) == 1
    lag = ingestion_lag(store.engine, sessions, datetime.now(timezone.utc))
    assert (lag.events_behind, lag.quarantined) == (0, 1)


@pytest.mark.defects
def test_the_tail_loop_logs_a_repeating_failure_once_and_keeps_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # Before issue 12 a database error was logged with its traceback on every pass (ten
    # times a second) and any other error ended the thread.
    monkeypatch.setenv("RIC_TRACKER_DATABASE_URL", f"sqlite:///{tmp_path / 'tail.db'}")
    monkeypatch.setenv("RIC_DATABASE_URL", f"sqlite:///{tmp_path / 'never-migrated.db'}")
    monkeypatch.setenv("RIC_STORE_LOGGING", "off")
    store_sessions.cache_clear()
    tracker_engine.cache_clear()
    store = IngestingTrackerStore(domain=Domain.empty())
    save_turns(store, "reader-x", 1)
    stop = threading.Event()
    tailer = threading.Thread(target=tail_tracker_store, args=(stop, 0.01), daemon=True)
    with caplog.at_level(logging.INFO, logger="worker.jobs.ingest"):
        tailer.start()
        try:
            time.sleep(0.5)  # dozens of failing passes
            assert tailer.is_alive()
        finally:
            stop.set()
            tailer.join(10)
            store_sessions().kw["bind"].dispose()
            tracker_engine().dispose()
            store_sessions.cache_clear()
            tracker_engine.cache_clear()
    failures = [r for r in caplog.records if "tailing the tracker store failed" in r.getMessage()]
    assert len(failures) == 1 and failures[0].exc_info is not None
