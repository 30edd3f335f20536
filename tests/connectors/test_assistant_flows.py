"""Assistant flows through the widget channel, with the real Rasa, action server and stores."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from crm_store.models import ChannelIdentity, Message, RawEvent, Reader
from tests.aio import run as aio_run
from tests.system import RunningSystem
from tests.webchat_client import WidgetClient, bot_texts

pytestmark = pytest.mark.rasa

ADA_CARD, ADA_PIN = "21234000123456", "4821"


def tracker_json(system: RunningSystem, session_id: str) -> str:
    url = f"{system.rasa_url}/conversations/{session_id}/tracker?token={system.token}"
    with urllib.request.urlopen(url, timeout=10) as reply:
        return reply.read().decode()


def has_pin(text: str) -> bool:
    """True when Ada's PIN appears as a number of its own (not inside a longer one,
    such as the digits of a confidence score)."""
    return re.search(rf"(?<!\d){ADA_PIN}(?!\d)", text) is not None


def converse(system: RunningSystem, *texts: str) -> tuple[str, list[list[dict[str, Any]]]]:
    async def scenario() -> tuple[str, list[list[dict[str, Any]]]]:
        client = await WidgetClient(system.ws_url).connect()
        turns = [await client.say(text) for text in texts]
        await client.close()
        assert client.session_id
        return client.session_id, turns

    return aio_run(scenario())


def wait_for_store(system: RunningSystem, session_id: str) -> Session:
    engine = create_engine(system.database_url, future=True)
    session = Session(engine)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = session.execute(select(RawEvent).where(RawEvent.sender_id == session_id)).first()
        if found:
            time.sleep(0.5)  # let the batch finish
            return session
        time.sleep(0.2)
    return session


def test_sign_in_in_one_message_lists_loans_and_never_keeps_the_pin(system: RunningSystem) -> None:
    session_id, turns = converse(
        system, "what books do i have out", f"card is {ADA_CARD}, pin {ADA_PIN}"
    )
    assert "card number" in " ".join(bot_texts(turns[0]))
    replies = bot_texts(turns[1])
    assert replies[0] == "Thanks, Ada, you're signed in."
    assert replies[1].startswith("You have ") and "overdue" in replies[1]
    assert not any(has_pin(text) for turn in turns for text in bot_texts(turn))
    assert not has_pin(tracker_json(system, session_id))
    with wait_for_store(system, session_id) as session:
        texts = session.execute(select(Message.text)).scalars().all()
        bodies = (
            session.execute(select(RawEvent.body).where(RawEvent.sender_id == session_id))
            .scalars()
            .all()
        )
        reader = session.execute(select(Reader).where(Reader.card_number == ADA_CARD)).scalar_one()
        identity = session.execute(
            select(ChannelIdentity).where(ChannelIdentity.external_id == session_id)
        ).scalar_one()
    assert not any(has_pin(text or "") for text in texts)
    assert not any(has_pin(json.dumps(body)) for body in bodies)
    # Issue 18: the tracker store (and so the reader store) keeps the card masked too.
    assert "card is **********3456, pin ••••" in texts
    assert not any(ADA_CARD in (text or "") for text in texts)
    assert (identity.channel, identity.reader_id) == ("webchat", reader.id)


def test_wrong_pin_counts_down_and_hours_can_be_asked_mid_sign_in(system: RunningSystem) -> None:
    _, turns = converse(
        system, "do i owe anything", "21234000456789", "what time do you close today?", "0000"
    )
    assert "PIN" in " ".join(bot_texts(turns[1]))
    assert any("Central" in text for text in bot_texts(turns[2]))  # answered, then back to the form
    assert any("PIN" in text for text in bot_texts(turns[2]))
    assert any("tries left" in text for text in bot_texts(turns[3]))


def test_library_system_down_is_explained_with_a_librarian_offer(system: RunningSystem) -> None:
    flag = system.var_dir / "ils_down"
    flag.touch()
    try:
        _, turns = converse(system, "check my fines", f"card {ADA_CARD} pin {ADA_PIN}")
    finally:
        flag.unlink()
    last = [f for f in turns[1] if f["type"] == "bot"][-1]
    assert "library system isn't answering" in last["text"]
    assert [b["title"] for b in last["buttons"]] == ["Talk to a librarian"]


def test_catalogue_search_offers_reserve_buttons(system: RunningSystem) -> None:
    _, turns = converse(system, "do you have the hobbit")
    reply = [f for f in turns[0] if f["type"] == "bot"][-1]
    assert "The Hobbit" in reply["text"]
    assert reply["buttons"][0]["payload"].startswith('/place_hold{"record_id": ')


def test_faq_is_answered_with_facts_from_the_profile(system: RunningSystem) -> None:
    from library.profile import load_profile

    network = str(load_profile().raw["faq"]["wifi"]["network"])
    _, turns = converse(system, "whats the wifi password")
    assert network in " ".join(bot_texts(turns[0]))


def test_renewing_all_by_typing_after_the_choice(system: RunningSystem) -> None:
    _, turns = converse(
        system, "renew my books please", f"card {ADA_CARD} pin {ADA_PIN}", "all of them"
    )
    assert "Which would you like to renew?" in " ".join(bot_texts(turns[1]))
    assert bot_texts(turns[2])[-1].startswith("I renewed ")
