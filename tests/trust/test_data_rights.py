"""Readers' data rights across every store: export and erase (issue 18, item 6).

A real SQL tracker store (Rasa's, through ``IngestingTrackerStore``) is filled with a
conversation in which the reader typed their card number, copied into the reader
store by the real catch-up, and then exported and erased, on SQLite and PostgreSQL.
A second reader's data must come through untouched, and the day's analytics figures
must be the same after the erasure.
"""

from __future__ import annotations

import json
from datetime import timedelta, timezone
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from rasa.shared.core.slots import TextSlot
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from crm_store import clock
from crm_store.card_seal import derive_key, open_card, seal_card
from crm_store.catchup import catch_up, tracker_events
from crm_store.channels import record_message
from crm_store.data_rights import (
    ERASED,
    DataRightsError,
    ReaderNotFound,
    erase_reader,
    export_reader,
    find_reader,
)
from crm_store.data_rights.tracker import read_events
from crm_store.models import (
    AuditEntry,
    ChannelIdentity,
    Conversation,
    EmailOutboxEntry,
    FaqCandidate,
    Feedback,
    Handoff,
    IngestCheckpoint,
    Message,
    NluInboxLabel,
    Note,
    RawEvent,
    Reader,
    StaffRole,
    StaffUser,
    Ticket,
)
from crm_store.models.operations import EmailMessage, ReaderPreference
from crm_store.repositories import link_verified_reader
from library.staffed_time import StaffedHours
from rasa_plugins.tracker_store import IngestingTrackerStore
from tests.aio import run as aio_run
from worker.analytics.metrics import compute_day

pytestmark = pytest.mark.trust

CARD = "21234000123456"
SLOT_KEY = derive_key("the action server's slot key in these tests")
OTHER_CARD = "21234000567890"
HOURS = StaffedHours(timezone.utc, (None,) * 7)


@pytest.fixture
def tracker_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> IngestingTrackerStore:
    monkeypatch.setenv("RIC_TRACKER_DATABASE_URL", f"sqlite:///{tmp_path / 'tracker.db'}")
    monkeypatch.setenv("RIC_STORE_LOGGING", "off")
    return IngestingTrackerStore(domain=Domain.empty())


def converse(store: IngestingTrackerStore, sender: str, card: str) -> None:
    """A widget conversation in which the reader signs in with ``card``."""
    tracker = DialogueStateTracker(sender, slots=[TextSlot("card_number", mappings=[])])
    for event in [
        UserUttered(
            f"renew my books, card {card}",
            intent={"name": "renew_loans", "confidence": 0.9},
            entities=[{"entity": "card_number", "value": card, "start": 23, "end": 37}],
            input_channel="webchat",
        ),
        SlotSet("card_number", seal_card(card, SLOT_KEY)),  # as the action server sets it
        BotUttered("What is your PIN?"),
        UserUttered(
            "my pin is 4821", intent={"name": "inform", "confidence": 0.8}, input_channel="webchat"
        ),
        BotUttered("Thanks, you're signed in. Your loans are renewed."),
    ]:
        tracker.update(event)
    aio_run(store.save(tracker))


def populate(store: IngestingTrackerStore, sessions: sessionmaker[Session]) -> None:
    converse(store, "web-alice", CARD)
    converse(store, "web-bob", OTHER_CARD)
    catch_up(store.engine, sessions)
    now = clock.now()
    with sessions.begin() as session:
        for sender, card, name, email in [
            ("web-alice", CARD, "Alice Reader", "alice@example.org"),
            ("web-bob", OTHER_CARD, "Bob Reader", "bob@example.org"),
        ]:
            link_verified_reader(
                session,
                channel="webchat",
                external_id=sender,
                card_number=card,
                name=name,
                email=email,
            )
            reader = session.execute(select(Reader).where(Reader.card_number == card)).scalar_one()
            conversation = session.execute(
                select(Conversation).where(Conversation.sender_id == sender)
            ).scalar_one()
            staff = StaffUser(
                username=f"sam-{sender}",
                display_name="Sam",
                role=StaffRole.LIBRARIAN,
                password_hash="x",
            )
            session.add(staff)
            session.flush()
            session.add_all(
                [
                    Ticket(
                        conversation_id=conversation.id,
                        reader_id=reader.id,
                        subject=f"{name} lost a book",
                        body=f"{name} says the book is at home",
                        contact=email,
                    ),
                    Feedback(
                        conversation_id=conversation.id,
                        reader_id=reader.id,
                        rating=5,
                        comment=f"{name} is happy",
                    ),
                    Note(
                        conversation_id=conversation.id,
                        staff_user_id=staff.id,
                        body=f"{name} prefers mornings",
                    ),
                    ReaderPreference(
                        reader_id=reader.id,
                        due_date_reminders=True,
                        consent_given_at=now,
                        consent_source="webchat",
                    ),
                    EmailOutboxEntry(
                        message_id=f"<out-{sender}@library.example.org>",
                        sender_id=sender,
                        to_address=email,
                        mail=f"To: {email}\n\nHello {name}",
                        status="pending",
                        expires_at=now + timedelta(days=3),
                    ),
                ]
            )
            record_message(
                session,
                message_id=f"<in-{sender}@example.org>",
                sender_id=sender,
                direction="in",
                address=email,
                subject="Renewals",
                when=now,
            )


COMMENT_FIGURES = {"comments", "positive_comments", "negative_comments", "sentiment_sum"}


def figures(sessions: sessionmaker[Session]) -> dict[str, dict[str, object]]:
    """Today's analytics figures as the nightly analysis computes them from the rows.

    The comment figures are left out: an erased rating comment no longer has a text
    to score (the stored ``daily_metrics`` rows keep them; docs/privacy.md).
    """
    today = clock.now().astimezone(timezone.utc).date()
    with sessions() as session:
        return {
            channel: {k: v for k, v in vars(day).items() if k not in COMMENT_FIGURES}
            for channel, day in compute_day(session, today, HOURS).items()
        }


def test_export_holds_everything_about_one_reader_and_is_audited(
    tracker_store: IngestingTrackerStore, sessions: sessionmaker[Session]
) -> None:
    populate(tracker_store, sessions)
    with sessions.begin() as session:
        reader = find_reader(session, "2123 4000 1234 56")
        document = export_reader(session, reader, tracker_store.engine, staff_id=None, via="cli")
    text = json.dumps(document)  # JSON-serialisable as it is
    assert document["format"] == "ric-reader-export/1"
    assert document["reader"]["display_name"] == "Alice Reader"
    assert document["reader"]["card_number"] == CARD
    assert [i["external_id"] for i in document["identities"]] == ["web-alice"]
    [conversation] = document["conversations"]
    assert conversation["sender_id"] == "web-alice"
    reader_texts = [m["text"] for m in conversation["messages"] if m["direction"] == "in"]
    # The card typed in the chat is masked on save; the PIN was masked too.
    assert reader_texts == ["renew my books, card **********3456", "my pin is ••••"]
    types = [event["event"] for event in conversation["tracker_events"]]
    assert types == ["user", "slot", "bot", "user", "bot"]
    assert conversation["tracker_events"][0]["text"] == "renew my books, card **********3456"
    assert [n["body"] for n in conversation["staff_notes"]] == ["Alice Reader prefers mornings"]
    assert [t["subject"] for t in document["tickets"]] == ["Alice Reader lost a book"]
    assert [r["comment"] for r in document["ratings"]] == ["Alice Reader is happy"]
    assert [c["due_date_reminders"] for c in document["consents"]] == [True]
    assert [m["message_id"] for m in document["email_threads"]] == ["<in-web-alice@example.org>"]
    assert [m["status"] for m in document["email_outbox"]] == ["pending"]
    assert "Bob" not in text and OTHER_CARD[-4:] not in text
    # Rasa's tracker keeps the card_number slot sealed (the sign-in reads it back); the
    # export and the reader store's copy of that event show it masked, never the token.
    [slot] = [e for e in conversation["tracker_events"] if e["event"] == "slot"]
    assert slot["value"] == "**********3456"
    assert "sealed-card" not in text
    saved_events = read_events(tracker_store.engine, ["web-alice"])["web-alice"]
    [saved] = [e for e in saved_events if e["event"] == "slot"]
    assert open_card(saved["value"], SLOT_KEY) == CARD
    with sessions() as session:
        bodies = session.execute(
            select(RawEvent.body).where(
                RawEvent.sender_id == "web-alice", RawEvent.type_name == "slot"
            )
        ).scalars()
        assert [b["value"] for b in bodies] == ["**********3456"]
    with sessions() as session:
        [entry] = session.execute(
            select(AuditEntry).where(AuditEntry.action == "reader.export")
        ).scalars()
    assert (entry.subject, entry.detail["via"]) == (f"reader:{reader.id}", "cli")
    assert entry.detail["tracker_events"] == 5


def test_erase_removes_the_reader_everywhere_and_keeps_the_figures(
    tracker_store: IngestingTrackerStore, sessions: sessionmaker[Session]
) -> None:
    populate(tracker_store, sessions)
    with sessions.begin() as session:  # the admin studio's copies of Alice's words
        alice_conversation = session.execute(
            select(Conversation).where(Conversation.sender_id == "web-alice")
        ).scalar_one()
        first = (
            session.execute(select(Message).where(Message.conversation_id == alice_conversation.id))
            .scalars()
            .first()
        )
        handoff = Handoff(conversation_id=alice_conversation.id, reason="reader asked")
        session.add(handoff)
        session.flush()
        session.add_all(
            [
                NluInboxLabel(message_id=first.id, decision="labelled", text=first.text),
                FaqCandidate(
                    handoff_id=handoff.id,
                    conversation_id=alice_conversation.id,
                    question="Alice asks about renewals",
                    answer="Renew online.",
                ),
            ]
        )
    before = figures(sessions)
    with sessions() as session:
        messages_before = session.execute(select(func.count(Message.id))).scalar_one()
    with sessions.begin() as session:
        reader = find_reader(session, "alice@example.org")
        alice_id = reader.id
        result = erase_reader(session, reader, tracker_store.engine, staff_id=None, via="cli")
    assert result.counts["tracker_events"] == 5
    assert result.counts["messages"] == 4
    assert result.counts["identities"] == 1
    assert result.counts["email_threads"] == 1
    assert result.counts["email_outbox"] == 1

    events = read_events(tracker_store.engine, ["web-alice", "web-bob"])
    assert events["web-alice"] == []
    assert len(events["web-bob"]) == 5
    with sessions() as session:
        alice = session.get(Reader, alice_id)
        assert (alice.display_name, alice.email, alice.card_number) == (None, None, None)
        [conversation] = session.execute(
            select(Conversation).where(Conversation.reader_id == alice_id)
        ).scalars()
        assert conversation.sender_id == f"erased:{conversation.id}"
        texts = session.execute(
            select(Message.text).where(Message.conversation_id == conversation.id)
        ).scalars()
        assert set(texts) == {ERASED}
        assert session.execute(select(func.count(Message.id))).scalar_one() == messages_before
        assert (
            session.execute(
                select(ChannelIdentity).where(ChannelIdentity.reader_id == alice_id)
            ).first()
            is None
        )
        assert (
            session.execute(
                select(ReaderPreference).where(ReaderPreference.reader_id == alice_id)
            ).first()
            is None
        )
        ticket = session.execute(select(Ticket).where(Ticket.reader_id == alice_id)).scalar_one()
        assert (ticket.subject, ticket.body, ticket.contact) == (ERASED, ERASED, None)
        feedback = session.execute(
            select(Feedback).where(Feedback.reader_id == alice_id)
        ).scalar_one()
        assert (feedback.rating, feedback.comment) == (5, None)
        assert set(session.execute(select(NluInboxLabel.text)).scalars()) == {ERASED}
        faq = session.execute(select(FaqCandidate)).scalar_one()
        assert (faq.question, faq.answer) == (ERASED, "Renew online.")
        notes = set(session.execute(select(Note.body)).scalars())
        assert notes == {ERASED, "Bob Reader prefers mornings"}
        addresses = set(session.execute(select(EmailMessage.address)).scalars())
        assert addresses == {"bob@example.org"}
        # Bob is untouched.
        bob = session.execute(select(Reader).where(Reader.card_number == OTHER_CARD)).scalar_one()
        assert bob.display_name == "Bob Reader"
        [entry] = session.execute(
            select(AuditEntry).where(AuditEntry.action == "reader.erase")
        ).scalars()
        assert entry.subject == f"reader:{alice_id}"
        assert entry.detail["counts"]["tracker_events"] == 5
        dump = json.dumps(
            [
                [m.text for m in session.execute(select(Message)).scalars()],
                [json.dumps(e) for e in events["web-bob"]],
            ]
        )
        assert "Alice" not in dump
    assert figures(sessions) == before
    assert before["all"]["conversations"] == 2 and before["all"]["reader_messages"] == 4
    # Erasing again finds nobody by the old card.
    with sessions() as session, pytest.raises(ReaderNotFound):
        find_reader(session, CARD)


def test_erase_moves_the_catch_up_checkpoint_back_when_the_newest_rows_go(
    tracker_store: IngestingTrackerStore, sessions: sessionmaker[Session]
) -> None:
    """On SQLite, new tracker rows reuse the ids of deleted newest rows: none is skipped."""
    populate(tracker_store, sessions)
    with sessions.begin() as session:
        erase_reader(
            session,
            find_reader(session, OTHER_CARD),
            tracker_store.engine,
            staff_id=None,
            via="cli",
        )
    with sessions() as session:
        assert session.get(IngestCheckpoint, "tracker_store").position == 5
    converse(tracker_store, "web-carol", "21234000999999")
    with tracker_store.engine.connect() as connection:
        carol_ids = (
            connection.execute(
                select(tracker_events.c.id).where(tracker_events.c.sender_id == "web-carol")
            )
            .scalars()
            .all()
        )
    assert carol_ids == [6, 7, 8, 9, 10]  # the ids Bob's events had
    catch_up(tracker_store.engine, sessions, overlap=0)
    with sessions() as session:
        carol = session.execute(
            select(Conversation).where(Conversation.sender_id == "web-carol")
        ).scalar_one()
        count = session.execute(
            select(func.count(Message.id)).where(Message.conversation_id == carol.id)
        ).scalar_one()
    assert count == 4  # two reader and two bot messages: none skipped


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("", "give a card number"),
        ("1234", "has 14 digits; this has 4"),
        ("reader:abc", "takes a number"),
        ("no spaces or at sign", "give a card number"),
    ],
)
def test_a_malformed_key_is_a_clear_error(
    key: str, problem: str, sessions: sessionmaker[Session]
) -> None:
    with sessions() as session, pytest.raises(DataRightsError, match=problem):
        find_reader(session, key)


def test_unknown_reader_names_the_card_masked(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, pytest.raises(ReaderNotFound) as raised:
        find_reader(session, CARD)
    assert str(raised.value) == "no reader matches **********3456"


def test_the_tracker_store_saves_a_sealed_card_slot_as_it_is_and_masks_one_in_clear(
    tracker_store: IngestingTrackerStore,
) -> None:
    tracker = DialogueStateTracker("web-carol", slots=[TextSlot("card_number", mappings=[])])
    sealed = seal_card(CARD, SLOT_KEY)
    tracker.update(SlotSet("card_number", sealed))
    tracker.update(SlotSet("card_number", CARD))  # an action server that did not seal it
    aio_run(tracker_store.save(tracker))

    saved = read_events(tracker_store.engine, ["web-carol"])["web-carol"]
    assert [e["value"] for e in saved if e["event"] == "slot"] == [sealed, "**********3456"]
