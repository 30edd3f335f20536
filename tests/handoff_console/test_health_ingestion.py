"""Health reports the ingestion lag and the quarantine, and turns degraded past a threshold."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.orm import Session, sessionmaker

from crm_store.catchup import catch_up
from crm_store.db import make_engine, make_session_factory
from handoff_console.health import INGESTION, check_ingestion
from handoff_console.settings import ConsoleSettings
from rasa_plugins.tracker_store import IngestingTrackerStore
from tests.aio import run as aio_run
from tests.handoff_console.conftest import ConsoleStore
from tests.handoff_console.console_server import start_console

T0 = 1_800_000_000.0  # the tracker events' own times, so "seconds behind" is exact


@pytest.fixture
def tracker_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    monkeypatch.setenv("RIC_TRACKER_DATABASE_URL", url)
    monkeypatch.setenv("RIC_STORE_LOGGING", "off")  # nothing is copied until catch_up runs
    return url


@pytest.fixture
def tracker_store(tracker_url: str) -> Iterator[IngestingTrackerStore]:
    store = IngestingTrackerStore(domain=Domain.empty())
    yield store
    store.engine.dispose()


def settings(tracker_url: str, events: int = 500, seconds: float = 60.0) -> ConsoleSettings:
    return ConsoleSettings(
        database_url="unused",
        rasa_url="http://127.0.0.1:9",
        rasa_public_url="http://127.0.0.1:9",
        rasa_token="",
        actions_health_url="http://127.0.0.1:9/health",
        tracker_database_url=tracker_url,
        ingest_lag_degraded_events=events,
        ingest_lag_degraded_seconds=seconds,
    )


def save(store: IngestingTrackerStore, sender: str, texts: list[str], start: float = T0) -> None:
    tracker = DialogueStateTracker(sender, slots=[])
    for i, text in enumerate(texts):
        tracker.update(
            UserUttered(text, intent={"name": "greet", "confidence": 1.0}, timestamp=start + i)
        )
        tracker.update(BotUttered(f"answer {i}", timestamp=start + i + 0.5))
        aio_run(store.save(tracker))


def at(seconds_after_t0: float) -> datetime:
    return datetime.fromtimestamp(T0 + seconds_after_t0, tz=timezone.utc)


@pytest.mark.defects
def test_health_counts_events_behind_and_turns_degraded_past_the_event_threshold(
    tracker_store: IngestingTrackerStore, tracker_url: str, sessions: sessionmaker[Session]
) -> None:
    save(tracker_store, "reader-a", ["one", "two", "hello \ud800 open?", "four"])  # 8 events
    behind = check_ingestion(settings(tracker_url, events=5, seconds=3600), sessions, at(10))
    assert (behind.status, behind.events_behind, behind.quarantined) == ("degraded", 8, 0)
    assert (behind.tracker_position, behind.store_position) == (8, 0)
    assert behind.seconds_behind == 10.0  # the oldest uncopied event is from T0
    assert behind.detail == (
        "8 events (10 s) behind, over the limit of 5 events or 3600 s; 0 quarantined"
    )
    assert catch_up(tracker_store.engine, sessions).events_quarantined == 1
    caught_up = check_ingestion(settings(tracker_url, events=5, seconds=3600), sessions, at(10))
    assert (caught_up.status, caught_up.events_behind, caught_up.seconds_behind) == ("up", 0, 0.0)
    assert (caught_up.quarantined, caught_up.store_position) == (1, 8)
    assert caught_up.last_quarantined_at is not None
    assert caught_up.detail.startswith("0 events (0 s) behind; 1 quarantined, the latest at ")
    assert caught_up.service().name == INGESTION


@pytest.mark.defects
def test_health_turns_degraded_when_the_oldest_uncopied_event_waits_too_long(
    tracker_store: IngestingTrackerStore, tracker_url: str, sessions: sessionmaker[Session]
) -> None:
    save(tracker_store, "reader-b", ["one"])
    catch_up(tracker_store.engine, sessions)
    save(tracker_store, "reader-c", ["late"], start=T0 + 100)  # 2 uncopied events
    limits = settings(tracker_url, events=500, seconds=60)
    assert check_ingestion(limits, sessions, at(130)).status == "up"  # waited 30 s
    late = check_ingestion(limits, sessions, at(190))  # waited 90 s
    assert (late.status, late.events_behind, late.seconds_behind) == ("degraded", 2, 90.0)


def test_health_before_rasa_created_its_tracker_store(
    tmp_path: Path, sessions: sessionmaker[Session]
) -> None:
    missing = tmp_path / "not-yet" / "tracker.db"
    health = check_ingestion(settings(f"sqlite:///{missing}"), sessions, at(0))
    assert (health.status, health.events_behind, health.tracker_position) == ("up", 0, None)
    assert health.detail == "no tracker store events yet; 0 quarantined"
    assert not missing.parent.exists()  # looking did not create Rasa's database


def test_health_says_down_when_the_reader_store_cannot_be_read(
    tracker_store: IngestingTrackerStore, tracker_url: str, tmp_path: Path
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'never-migrated.db'}")
    health = check_ingestion(settings(tracker_url), make_session_factory(engine), at(0))
    engine.dispose()
    assert (health.status, health.detail) == ("down", "cannot read the lag: OperationalError")
    assert (health.events_behind, health.quarantined) == (None, None)
    assert health.as_dict()["degraded_after_events"] == 500


@pytest.mark.defects
def test_api_health_and_status_page_show_the_lag_and_the_quarantine(
    tracker_store: IngestingTrackerStore,
    staff_store: ConsoleStore,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("RIC_INGEST_LAG_DEGRADED_EVENTS", "3")
    monkeypatch.setenv("RIC_INGEST_LAG_DEGRADED_SECONDS", "1e9")
    save(tracker_store, "reader-d", ["one", "hello \ud800 open?", "three"])  # 6 events
    console = start_console(staff_store.url, tmp_path / "console.log")
    try:
        body = console.client().get("/api/health").json()
        ingestion = body["ingestion"]
        assert (body["status"], ingestion["status"]) == ("degraded", "degraded")
        assert (ingestion["events_behind"], ingestion["quarantined"]) == (6, 0)
        assert (ingestion["degraded_after_events"], ingestion["store_position"]) == (3, 0)
        rows = {s["name"]: s for s in body["services"]}
        assert list(rows) == [
            "Rasa server", "Action server", "Reader store", "Worker", INGESTION,
        ]  # fmt: skip
        assert rows[INGESTION]["status"] == "degraded"

        catch_up(tracker_store.engine, staff_store.sessions)
        body = console.client().get("/api/health").json()
        ingestion = body["ingestion"]
        assert (ingestion["status"], ingestion["events_behind"]) == ("up", 0)
        assert (ingestion["seconds_behind"], ingestion["quarantined"]) == (0.0, 1)
        assert ingestion["last_quarantined_at"] is not None
        page = console.client().get("/").text
        assert f'<tr data-service="{INGESTION}">' in page
        assert "0 events (0 s) behind; 1 quarantined" in page
    finally:
        console.stop()
