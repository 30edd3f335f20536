"""Due-date reminders and hold notices: consent, once per loan and date, opt-out, undeliverable."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_store import clock
from crm_store.models.operations import SentReminder
from library.ils import DemoLibrarySystem
from library.profile import library_zone
from messaging.outreach_store import set_preferences
from tests.crm_store._worker_data import conversation, reader, travel
from tests.standins.rasa_api import RasaStandIn, rasa_standin
from worker.jobs.reader_care import DUE_INTENT, HOLD_INTENT, send_reminders

__all__ = ["rasa_standin", "travel"]

ADA_CARD = "21234000123456"  # demo reader p1001: loans due in 6, -5, 3 and 2 days; a hold ready


@pytest.fixture(autouse=True)
def _settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIC_QUIET_HOURS", "21:00-08:00")


@pytest.fixture
def library(tmp_path: Path, travel: clock.TravelClock) -> DemoLibrarySystem:
    """The demo library system, living on the travelling clock's dates."""

    def today() -> date:
        return clock.now().astimezone(library_zone()).date()

    return DemoLibrarySystem(db_path=tmp_path / "ils.db", today=today)


def _ada(sessions: sessionmaker[Session], *, consent: bool, reachable: bool = True) -> int:
    with sessions.begin() as session:
        ada = reader(session, card=ADA_CARD)
        if reachable:
            conversation(session, "widget-ada-old", reader_id=ada.id)
            conversation(
                session,
                "tg-ada",
                channel="telegram",
                reader_id=ada.id,
                at=clock.now() + timedelta(minutes=1),
            )
        if consent:
            set_preferences(
                session,
                ada.id,
                due_date_reminders=True,
                hold_ready_notices=True,
                reminder_days=3,
                source="bot",
            )
        return int(ada.id)


def test_nothing_is_sent_without_consent(
    sessions: sessionmaker[Session],
    rasa_standin: RasaStandIn,
    library: DemoLibrarySystem,
    travel: clock.TravelClock,
) -> None:
    _ada(sessions, consent=False)
    run = send_reminders(sessions, system=library)
    assert (run.readers, run.sent) == (0, 0)
    assert rasa_standin.triggers() == []
    with sessions() as session:
        assert session.execute(select(SentReminder)).scalars().all() == []


def test_opted_in_reader_gets_each_reminder_once_on_the_latest_channel(
    sessions: sessionmaker[Session],
    rasa_standin: RasaStandIn,
    library: DemoLibrarySystem,
    travel: clock.TravelClock,
) -> None:
    _ada(sessions, consent=True)
    first = send_reminders(sessions, system=library)
    assert first.sent == 3
    calls = rasa_standin.triggers()
    assert sorted(c.body["name"] for c in calls) == [DUE_INTENT, DUE_INTENT, HOLD_INTENT]
    assert {(c.sender_id, c.params["output_channel"]) for c in calls} == {("tg-ada", "telegram")}
    due_texts = [c.body["entities"]["outreach_text"] for c in calls if c.body["name"] == DUE_INTENT]
    whens = sorted(text.split("due back ")[1].split(" (")[0] for text in due_texts)
    assert whens == ["in 2 days", "in 3 days"]

    assert send_reminders(sessions, system=library).sent == 0  # once only
    travel.advance(timedelta(days=3))
    later = send_reminders(sessions, system=library)
    assert later.sent == 1  # the loan that was due in 6 days is now due in 3
    assert "in 3 days" in later.texts[0]
    assert len(rasa_standin.triggers()) == 4


def test_opting_out_stops_everything(
    sessions: sessionmaker[Session],
    rasa_standin: RasaStandIn,
    library: DemoLibrarySystem,
    travel: clock.TravelClock,
) -> None:
    ada_id = _ada(sessions, consent=True)
    with sessions.begin() as session:
        pref = set_preferences(
            session, ada_id, due_date_reminders=False, hold_ready_notices=False, source="bot_stop"
        )
        assert pref.consent_withdrawn_at == clock.now()
    travel.advance(timedelta(days=4))
    assert send_reminders(sessions, system=library).sent == 0
    assert rasa_standin.triggers() == []


def test_a_reader_without_a_reachable_channel_is_recorded_as_undeliverable(
    sessions: sessionmaker[Session],
    rasa_standin: RasaStandIn,
    library: DemoLibrarySystem,
    travel: clock.TravelClock,
) -> None:
    _ada(sessions, consent=True, reachable=False)
    assert send_reminders(sessions, system=library).undeliverable == 3
    assert send_reminders(sessions, system=library).undeliverable == 0
    with sessions() as session:
        statuses = session.execute(select(SentReminder.status)).scalars().all()
    assert statuses == ["undeliverable"] * 3
    assert rasa_standin.triggers() == []


def test_a_failed_delivery_is_tried_again_at_the_next_run(
    sessions: sessionmaker[Session],
    rasa_standin: RasaStandIn,
    library: DemoLibrarySystem,
    travel: clock.TravelClock,
) -> None:
    _ada(sessions, consent=True)
    rasa_standin.fail_next = 3
    failed = send_reminders(sessions, system=library)
    assert (failed.sent, failed.failed) == (0, 3)
    travel.advance(timedelta(hours=1))
    assert send_reminders(sessions, system=library).sent == 3
    assert len(rasa_standin.triggers()) == 3


def test_quiet_hours_hold_reminders_back(
    sessions: sessionmaker[Session],
    rasa_standin: RasaStandIn,
    library: DemoLibrarySystem,
    travel: clock.TravelClock,
) -> None:
    _ada(sessions, consent=True)
    travel.advance(timedelta(hours=10))  # 22:00 in London
    assert send_reminders(sessions, system=library).sent == 0
    travel.advance(timedelta(hours=10))  # 08:00 the next day
    assert send_reminders(sessions, system=library).sent == 3
