"""Reader care in the chat: consent to reminders, "stop", reminders shown, follow-up answers."""

from __future__ import annotations

from datetime import date

from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.account import ActionResumeAccountRequest
from actions.reminders import (
    STOP_BUTTON,
    ActionAskFollowUp,
    ActionDeliverReminder,
    ActionSaveFollowUpAnswer,
    ActionStopReminders,
)
from crm_store.models import ChannelIdentity, Conversation, Reader
from crm_store.models.operations import FollowUp, Notification, ReaderPreference
from crm_store.models.statuses import FollowUpStatus
from messaging.outreach_store import schedule_follow_up
from tests.aio import run as aio_run

from .conftest import ADA, make_tracker

DOMAIN: dict = {"slots": {}, "forms": {}}


def _linked_reader(store, sender_id: str = "reader-1") -> int:
    from crm_store import clock

    with store.begin() as session:
        reader = Reader(display_name="Ada Okafor", card_number=ADA[0], verified_at=clock.now())
        session.add(reader)
        session.flush()
        session.add(ChannelIdentity(reader_id=reader.id, channel="webchat", external_id=sender_id))
        session.add(
            Conversation(
                sender_id=sender_id,
                channel="webchat",
                reader_id=reader.id,
                started_at=clock.now(),
                last_activity_at=clock.now(),
            )
        )
        return int(reader.id)


def _preference(store, reader_id: int) -> ReaderPreference | None:
    with store() as session:
        return session.execute(
            select(ReaderPreference).where(ReaderPreference.reader_id == reader_id)
        ).scalar_one_or_none()


def test_a_signed_in_reader_subscribes_to_reminders(store, library):
    reader_id = _linked_reader(store)
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(
        "card 21234000123456 pin 4821",
        intent="inform",
        slots={
            "pending_request": {
                "intent": "subscribe_reminders",
                "text": "remind me",
                "entities": [],
            },
            "pin_check": "verified",
            "patron_id": "p1001",
        },
    )
    aio_run(ActionResumeAccountRequest().run(dispatcher, tracker, DOMAIN))
    assert dispatcher.messages[0]["text"].startswith("Done! I'll remind you 3 days before")
    preference = _preference(store, reader_id)
    assert preference is not None
    assert (
        preference.due_date_reminders,
        preference.hold_ready_notices,
        preference.library_patron_id,
        preference.consent_source,
    ) == (True, True, "p1001", "bot")
    assert preference.consent_given_at is not None


def test_stop_withdraws_consent(store, library):
    reader_id = _linked_reader(store)
    aio_run(
        ActionResumeAccountRequest().run(
            CollectingDispatcher(),
            make_tracker(
                "",
                slots={
                    "pending_request": {"intent": "subscribe_reminders", "entities": []},
                    "pin_check": "verified",
                    "patron_id": "p1001",
                },
            ),
            DOMAIN,
        )
    )
    dispatcher = CollectingDispatcher()
    aio_run(
        ActionStopReminders().run(dispatcher, make_tracker("stop", intent="stop_reminders"), DOMAIN)
    )
    assert dispatcher.messages[0]["text"].startswith("OK, no more reminders.")
    preference = _preference(store, reader_id)
    assert preference is not None
    assert (preference.due_date_reminders, preference.hold_ready_notices) == (False, False)
    assert preference.consent_withdrawn_at is not None


def test_stop_from_an_unknown_reader_is_answered_and_stores_nothing(store):
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("stop", intent="stop_reminders", sender_id="stranger")
    aio_run(ActionStopReminders().run(dispatcher, tracker, DOMAIN))
    assert dispatcher.messages[0]["text"].startswith("OK, no more reminders.")
    with store() as session:
        assert session.execute(select(ReaderPreference)).scalars().all() == []


def test_a_reminder_shows_the_workers_text_with_a_stop_button():
    dispatcher = CollectingDispatcher()
    text = "Reminder from the library: “Small Gods” is due back in 3 days (Thursday 03 December)."
    tracker = make_tracker(
        "", intent="EXTERNAL_due_reminder", entities=[{"entity": "outreach_text", "value": text}]
    )
    aio_run(ActionDeliverReminder().run(dispatcher, tracker, DOMAIN))
    assert [(m["text"], m["buttons"]) for m in dispatcher.messages] == [(text, [STOP_BUTTON])]


def test_a_follow_up_answer_is_stored_and_the_librarian_told(store):
    _linked_reader(store, sender_id="reader-1")
    with store.begin() as session:
        conversation_id = session.execute(select(Conversation.id)).scalar_one()
        row = schedule_follow_up(
            session,
            conversation_id=conversation_id,
            staff_user_id=None,
            due=date(2026, 3, 1),
            note=None,
        )
        row.status = FollowUpStatus.SENT.value
        row.sent_sender_id = "reader-1"
        follow_up_id = row.id

    asked = CollectingDispatcher()
    trigger = make_tracker(
        "",
        intent="EXTERNAL_follow_up",
        entities=[{"entity": "follow_up_id", "value": str(follow_up_id)}],
    )
    events = aio_run(ActionAskFollowUp().run(asked, trigger, DOMAIN))
    assert events == [
        {"event": "slot", "timestamp": None, "name": "follow_up_id", "value": str(follow_up_id)}
    ]
    assert [b["payload"] for b in asked.messages[0]["buttons"]] == ["/affirm", "/deny"]

    answered = CollectingDispatcher()
    reply = make_tracker("not really", intent="deny", slots={"follow_up_id": str(follow_up_id)})
    aio_run(ActionSaveFollowUpAnswer().run(answered, reply, DOMAIN))
    assert answered.messages[0]["text"].startswith("I'm sorry to hear that.")
    with store() as session:
        stored = session.get(FollowUp, follow_up_id)
        assert (stored.status, stored.answer, stored.answer_text) == (
            "answered",
            "no",
            "not really",
        )
        kinds = session.execute(select(Notification.kind)).scalars().all()
    assert kinds == ["follow_up_answer"]
