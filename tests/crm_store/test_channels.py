"""The store service the connectors call: reachability of a channel identity."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_store.channels import record_reachability
from crm_store.models import ChannelIdentity, Reader


def _reachable(sessions: sessionmaker[Session]) -> bool:
    with sessions() as session:
        return bool(
            session.execute(
                select(ChannelIdentity.reachable).where(ChannelIdentity.external_id == "4242")
            ).scalar_one()
        )


def test_a_blocked_chat_is_unreachable_until_it_writes_again(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        reader = Reader()
        session.add(reader)
        session.flush()
        session.add(ChannelIdentity(reader_id=reader.id, channel="telegram", external_id="4242"))

    with sessions.begin() as session:
        assert record_reachability(session, "telegram", "4242", reachable=False) is True
    assert _reachable(sessions) is False

    with sessions.begin() as session:
        assert record_reachability(session, "telegram", "4242", reachable=True) is True
    assert _reachable(sessions) is True

    # Writing while reachable changes nothing (and writes nothing).
    with sessions.begin() as session:
        assert record_reachability(session, "telegram", "4242", reachable=True) is False
    assert _reachable(sessions) is True


def test_an_unknown_identity_changes_nothing(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        assert record_reachability(session, "telegram", "nobody", reachable=False) is False
        assert record_reachability(session, "telegram", "nobody", reachable=True) is False
