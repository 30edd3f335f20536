"""Catch-up reads Rasa's real tracker-store table and fills what live logging missed."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from crm_store.catchup import catch_up
from crm_store.db import make_engine
from crm_store.models import IngestCheckpoint, Message
from crm_store.tracker_store import IngestingTrackerStore
from tests.aio import run as aio_run


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
