"""Reader-store operations the actions use, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_store.models import (
    ChannelIdentity,
    Conversation,
    ConversationStatus,
    Feedback,
    Handoff,
    HandoffStatus,
    Reader,
    StaffUser,
    TicketStatus,
)
from crm_store.repositories import (
    conversation_of,
    create_ticket,
    link_verified_reader,
    open_handoff,
    record_feedback,
)

ADA_CARD = "21234000123456"


def _link(session, channel, external_id):
    return link_verified_reader(
        session,
        channel=channel,
        external_id=external_id,
        card_number=ADA_CARD,
        name="Ada Okafor",
        email="ada.okafor@example.org",
    )


def test_open_handoff_is_idempotent_per_conversation(sessions: sessionmaker[Session]):
    with sessions.begin() as session:
        first, first_position = open_handoff(
            session, sender_id="s-1", channel="webchat", reason="reader asked for a librarian"
        )
        first_id = first.id
    with sessions.begin() as session:
        _, other_position = open_handoff(
            session, sender_id="s-2", channel="telegram", reason="the bot did not understand"
        )
    with sessions.begin() as session:
        again, again_position = open_handoff(
            session, sender_id="s-1", channel="webchat", reason="asked again"
        )
        again_id, again_reason = again.id, again.reason

    assert (first_position, other_position, again_position) == (1, 2, 1)
    assert (again_id, again_reason) == (first_id, "reader asked for a librarian")
    with sessions.begin() as session:
        rows = session.execute(
            select(Conversation.sender_id, Handoff.status, Conversation.status)
            .join(Conversation, Conversation.id == Handoff.conversation_id)
            .order_by(Handoff.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        ("s-1", HandoffStatus.WAITING, ConversationStatus.HANDOFF),
        ("s-2", HandoffStatus.WAITING, ConversationStatus.HANDOFF),
    ]


def test_a_resolved_handoff_allows_a_new_one(sessions: sessionmaker[Session]):
    with sessions.begin() as session:
        handoff, _ = open_handoff(session, sender_id="s-1", channel="webchat", reason="first")
        handoff.status = HandoffStatus.RESOLVED
    with sessions.begin() as session:
        _, position = open_handoff(session, sender_id="s-1", channel="webchat", reason="second")
    with sessions.begin() as session:
        rows = session.execute(select(Handoff.reason, Handoff.status).order_by(Handoff.id)).all()

    assert position == 1
    assert [tuple(r) for r in rows] == [
        ("first", HandoffStatus.RESOLVED),
        ("second", HandoffStatus.WAITING),
    ]


@pytest.mark.parametrize("rating", [0, 6, -1])
def test_record_feedback_rejects_ratings_outside_one_to_five(
    sessions: sessionmaker[Session], rating
):
    with (
        pytest.raises(ValueError, match=f"rating must be 1 to 5, got {rating}"),
        sessions.begin() as session,
    ):
        record_feedback(session, sender_id="s-1", channel="webchat", rating=rating, comment="x")

    with sessions.begin() as session:
        assert session.execute(select(Feedback.id)).scalars().all() == []


def test_record_feedback_links_reader_and_librarian(sessions: sessionmaker[Session]):
    with sessions.begin() as session:
        reader_id = _link(session, "webchat", "s-1").id
        librarian = StaffUser(username="jo", display_name="Jo", password_hash="x")
        session.add(librarian)
        handoff, _ = open_handoff(session, sender_id="s-1", channel="webchat", reason="r")
        session.flush()
        handoff.librarian_id = librarian.id
        handoff.status = HandoffStatus.CLAIMED
        librarian_id = librarian.id
    with sessions.begin() as session:
        feedback = record_feedback(
            session, sender_id="s-1", channel="webchat", rating=5, comment=""
        )
        row = (feedback.reader_id, feedback.librarian_id, feedback.rating, feedback.comment)

    assert row == (reader_id, librarian_id, 5, None)


def test_create_ticket_links_reader_and_conversation(sessions: sessionmaker[Session]):
    with sessions.begin() as session:
        reader_id = _link(session, "telegram", "777001").id
    with sessions.begin() as session:
        ticket = create_ticket(
            session,
            sender_id="777001",
            channel="telegram",
            subject="x" * 250,
            body="Is my hold ready?",
            contact="telegram:777001",
        )
        row = (ticket.reader_id, len(ticket.subject), ticket.body, ticket.contact, ticket.status)
        conversation_id = ticket.conversation_id
    with sessions.begin() as session:
        conversation = conversation_of(session, "777001")
        linked = (conversation.id, conversation.channel, conversation.reader_id)

    assert row == (reader_id, 200, "Is my hold ready?", "telegram:777001", TicketStatus.NEW)
    assert linked == (conversation_id, "telegram", reader_id)


def test_ticket_from_an_anonymous_conversation_has_no_reader(sessions: sessionmaker[Session]):
    with sessions.begin() as session:
        ticket = create_ticket(
            session, sender_id="w-9", channel="webchat", subject="Hi", body="Hi", contact=None
        )
        row = (ticket.reader_id, ticket.contact, ticket.conversation_id is not None)

    assert row == (None, None, True)


def test_same_card_on_two_channels_is_one_reader(sessions: sessionmaker[Session]):
    with sessions.begin() as session:
        first = _link(session, "webchat", "w-1").id
    with sessions.begin() as session:
        second = _link(session, "telegram", "777001").id
    with sessions.begin() as session:
        readers = session.execute(select(Reader.id, Reader.card_number)).all()
        identities = session.execute(
            select(
                ChannelIdentity.channel, ChannelIdentity.external_id, ChannelIdentity.reader_id
            ).order_by(ChannelIdentity.channel)
        ).all()

    assert first == second
    assert [tuple(r) for r in readers] == [(first, ADA_CARD)]
    assert [tuple(i) for i in identities] == [
        ("telegram", "777001", first),
        ("webchat", "w-1", first),
    ]


def test_conversation_of_an_unknown_sender(sessions: sessionmaker[Session]):
    with sessions.begin() as session:
        assert conversation_of(session, "nobody") is None
