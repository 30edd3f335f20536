"""Retention covers every store, each with its own period (issue 18, item 6).

The worker's nightly job runs against a real SQL tracker store (Rasa's, through
``IngestingTrackerStore``), a migrated reader store (SQLite and PostgreSQL) and a log
folder, with the clock standing at NOW.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import insert, select

from crm_store import clock
from crm_store.catchup import OVERLAP_ROWS, catch_up, tracker_events
from crm_store.data_rights.tracker import MASK_CHECKPOINT, mask_old_cards, read_events
from crm_store.models import ChannelIdentity, EmailOutboxEntry, IngestCheckpoint, Reader
from crm_store.models.operations import EmailMessage
from rasa_plugins.tracker_store import IngestingTrackerStore
from ric_config import SettingsError
from ric_config.trust import PrivacyConfig
from tests.aio import run as aio_run
from worker.jobs._resources import store_sessions
from worker.jobs.retention import anonymise_old_transcripts

pytestmark = pytest.mark.trust

NOW = datetime(2027, 6, 1, 3, tzinfo=timezone.utc)
CARD = "21234000123456"


@pytest.fixture
def stores(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[IngestingTrackerStore]:
    """The job's reader store is ``store_url``, its tracker store and var folder in tmp."""
    monkeypatch.setenv("RIC_DATABASE_URL", store_url)
    monkeypatch.setenv("RIC_TRACKER_DATABASE_URL", f"sqlite:///{tmp_path / 'tracker.db'}")
    monkeypatch.setenv("RIC_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("RIC_STORE_LOGGING", "off")
    monkeypatch.setenv("RIC_RETENTION_TRACKER_DAYS", "30")
    monkeypatch.setenv("RIC_RETENTION_IDENTITY_DAYS", "200")
    monkeypatch.setenv("RIC_RETENTION_EMAIL_THREAD_DAYS", "60")
    monkeypatch.setenv("RIC_RETENTION_LOG_DAYS", "7")
    store_sessions.cache_clear()
    previous = clock.install(clock.TravelClock(NOW))
    yield IngestingTrackerStore(domain=Domain.empty())
    clock.install(previous)
    store_sessions().kw["bind"].dispose()
    store_sessions.cache_clear()


def converse(store: IngestingTrackerStore, sender: str, when: datetime) -> None:
    tracker = DialogueStateTracker(sender, slots=[])
    stamp = when.timestamp()
    tracker.update(UserUttered("hello", intent={"name": "greet"}, timestamp=stamp))
    tracker.update(BotUttered("Hi!", timestamp=stamp + 1))
    aio_run(store.save(tracker))


def write_log(folder: Path, name: str, age: timedelta) -> Path:
    path = folder / name
    path.write_text("a log line\n")
    stamp = (NOW - age).timestamp()
    os.utime(path, (stamp, stamp))
    return path


def test_each_store_keeps_data_for_its_own_period(stores: IngestingTrackerStore) -> None:
    converse(stores, "web-idle", NOW - timedelta(days=31))
    converse(stores, "web-recent", NOW - timedelta(days=29))
    sessions = store_sessions()
    catch_up(stores.engine, sessions)
    with sessions.begin() as session:
        reader = Reader(display_name="Kept Reader", created_at=NOW - timedelta(days=500))
        session.add(reader)
        session.flush()
        reader_id = reader.id
        for external_id, seen in [("tg-old", 201), ("tg-new", 199)]:
            session.add(
                ChannelIdentity(
                    reader_id=reader.id,
                    channel="telegram",
                    external_id=external_id,
                    created_at=NOW - timedelta(days=400),
                    last_seen_at=NOW - timedelta(days=seen),
                )
            )
        for message_id, age in [("<old@x>", 61), ("<new@x>", 59)]:
            session.add(
                EmailMessage(
                    message_id=message_id,
                    sender_id="email:abc",
                    direction="in",
                    address="reader@example.org",
                    created_at=NOW - timedelta(days=age),
                )
            )
        for message_id, status, age in [
            ("<sent-old@l>", "sent", 61),
            ("<expired-old@l>", "expired", 61),
            ("<pending-old@l>", "pending", 61),
            ("<sent-new@l>", "sent", 59),
        ]:
            session.add(
                EmailOutboxEntry(
                    message_id=message_id,
                    sender_id="email:abc",
                    to_address="reader@example.org",
                    mail="To: reader@example.org\n\nHello",
                    status=status,
                    created_at=NOW - timedelta(days=age),
                    expires_at=NOW,
                )
            )
    logs = Path(os.environ["RIC_VAR_DIR"]) / "log"
    logs.mkdir(parents=True)
    write_log(logs, "rasa.log", timedelta(days=40))  # the live log: never removed
    old_rotated = write_log(logs, "rasa.log.1", timedelta(days=8))
    write_log(logs, "rasa.log.2", timedelta(days=6))

    summary = anonymise_old_transcripts()

    assert summary["stores"]["periods"] == {
        "tracker_store": 30,
        "identities": 200,
        "email_threads": 60,
        "logs": 7,
    }
    assert summary["stores"]["counts"] == {
        "tracker_events": 2,
        "tracker_cards_masked": 0,
        "identities": 1,
        "email_threads": 1,
        "email_outbox": 2,
        "question_clusters": 0,
        "log_files": 1,
    }
    events = read_events(stores.engine, ["web-idle", "web-recent"])
    assert (len(events["web-idle"]), len(events["web-recent"])) == (0, 2)
    with sessions() as session:
        assert set(session.execute(select(ChannelIdentity.external_id)).scalars()) == {"tg-new"}
        assert set(session.execute(select(EmailMessage.message_id)).scalars()) == {"<new@x>"}
        kept = set(session.execute(select(EmailOutboxEntry.message_id)).scalars())
        assert kept == {"<pending-old@l>", "<sent-new@l>"}
        assert session.get(Reader, reader_id) is not None  # the record (and figures) stay
    assert sorted(p.name for p in logs.iterdir()) == ["rasa.log", "rasa.log.2"]
    assert not old_rotated.exists()
    again = anonymise_old_transcripts()["stores"]["counts"]
    assert set(again.values()) == {0}


def test_card_numbers_in_rows_saved_before_masking_are_masked_once_copied(
    stores: IngestingTrackerStore,
) -> None:
    """Legacy rows (written before cards were masked on save) are masked, once, after
    the catch-up has passed them by more than its re-read overlap."""
    rows = 1 + OVERLAP_ROWS
    with stores.engine.begin() as connection:
        connection.execute(
            insert(tracker_events),
            [
                {
                    "sender_id": "web-legacy",
                    "type_name": "user",
                    "timestamp": float(n),
                    "data": json.dumps(
                        {"event": "user", "timestamp": float(n), "text": f"card {CARD} no {n}"}
                    ),
                }
                for n in range(1, rows + 1)
            ],
        )
    sessions = store_sessions()
    assert catch_up(stores.engine, sessions).events_ingested == rows
    with sessions.begin() as session:
        assert mask_old_cards(stores.engine, session) == 1  # only row 1 is past the overlap
    with sessions.begin() as session:
        assert session.get(IngestCheckpoint, MASK_CHECKPOINT).position == 1
        assert mask_old_cards(stores.engine, session) == 0  # done once
    texts = [e["text"] for e in read_events(stores.engine, ["web-legacy"])["web-legacy"]]
    assert texts[:2] == ["card **********3456 no 1", f"card {CARD} no 2"]
    # The catch-up's re-read never reaches the rewritten row: nothing is ingested twice.
    assert catch_up(stores.engine, sessions).events_ingested == 0


def test_a_wrong_period_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIC_RETENTION_TRACKER_DAYS", "0")
    with pytest.raises(SettingsError, match="RIC_RETENTION_TRACKER_DAYS"):
        PrivacyConfig()
