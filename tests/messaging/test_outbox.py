"""The shared outbox state machine, on the librarians' messages and on surveys."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_store import clock
from crm_store.models import OutboundMessage, StaffUser
from crm_store.models.operations import Notification
from messaging import outbox, relay
from tests.crm_store._worker_data import START, conversation, staff, travel

__all__ = ["travel"]


def _outbound(session: Session, name: str = "ada", status: str = relay.PENDING) -> int:
    chat = conversation(session, f"reader-{name}")
    librarian: StaffUser = staff(session, f"kim-{name}")
    row = OutboundMessage(
        conversation_id=chat.id, staff_user_id=librarian.id, text="Hello", status=status
    )
    session.add(row)
    session.flush()
    return int(row.id)


def test_only_one_caller_claims_a_row(
    sessions: sessionmaker[Session], travel: clock.TravelClock
) -> None:
    with sessions.begin() as session:
        row_id = _outbound(session)
    with sessions.begin() as session:
        first = outbox.claim(session, relay.OUTBOX, row_id, START)
    with sessions.begin() as session:
        second = outbox.claim(session, relay.OUTBOX, row_id, START)
        status = session.get(OutboundMessage, row_id).status
    assert (first, second, status) == (True, False, outbox.SENDING)


def test_failed_attempts_go_back_to_ready_then_give_up(
    sessions: sessionmaker[Session], travel: clock.TravelClock
) -> None:
    with sessions.begin() as session:
        row_id = _outbound(session)
    outcomes = []
    for _ in range(relay.MAX_ATTEMPTS):
        with sessions.begin() as session:
            assert outbox.claim(session, relay.OUTBOX, row_id, START)
            outcomes.append(relay.record_outcome(session, row_id, "Rasa is down " * 300))
    with sessions() as session:
        row = session.get(OutboundMessage, row_id)
        assert row is not None
        kept = (row.attempts, len(row.last_error), row.sent_at)
    assert outcomes == [relay.PENDING] * (relay.MAX_ATTEMPTS - 1) + [relay.FAILED]
    assert kept == (relay.MAX_ATTEMPTS, 2000, None)


def test_a_sent_row_records_when_and_forgets_the_error(
    sessions: sessionmaker[Session], travel: clock.TravelClock
) -> None:
    with sessions.begin() as session:
        row_id = _outbound(session)
        assert outbox.claim(session, relay.OUTBOX, row_id, START)
        assert relay.record_outcome(session, row_id, "refused") == relay.PENDING
        assert outbox.claim(session, relay.OUTBOX, row_id, START)
        assert relay.record_outcome(session, row_id, None) == relay.SENT
    with sessions() as session:
        row = session.get(OutboundMessage, row_id)
        assert row is not None
        assert (row.status, row.attempts, row.last_error, row.sent_at) == ("sent", 2, None, START)


def test_a_stale_sending_row_is_pending_again(
    sessions: sessionmaker[Session], travel: clock.TravelClock
) -> None:
    with sessions.begin() as session:
        row_id = _outbound(session, "stale", outbox.SENDING)
        session.get(OutboundMessage, row_id).created_at = START - timedelta(minutes=11)
        fresh_id = _outbound(session, "fresh", outbox.SENDING)
    with sessions.begin() as session:
        released = outbox.release_stale(
            session, relay.OUTBOX, OutboundMessage.created_at, START - relay.STALE_SENDING
        )
    with sessions() as session:
        statuses = session.execute(
            select(OutboundMessage.id, OutboundMessage.status).order_by(OutboundMessage.id)
        ).all()
    assert released == 1
    assert [tuple(s) for s in statuses] == [(row_id, relay.PENDING), (fresh_id, outbox.SENDING)]


def test_insert_once_loses_quietly_to_the_unique_key(
    sessions: sessionmaker[Session], travel: clock.TravelClock
) -> None:
    def notification() -> Notification:
        return Notification(dedupe_key="k", kind="test", subject="s", title="t")

    with sessions.begin() as session:
        won = outbox.insert_once(session, notification())
        lost = outbox.insert_once(session, notification())
        count = len(session.execute(select(Notification.id)).all())
    assert (won, lost, count) == (True, False, 1)
