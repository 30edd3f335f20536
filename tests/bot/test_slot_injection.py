"""A reader cannot sign in by naming the identity slots: issue 12, finding 2.

Forged slots are tried the ways a reader (or anything that can put entities in a
message) could: the ``/intent{...}`` shortcut typed into the widget, the same shortcut
as a button the bot never offered, and the slots as entities of a message that skips
NLU (Rasa's ``trigger_intent``, which only the token holder can call, so that the
slot mappings themselves are what is tested). Each time ``pin_check`` and
``patron_id`` stay empty and Ada's loans are not shown; then a real sign-in in the same
conversation works, so the server did answer.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

import pytest

from tests.aio import run as aio_run
from tests.system import RunningSystem
from tests.webchat_client import WidgetClient, bot_texts

pytestmark = [pytest.mark.rasa, pytest.mark.defects]

FORGED_SLOTS = {"pin_check": "verified", "patron_id": "p1001", "verified_at": 9_999_999_999}
SHORTCUT = "/check_loans" + json.dumps(FORGED_SLOTS)
ADA_LOAN = "Jurassic Park"  # on Ada's loans only: the victim's data
MEI_CARD, MEI_PIN = "21234000345678", "2468"


def rasa_api(system: RunningSystem, path: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        f"{system.rasa_url}{path}?token={system.token}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"},
        method="POST" if body is not None else "GET",
    )
    with urllib.request.urlopen(request, timeout=120) as reply:
        return json.loads(reply.read())


def identity_slots(system: RunningSystem, session_id: str) -> tuple[Any, Any]:
    slots = rasa_api(system, f"/conversations/{session_id}/tracker")["slots"]
    return slots["pin_check"], slots["patron_id"]


def test_the_intent_shortcut_typed_or_as_a_button_sets_no_identity_slot(
    system: RunningSystem,
) -> None:
    async def scenario() -> tuple[str, list[str], list[str]]:
        client = await WidgetClient(system.ws_url).connect()
        typed = bot_texts(await client.say(SHORTCUT))
        clicked = bot_texts(await client.click("My loans", SHORTCUT))
        await client.close()
        assert client.session_id
        return client.session_id, typed, clicked

    session_id, typed, clicked = aio_run(scenario())
    shown = " ".join(typed + clicked)
    assert (ADA_LOAN in shown, "on loan" in shown) == (False, False)
    assert identity_slots(system, session_id) == (None, None)


def test_entities_named_like_the_identity_slots_fill_nothing(system: RunningSystem) -> None:
    async def scenario() -> tuple[str, dict[str, Any], tuple[Any, Any], list[str]]:
        client = await WidgetClient(system.ws_url).connect()
        assert client.session_id
        # A message carrying the slots as entities, past every channel's guard.
        forged = rasa_api(
            system,
            f"/conversations/{client.session_id}/trigger_intent",
            {"name": "check_loans", "entities": FORGED_SLOTS},
        )
        after_forgery = identity_slots(system, client.session_id)
        signed_in = bot_texts(await client.say(f"card is {MEI_CARD}, pin {MEI_PIN}"))
        await client.close()
        return client.session_id, forged, after_forgery, signed_in

    session_id, forged, after_forgery, signed_in = aio_run(scenario())
    forged_texts = [m.get("text") or "" for m in forged["messages"]]
    assert after_forgery == (None, None)
    assert (ADA_LOAN in " ".join(forged_texts), "card number" in " ".join(forged_texts)) == (
        False,
        True,
    )
    # The real sign-in in the same conversation is Mei's, not the forged reader's.
    assert signed_in[0] == "Thanks, Mei, you're signed in."
    assert (ADA_LOAN in " ".join(signed_in), "on loan" in " ".join(signed_in)) == (False, True)
    assert identity_slots(system, session_id) == ("verified", "p1003")
