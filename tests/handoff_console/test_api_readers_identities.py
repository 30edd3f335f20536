"""Identity labels as people read them, from what the channels recorded (in-process store)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store import clock
from crm_store.channels import record_message
from crm_store.db import make_engine, make_session_factory
from crm_store.ingestion import RasaEvent, ingest
from crm_store.migrate import upgrade
from crm_store.models import ChannelIdentity
from handoff_console.services.identities import identity_label

pytestmark = pytest.mark.workspace


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine).begin() as session:
        yield session
    engine.dispose()


def _say(session: Session, sender: str, channel: str, metadata: dict[str, Any]) -> str:
    body = {
        "event": "user",
        "text": "hello",
        "timestamp": time.time(),
        "input_channel": channel,
        "metadata": metadata,
        "parse_data": {"intent": {"name": "greet", "confidence": 0.9}},
    }
    ingest(session, [RasaEvent(sender, body)], "test")
    session.flush()
    identity = session.execute(
        select(ChannelIdentity).where(ChannelIdentity.external_id == sender)
    ).scalar_one()
    return identity_label(session, identity)


def test_labels(session: Session) -> None:
    assert _say(session, "123", "telegram", {"telegram": {"username": "ada"}}) == "Telegram @ada"
    assert _say(session, "456", "telegram", {"telegram": {"user_id": 9}}) == (
        "Telegram (username not known)"
    )
    assert _say(session, "C1:T1", "slack", {"slack": {"user": "U0123"}}) == (
        "Slack (name not known)"
    )
    assert _say(session, "web-1", "webchat", {}) == "Web chat (browser not known, 1 visit)"
    record_message(
        session,
        message_id="<a@b>",
        sender_id="email:abc",
        direction="in",
        address="Ada@Example.org",
        subject="Renewals",
        when=clock.now(),
    )
    assert _say(session, "email:abc", "email", {"email": {"subject": "x"}}) == (
        "Email ada@example.org"
    )
    assert _say(session, "email:zzz", "email", {}) == "Email (address not known)"
