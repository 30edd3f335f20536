"""One reader across channels: verification links, merge, undo, split, profile, reach.

Every test runs on SQLite and on PostgreSQL (the ``sessions`` fixture).
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from crm_store.identities import (
    CardConflictError,
    InvalidRequestError,
    ReaderNotFoundError,
    mark_reachable,
    mark_unreachable,
    mask_card,
    merge_readers,
    reader_columns,
    split_reader,
    undo_merge,
)
from crm_store.ingestion import RasaEvent, ingest
from crm_store.models import (
    AuditEntry,
    Base,
    ChannelIdentity,
    Conversation,
    Feedback,
    Handoff,
    Note,
    Reader,
    StaffUser,
    Ticket,
)
from crm_store.repositories import (
    conversation_of,
    create_ticket,
    link_verified_reader,
    open_handoff,
    record_feedback,
)
from handoff_console.services.identities import reader_profile, search_readers

ADA_CARD = "21234000123456"
BEN_CARD = "21234000999999"


def _talk(session: Session, sender_id: str, channel: str, text: str = "hello") -> int:
    """Ingest one reader message, as the worker does; returns the new anonymous reader."""
    ingest(
        session,
        [
            RasaEvent(
                sender_id,
                {
                    "event": "user",
                    "text": text,
                    "timestamp": time.time(),
                    "input_channel": channel,
                    "parse_data": {"intent": {"name": "greet", "confidence": 0.9}},
                },
            )
        ],
        "test",
    )
    session.flush()
    conversation = conversation_of(session, sender_id)
    assert conversation is not None and conversation.reader_id is not None
    return int(conversation.reader_id)


def _link(session: Session, channel: str, sender_id: str, card: str = ADA_CARD) -> int:
    name = "Ada Okafor" if card == ADA_CARD else "Ben Mensah"
    reader = link_verified_reader(
        session,
        channel=channel,
        external_id=sender_id,
        card_number=card,
        name=name,
        email=None,
    )
    return int(reader.id)


def _staff(session: Session) -> int:
    user = StaffUser(username="sam", display_name="Sam Reyes", password_hash="x")
    session.add(user)
    session.flush()
    return int(user.id)


def _identities(session: Session, reader_id: int) -> list[tuple[str, str]]:
    rows = session.execute(
        select(ChannelIdentity.channel, ChannelIdentity.external_id)
        .where(ChannelIdentity.reader_id == reader_id)
        .order_by(ChannelIdentity.channel, ChannelIdentity.external_id)
    ).all()
    return [tuple(r) for r in rows]


def _conversations(session: Session, reader_id: int) -> list[str]:
    return sorted(
        session.execute(
            select(Conversation.sender_id).where(Conversation.reader_id == reader_id)
        ).scalars()
    )


def _audit(session: Session, action: str) -> list[AuditEntry]:
    return list(
        session.execute(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        ).scalars()
    )


def test_every_reader_foreign_key_is_found() -> None:
    found = {f"{table.name}.{column.name}" for table, column in reader_columns()}
    assert {
        "channel_identities.reader_id",
        "conversations.reader_id",
        "tickets.reader_id",
        "feedback.reader_id",
    } <= found


def test_mask_card_shows_only_the_last_four_digits() -> None:
    assert mask_card(ADA_CARD) == "**********3456"
    assert mask_card("1234") == "****"
    assert mask_card(None) is None


# ---------------------------------------------------------------- verification links


def test_one_card_on_two_channels_is_one_reader_with_everything(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        web_anon = _talk(session, "web-1", "webchat")
        tg_anon = _talk(session, "tg-1", "telegram")
        # A ticket and a rating left before the reader signed in belong to the anonymous reader.
        create_ticket(
            session, sender_id="tg-1", channel="telegram", subject="s", body="b", contact=None
        )
        record_feedback(session, sender_id="tg-1", channel="telegram", rating=4, comment=None)
    with sessions.begin() as session:
        first = _link(session, "webchat", "web-1")
    with sessions.begin() as session:
        second = _link(session, "telegram", "tg-1")

    with sessions.begin() as session:
        assert first == second
        assert _identities(session, first) == [("telegram", "tg-1"), ("webchat", "web-1")]
        assert _conversations(session, first) == ["tg-1", "web-1"]
        assert session.get(Reader, web_anon) is None
        assert session.get(Reader, tg_anon) is None
        assert session.execute(select(Ticket.reader_id)).scalars().all() == [first]
        assert session.execute(select(Feedback.reader_id)).scalars().all() == [first]
        assert session.execute(select(func.count(Reader.id))).scalar_one() == 1
        links = _audit(session, "reader.link")
        assert [(e.subject, e.staff_user_id, e.detail["absorbed"]) for e in links] == [
            (f"reader:{first}", None, True),
            (f"reader:{first}", None, True),
        ]
        assert links[1].detail["previous_reader_id"] == tg_anon
        assert links[1].detail["moved"]["tickets.reader_id"] == [1]
        assert links[1].detail["moved"]["feedback.reader_id"] == [1]


def test_verifying_folds_an_anonymous_reader_with_other_identities(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        anon = _talk(session, "web-1", "webchat")
        other = _talk(session, "slack-U1", "slack")
        staff = _staff(session)
        merge_readers(session, anon, other, staff, "same person, two channels")
    with sessions.begin() as session:
        verified = _link(session, "webchat", "web-1")

    with sessions.begin() as session:
        assert _identities(session, verified) == [("slack", "slack-U1"), ("webchat", "web-1")]
        assert _conversations(session, verified) == ["slack-U1", "web-1"]
        assert session.get(Reader, anon) is None


def test_verifying_another_card_leaves_the_earlier_reader_its_records(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        _talk(session, "kiosk-1", "webchat")
        ada = _link(session, "webchat", "kiosk-1", ADA_CARD)
        _talk(session, "tg-ada", "telegram")
        _link(session, "telegram", "tg-ada", ADA_CARD)
        create_ticket(
            session, sender_id="kiosk-1", channel="webchat", subject="Ada's", body="b", contact=None
        )
    with sessions.begin() as session:
        ben = _link(session, "webchat", "kiosk-1", BEN_CARD)

    with sessions.begin() as session:
        assert ben != ada
        assert _identities(session, ben) == [("webchat", "kiosk-1")]
        assert _conversations(session, ben) == ["kiosk-1"]
        assert _identities(session, ada) == [("telegram", "tg-ada")]
        assert session.execute(select(Ticket.reader_id)).scalars().all() == [ada]
        last = _audit(session, "reader.link")[-1]
        assert last.subject == f"reader:{ben}"
        assert last.detail == {
            "channel": "webchat",
            "external_id": "kiosk-1",
            "previous_reader_id": ada,
            "absorbed": False,
        }


# ---------------------------------------------------------------- merge


def _merge_fixture(session: Session) -> dict[str, int]:
    """A verified reader on the widget and an anonymous one on Telegram with history."""
    _talk(session, "web-1", "webchat")
    keep = _link(session, "webchat", "web-1")
    merged = _talk(session, "tg-1", "telegram")
    session.get(Reader, merged).email = "ada@example.org"  # type: ignore[union-attr]
    ticket = create_ticket(
        session, sender_id="tg-1", channel="telegram", subject="s", body="b", contact=None
    )
    feedback = record_feedback(session, sender_id="tg-1", channel="telegram", rating=2, comment="x")
    handoff, _ = open_handoff(session, sender_id="tg-1", channel="telegram", reason="asked")
    staff = _staff(session)
    note = Note(conversation_id=handoff.conversation_id, staff_user_id=staff, body="internal")
    session.add(note)
    session.flush()
    return {
        "keep": keep,
        "merged": merged,
        "ticket": int(ticket.id),
        "feedback": int(feedback.id),
        "handoff": int(handoff.id),
        "conversation": int(handoff.conversation_id),
        "note": int(note.id),
        "staff": staff,
    }


def test_merge_moves_everything_fills_the_profile_and_is_audited(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        ids = _merge_fixture(session)
        tg_identity = session.execute(
            select(ChannelIdentity.id).where(ChannelIdentity.external_id == "tg-1")
        ).scalar_one()
    with sessions.begin() as session:
        entry = merge_readers(session, ids["keep"], ids["merged"], ids["staff"], "same email")
        audit_id = int(entry.id)

    with sessions.begin() as session:
        keep = session.get(Reader, ids["keep"])
        assert keep is not None
        assert (keep.display_name, keep.email, keep.card_number) == (
            "Ada Okafor",
            "ada@example.org",
            ADA_CARD,
        )
        assert session.get(Reader, ids["merged"]) is None
        assert _identities(session, ids["keep"]) == [("telegram", "tg-1"), ("webchat", "web-1")]
        assert _conversations(session, ids["keep"]) == ["tg-1", "web-1"]
        assert session.get(Ticket, ids["ticket"]).reader_id == ids["keep"]  # type: ignore[union-attr]
        assert session.get(Feedback, ids["feedback"]).reader_id == ids["keep"]  # type: ignore[union-attr]
        # Handoffs and notes belong to the conversation, which now belongs to the kept reader.
        assert session.get(Handoff, ids["handoff"]).conversation_id == ids["conversation"]  # type: ignore[union-attr]
        assert session.get(Note, ids["note"]).conversation_id == ids["conversation"]  # type: ignore[union-attr]
        entry = session.get(AuditEntry, audit_id)
        assert entry is not None
        assert (entry.action, entry.subject, entry.staff_user_id) == (
            "reader.merge",
            f"reader:{ids['keep']}",
            ids["staff"],
        )
        detail = dict(entry.detail)
        snapshot = detail.pop("merged_reader")
        assert detail == {
            "keep_id": ids["keep"],
            "merge_id": ids["merged"],
            "reason": "same email",
            "forced": False,
            "moved": {
                "channel_identities.reader_id": [tg_identity],
                "conversations.reader_id": [ids["conversation"]],
                "tickets.reader_id": [ids["ticket"]],
                "feedback.reader_id": [ids["feedback"]],
            },
            "filled": ["email"],
            "dropped": {},
        }
        assert snapshot["id"] == ids["merged"]
        assert snapshot["email"] == "ada@example.org"
        assert snapshot["card_number"] is None


def test_merge_refuses_two_different_cards_unless_forced(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        ada = _link(session, "webchat", "web-ada", ADA_CARD)
        ben = _link(session, "telegram", "tg-ben", BEN_CARD)
        staff = _staff(session)
    with pytest.raises(CardConflictError) as refused, sessions.begin() as session:
        merge_readers(session, ada, ben, staff, "looks the same")
    assert str(refused.value) == (
        "These readers were verified with different library cards (**********3456 and "
        "**********9999); they are probably two people. Merge with force only if you are sure."
    )
    with sessions.begin() as session:
        assert _identities(session, ben) == [("telegram", "tg-ben")]
        assert _audit(session, "reader.merge") == []

    with sessions.begin() as session:
        entry = merge_readers(session, ada, ben, staff, "duplicate card record", force=True)
        forced, dropped = entry.detail["forced"], entry.detail["merged_reader"]["card_number"]
    with sessions.begin() as session:
        assert (forced, dropped) == (True, BEN_CARD)
        assert session.get(Reader, ada).card_number == ADA_CARD  # type: ignore[union-attr]
        assert _identities(session, ada) == [("telegram", "tg-ben"), ("webchat", "web-ada")]


@pytest.mark.parametrize(
    ("keep", "merge", "reason", "error", "message"),
    [
        (1, 1, "r", InvalidRequestError, "A reader cannot be merged into itself."),
        (1, 999, "r", ReaderNotFoundError, "No reader has the id 999."),
        (1, 2, "  ", InvalidRequestError, "Give a reason; it is kept in the audit history."),
    ],
)
def test_merge_refuses_bad_requests(
    sessions: sessionmaker[Session], keep, merge, reason, error, message
) -> None:
    with sessions.begin() as session:
        assert _talk(session, "a", "webchat") == 1
        assert _talk(session, "b", "webchat") == 2
    with pytest.raises(error, match=f"^{message}$"), sessions.begin() as session:
        merge_readers(session, keep, merge, None, reason)


def test_undo_merge_restores_the_reader_and_its_rows(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        ids = _merge_fixture(session)
        before_keep = _identities(session, ids["keep"])
        before_merged = _identities(session, ids["merged"])
        audit_id = int(merge_readers(session, ids["keep"], ids["merged"], ids["staff"], "x").id)
    with sessions.begin() as session:
        undo = undo_merge(session, audit_id, ids["staff"], "they are two people")
        undo_detail = undo.detail

    with sessions.begin() as session:
        restored = session.get(Reader, ids["merged"])
        assert restored is not None
        assert (restored.email, restored.card_number) == ("ada@example.org", None)
        assert session.get(Reader, ids["keep"]).email is None  # type: ignore[union-attr]
        assert _identities(session, ids["keep"]) == before_keep
        assert _identities(session, ids["merged"]) == before_merged
        assert _conversations(session, ids["merged"]) == ["tg-1"]
        assert session.get(Ticket, ids["ticket"]).reader_id == ids["merged"]  # type: ignore[union-attr]
        assert session.get(Feedback, ids["feedback"]).reader_id == ids["merged"]  # type: ignore[union-attr]
        assert undo_detail["merge_audit_id"] == audit_id
        assert set(undo_detail["moved"]) == {
            "channel_identities.reader_id",
            "conversations.reader_id",
            "tickets.reader_id",
            "feedback.reader_id",
        }
    with pytest.raises(InvalidRequestError, match="was undone already"), sessions.begin() as s:
        undo_merge(s, audit_id, ids["staff"], "again")


def test_merge_keeps_unique_rows_of_later_tables_and_undo_restores_them(
    sessions: sessionmaker[Session],
) -> None:
    """Tables of other modules with a reader_id (worker reminders, preferences) move too;
    a row that would break a unique key is dropped, kept in the audit, and restored."""
    tables = Base.metadata.tables
    if "sent_reminders" not in tables or "reader_preferences" not in tables:
        pytest.skip("the worker's reader tables are not registered")
    reminders, preferences = tables["sent_reminders"], tables["reader_preferences"]
    with sessions.begin() as session:
        keep = _talk(session, "web-1", "webchat")
        merged = _talk(session, "tg-1", "telegram")
        now = datetime.now(timezone.utc)
        for reader_id, item in ((keep, "loan-1"), (merged, "loan-1"), (merged, "loan-2")):
            session.execute(
                insert(reminders).values(
                    reader_id=reader_id, kind="due", item_key=item, status="sent", created_at=now
                )
            )
        for reader_id, days in ((keep, 3), (merged, 7)):
            session.execute(
                insert(preferences).values(
                    reader_id=reader_id,
                    due_date_reminders=True,
                    hold_ready_notices=False,
                    reminder_days=days,
                    updated_at=now,
                )
            )
        before = sorted(
            (r.id, r.reader_id, r.item_key) for r in session.execute(select(reminders)).all()
        )
    with sessions.begin() as session:
        entry = merge_readers(session, keep, merged, None, "same person")
        audit_id, detail = entry.id, entry.detail
    with sessions.begin() as session:
        rows = sorted((r.reader_id, r.item_key) for r in session.execute(select(reminders)).all())
        days = session.execute(select(preferences.c.reader_id, preferences.c.reminder_days)).all()
    assert rows == [(keep, "loan-1"), (keep, "loan-2")]
    assert [tuple(d) for d in days] == [(keep, 3)]
    assert [r["item_key"] for r in detail["dropped"]["sent_reminders.reader_id"]] == ["loan-1"]
    assert [r["reminder_days"] for r in detail["dropped"]["reader_preferences.reader_id"]] == [7]

    with sessions.begin() as session:
        undo_merge(session, audit_id, None, "two people after all")
    with sessions.begin() as session:
        after = sorted(
            (r.id, r.reader_id, r.item_key) for r in session.execute(select(reminders)).all()
        )
        days = session.execute(
            select(preferences.c.reader_id, preferences.c.reminder_days).order_by(
                preferences.c.reader_id
            )
        ).all()
    assert after == before
    assert [tuple(d) for d in days] == [(keep, 3), (merged, 7)]


# ---------------------------------------------------------------- split


def test_split_moves_the_chosen_identities_and_their_records(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        _talk(session, "web-1", "webchat")
        reader = _link(session, "webchat", "web-1")
        _talk(session, "tg-1", "telegram")
        _link(session, "telegram", "tg-1")
        tg_ticket = create_ticket(
            session, sender_id="tg-1", channel="telegram", subject="s", body="b", contact=None
        ).id
        web_ticket = create_ticket(
            session, sender_id="web-1", channel="webchat", subject="s", body="b", contact=None
        ).id
        tg_feedback = record_feedback(
            session, sender_id="tg-1", channel="telegram", rating=1, comment=None
        ).id
        tg_identity = session.execute(
            select(ChannelIdentity.id).where(ChannelIdentity.external_id == "tg-1")
        ).scalar_one()
        tg_conversation = conversation_of(session, "tg-1").id  # type: ignore[union-attr]
        staff = _staff(session)
    with sessions.begin() as session:
        new, entry = split_reader(session, reader, [tg_identity], staff, "not the same person")
        new_id, detail, subject = new.id, entry.detail, entry.subject

    with sessions.begin() as session:
        fresh = session.get(Reader, new_id)
        assert fresh is not None
        assert (fresh.display_name, fresh.card_number, fresh.verified_at) == (None, None, None)
        assert _identities(session, new_id) == [("telegram", "tg-1")]
        assert _conversations(session, new_id) == ["tg-1"]
        assert _identities(session, reader) == [("webchat", "web-1")]
        assert session.get(Ticket, tg_ticket).reader_id == new_id  # type: ignore[union-attr]
        assert session.get(Ticket, web_ticket).reader_id == reader  # type: ignore[union-attr]
        assert session.get(Feedback, tg_feedback).reader_id == new_id  # type: ignore[union-attr]
        assert session.get(Reader, reader).card_number == ADA_CARD  # type: ignore[union-attr]
        assert subject == f"reader:{reader}"
        assert detail == {
            "reader_id": reader,
            "new_reader_id": new_id,
            "reason": "not the same person",
            "moved": {
                "channel_identities.reader_id": [tg_identity],
                "conversations.reader_id": [tg_conversation],
                "tickets.reader_id": [tg_ticket],
                "feedback.reader_id": [tg_feedback],
            },
        }
        assert [e.action for e in _audit(session, "reader.split")] == ["reader.split"]


def test_split_refuses_nothing_everything_and_foreign_identities(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        _talk(session, "web-1", "webchat")
        reader = _link(session, "webchat", "web-1")
        _talk(session, "tg-1", "telegram")
        _link(session, "telegram", "tg-1")
        other = _talk(session, "other", "webchat")
        own = list(
            session.execute(
                select(ChannelIdentity.id).where(ChannelIdentity.reader_id == reader)
            ).scalars()
        )
        foreign = session.execute(
            select(ChannelIdentity.id).where(ChannelIdentity.reader_id == other)
        ).scalar_one()
    cases = [
        ([], "Choose at least one identity to split off."),
        (own, "Leave at least one identity with the reader; a split cannot take them all."),
        ([foreign], f"Identities {foreign} do not belong to reader {reader}."),
    ]
    for chosen, message in cases:
        with pytest.raises(InvalidRequestError) as refused, sessions.begin() as session:
            split_reader(session, reader, chosen, None, "why")
        assert str(refused.value) == message
    with sessions.begin() as session:
        assert len(_identities(session, reader)) == 2
        assert session.execute(select(func.count(Reader.id))).scalar_one() == 2


# ---------------------------------------------------------------- profile and reach


def test_profile_lists_identities_masked_card_history_and_reach(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        _talk(session, "web-1", "webchat")
        reader = _link(session, "webchat", "web-1")
        _talk(session, "tg-1", "telegram")
        _link(session, "telegram", "tg-1")
        create_ticket(
            session, sender_id="tg-1", channel="telegram", subject="Hold?", body="b", contact=None
        )
        record_feedback(session, sender_id="web-1", channel="webchat", rating=5, comment="great")

    with sessions.begin() as session:
        profile = reader_profile(session, reader)
    assert profile["card"] == "**********3456"
    assert ADA_CARD not in repr(profile)
    assert (profile["name"], profile["verified"]) == ("Ada Okafor", True)
    assert [(i["channel"], i["external_id"], i["reachable"]) for i in profile["identities"]] == [
        ("webchat", "web-1", True),
        ("telegram", "tg-1", True),
    ]
    assert all(i["last_seen_at"] for i in profile["identities"])
    assert [c["sender_id"] for c in profile["conversations"]] == ["tg-1", "web-1"]
    assert [t["subject"] for t in profile["tickets"]] == ["Hold?"]
    assert [(f["rating"], f["comment"]) for f in profile["feedback"]] == [(5, "great")]
    # Linking touched tg-1 last, so it is the most recent reachable conversation.
    assert profile["reachable_conversation"]["sender_id"] == "tg-1"

    with sessions.begin() as session:
        assert mark_unreachable(session, "telegram", "tg-1") is True
        assert mark_unreachable(session, "telegram", "nobody") is False
    with sessions.begin() as session:
        profile = reader_profile(session, reader)
    assert [i["reachable"] for i in profile["identities"]] == [True, False]
    assert profile["reachable_conversation"]["sender_id"] == "web-1"

    with sessions.begin() as session:
        mark_unreachable(session, "webchat", "web-1")
    with sessions.begin() as session:
        assert reader_profile(session, reader)["reachable_conversation"] is None
        assert mark_reachable(session, "telegram", "tg-1") is True
    with sessions.begin() as session:
        assert reader_profile(session, reader)["reachable_conversation"]["sender_id"] == "tg-1"
        with pytest.raises(ReaderNotFoundError):
            reader_profile(session, 424242)


def test_search_by_name_email_card_digits_and_address(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        ada = _link(session, "webchat", "web-ada", ADA_CARD)
        ben = _link(session, "telegram", "tg-ben", BEN_CARD)
        session.get(Reader, ben).email = "ben.mensah@example.org"  # type: ignore[union-attr]
        anon = _talk(session, "100%_sure", "webchat")

    def found(query: str) -> list[int]:
        with sessions.begin() as session:
            return [r["id"] for r in search_readers(session, query)]

    assert found("okafor") == [ada]
    assert found("MENSAH@") == [ben]
    assert found("3456") == [ada]
    assert found("99 99") == [ben]
    assert found("tg-ben") == [ben]
    assert found("%_") == [anon]
    assert found("") == [anon, ben, ada]
    with sessions.begin() as session:
        brief = search_readers(session, "okafor")[0]
    assert brief == {
        "id": ada,
        "name": "Ada Okafor",
        "email": None,
        "card": "**********3456",
        "verified": True,
        "channels": ["webchat"],
        "created_at": brief["created_at"],
    }
