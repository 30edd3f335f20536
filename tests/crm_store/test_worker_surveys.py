"""The satisfaction-survey job, in travelled time, against a stand-in Rasa on loopback."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_store import clock
from crm_store.db import make_engine, make_session_factory
from crm_store.migrate import upgrade
from crm_store.models import ChannelIdentity, Feedback, SenderKind
from crm_store.models.operations import Survey
from crm_store.models.statuses import SurveyStatus
from crm_store.repositories import record_feedback
from messaging.outreach_store import link_survey_answer
from tests.crm_store._worker_data import (
    conversation,
    message,
    reader,
    resolved_handoff,
    staff,
    travel,
)
from tests.standins.rasa_api import RasaStandIn, rasa_standin
from worker.jobs.surveys import SURVEY_INTENT, run_surveys

__all__ = ["rasa_standin", "travel"]


@pytest.fixture(autouse=True)
def _settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIC_SURVEY_DELAY_MINUTES", "60")
    monkeypatch.setenv("RIC_SURVEY_BOT_IDLE_MINUTES", "30")
    monkeypatch.setenv("RIC_QUIET_HOURS", "21:00-08:00")


def _survey(sessions: sessionmaker[Session], conversation_id: int) -> Survey:
    with sessions() as session:
        return session.execute(
            select(Survey).where(Survey.conversation_id == conversation_id)
        ).scalar_one()


def test_librarian_resolved_conversation_gets_one_survey_after_the_delay(
    sessions: sessionmaker[Session], rasa_standin: RasaStandIn, travel: clock.TravelClock
) -> None:
    with sessions.begin() as session:
        sam = staff(session, "sam")
        conv = conversation(session, "widget-1")
        resolved_handoff(session, conv, sam)
        conv_id, sam_id = conv.id, sam.id

    travel.advance(timedelta(minutes=59))
    first = run_surveys(sessions)
    assert (first.scheduled, first.sent) == (1, 0)
    assert rasa_standin.triggers() == []

    travel.advance(timedelta(minutes=2))
    second = run_surveys(sessions)
    assert second.sent == 1
    calls = rasa_standin.triggers()
    assert [(c.sender_id, c.body, c.params["output_channel"]) for c in calls] == [
        ("widget-1", {"name": SURVEY_INTENT}, "webchat")
    ]
    survey = _survey(sessions, conv_id)
    assert (survey.status, survey.staff_user_id, survey.resolved_by) == (
        "sent",
        sam_id,
        "librarian",
    )

    travel.advance(timedelta(days=1))
    assert run_surveys(sessions).sent == 0
    assert len(rasa_standin.triggers()) == 1


def test_an_answer_is_linked_to_the_conversation_and_the_librarian(
    sessions: sessionmaker[Session], rasa_standin: RasaStandIn, travel: clock.TravelClock
) -> None:
    with sessions.begin() as session:
        sam = staff(session, "sam")
        conv = conversation(session, "widget-2")
        resolved_handoff(session, conv, sam)
        conv_id, sam_id = conv.id, sam.id
    run_surveys(sessions)
    travel.advance(timedelta(minutes=61))
    assert run_surveys(sessions).sent == 1

    with sessions.begin() as session:
        feedback = record_feedback(
            session, sender_id="widget-2", channel="webchat", rating=5, comment="Great help"
        )
        linked = link_survey_answer(session, "widget-2", feedback)
        assert linked is not None
    with sessions() as session:
        row = session.execute(select(Feedback)).scalar_one()
        survey = session.execute(select(Survey)).scalar_one()
    assert (row.conversation_id, row.librarian_id, row.rating, row.source) == (
        conv_id,
        sam_id,
        5,
        "csat_survey",
    )
    assert (survey.status, survey.feedback_id) == ("answered", row.id)


def test_no_survey_when_the_reader_already_left_feedback(
    sessions: sessionmaker[Session], rasa_standin: RasaStandIn, travel: clock.TravelClock
) -> None:
    with sessions.begin() as session:
        sam = staff(session, "sam")
        conv = conversation(session, "widget-3")
        resolved_handoff(session, conv, sam)
        conv_id = conv.id
        record_feedback(session, sender_id="widget-3", channel="webchat", rating=4, comment=None)
    travel.advance(timedelta(minutes=61))
    run = run_surveys(sessions)
    assert (run.sent, run.skipped) == (0, 1)
    assert _survey(sessions, conv_id).status == SurveyStatus.SKIPPED.value
    assert rasa_standin.triggers() == []


def test_quiet_hours_postpone_the_survey_to_the_morning(
    sessions: sessionmaker[Session], rasa_standin: RasaStandIn, travel: clock.TravelClock
) -> None:
    travel.set(datetime(2026, 3, 10, 20, 30, tzinfo=timezone.utc))  # 20:30 in London (GMT)
    with sessions.begin() as session:
        conv = conversation(session, "widget-4")
        resolved_handoff(session, conv, staff(session, "sam"))
        conv_id = conv.id
    run_surveys(sessions)
    travel.set(datetime(2026, 3, 10, 21, 31, tzinfo=timezone.utc))
    assert run_surveys(sessions).postponed == 1
    assert _survey(sessions, conv_id).scheduled_at == datetime(
        2026, 3, 11, 8, 0, tzinfo=timezone.utc
    )
    travel.set(datetime(2026, 3, 11, 7, 59, tzinfo=timezone.utc))
    assert run_surveys(sessions).sent == 0
    travel.set(datetime(2026, 3, 11, 8, 0, tzinfo=timezone.utc))
    assert run_surveys(sessions).sent == 1
    assert len(rasa_standin.triggers(SURVEY_INTENT)) == 1


def test_bot_resolved_conversation_is_surveyed_after_idling(
    sessions: sessionmaker[Session], rasa_standin: RasaStandIn, travel: clock.TravelClock
) -> None:
    with sessions.begin() as session:
        answered = conversation(session, "widget-5")
        message(session, answered, SenderKind.READER, "when do you close", intent="library_hours")
        message(session, answered, SenderKind.BOT, "We close at 8pm today.")
        small_talk = conversation(session, "widget-6")
        message(session, small_talk, SenderKind.READER, "hi", intent="greet")
        message(session, small_talk, SenderKind.BOT, "Hello!")
        answered_id = answered.id

    travel.advance(timedelta(minutes=29))
    assert run_surveys(sessions).scheduled == 0
    travel.advance(timedelta(minutes=2))
    assert run_surveys(sessions).scheduled == 1
    survey = _survey(sessions, answered_id)
    assert (survey.resolved_by, survey.staff_user_id) == ("bot", None)
    travel.advance(timedelta(minutes=60))
    assert run_surveys(sessions).sent == 1
    assert [c.sender_id for c in rasa_standin.triggers()] == ["widget-5"]


def test_a_conversation_the_worker_wrote_to_is_not_bot_resolved(
    sessions: sessionmaker[Session], rasa_standin: RasaStandIn, travel: clock.TravelClock
) -> None:
    with sessions.begin() as session:
        conv = conversation(session, "widget-9")
        message(session, conv, SenderKind.READER, "renew my books", intent="renew_loans")
        message(session, conv, SenderKind.BOT, "Done, all renewed.")
        surveyed = Survey(
            conversation_id=conv.id,
            resolved_by="bot",
            resolved_at=clock.now(),
            scheduled_at=clock.now(),
            status="answered",
            attempts=1,
        )
        session.add(surveyed)
        other = conversation(session, "widget-10")
        message(
            session,
            other,
            SenderKind.READER,
            "any fines?",
            intent="check_fines",
            at=clock.now() - timedelta(days=10),
        )
        message(session, other, SenderKind.BOT, "No fines.", at=clock.now() - timedelta(days=10))
        message(
            session,
            other,
            SenderKind.READER,
            "EXTERNAL_due_reminder",
            intent="EXTERNAL_due_reminder",
        )
        message(session, other, SenderKind.BOT, "Reminder: a book is due in 3 days.")
    travel.advance(timedelta(hours=3))
    assert run_surveys(sessions).scheduled == 0
    assert rasa_standin.triggers() == []


def test_a_reader_who_came_back_postpones_a_bot_survey(
    sessions: sessionmaker[Session], rasa_standin: RasaStandIn, travel: clock.TravelClock
) -> None:
    with sessions.begin() as session:
        conv = conversation(session, "widget-7")
        message(session, conv, SenderKind.READER, "where is the library", intent="library_location")
        message(session, conv, SenderKind.BOT, "1 Market Square.")
    travel.advance(timedelta(minutes=31))
    run_surveys(sessions)
    travel.advance(timedelta(minutes=40))
    with sessions.begin() as session:
        conv = session.get(type(conv), conv.id)
        assert conv is not None
        message(session, conv, SenderKind.READER, "and parking?", intent="faq")
    travel.advance(timedelta(minutes=25))
    assert run_surveys(sessions).postponed == 1
    assert rasa_standin.triggers() == []
    travel.advance(timedelta(minutes=60))
    assert run_surveys(sessions).sent == 1


def test_rasa_failure_is_retried_and_sends_once(
    sessions: sessionmaker[Session], rasa_standin: RasaStandIn, travel: clock.TravelClock
) -> None:
    with sessions.begin() as session:
        conv = conversation(session, "widget-8")
        resolved_handoff(session, conv, staff(session, "sam"))
    travel.advance(timedelta(minutes=61))
    rasa_standin.fail_next = 1
    failed = run_surveys(sessions)
    assert (failed.sent, failed.failed) == (0, 1)
    travel.advance(timedelta(minutes=1))
    assert run_surveys(sessions).sent == 0  # waits for the retry delay
    travel.advance(timedelta(minutes=5))
    assert run_surveys(sessions).sent == 1
    assert len(rasa_standin.triggers()) == 1


def test_an_unreachable_reader_is_recorded_as_undeliverable(
    sessions: sessionmaker[Session], rasa_standin: RasaStandIn, travel: clock.TravelClock
) -> None:
    with sessions.begin() as session:
        ada = reader(session, card="21234000123456")
        conv = conversation(session, "tg-1", channel="telegram", reader_id=ada.id)
        resolved_handoff(session, conv, staff(session, "sam"))
        # The reader blocked the bot on Telegram, and has no other conversation.
        identity = session.execute(select(ChannelIdentity)).scalar_one()
        identity.reachable = False
        conv_id = conv.id
    travel.advance(timedelta(minutes=61))
    assert run_surveys(sessions).undeliverable == 1
    assert _survey(sessions, conv_id).status == SurveyStatus.UNDELIVERABLE.value
    assert rasa_standin.triggers() == []
    travel.advance(timedelta(hours=2))
    assert run_surveys(sessions).undeliverable == 0


def test_two_workers_on_postgresql_send_each_survey_exactly_once(
    postgres_url: str, rasa_standin: RasaStandIn, travel: clock.TravelClock
) -> None:
    upgrade(postgres_url)
    setup = make_session_factory(make_engine(postgres_url))
    with setup.begin() as session:
        sam = staff(session, "sam")
        for number in range(30):
            resolved_handoff(session, conversation(session, f"pg-widget-{number}"), sam)
    travel.advance(timedelta(minutes=61))

    barrier = threading.Barrier(2)
    errors: list[BaseException] = []
    factories = [make_session_factory(make_engine(postgres_url)) for _ in range(2)]

    def worker(factory: sessionmaker[Session]) -> None:
        try:
            barrier.wait()
            for _ in range(3):
                run_surveys(factory)
        except BaseException as error:  # reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(f,)) for f in factories]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    senders = [c.sender_id for c in rasa_standin.triggers(SURVEY_INTENT)]
    assert sorted(senders) == sorted(f"pg-widget-{n}" for n in range(30))
    with setup() as session:
        statuses = session.execute(select(Survey.status)).scalars().all()
    assert statuses == ["sent"] * 30
    for factory in (setup, *factories):
        factory.kw["bind"].dispose()
