"""Issue 13's dialogue paths, end to end through the widget, the real Rasa and action servers.

Each test is one conversation a real reader has had trouble with: leaving a message out
of hours, explaining why after asking for a librarian, a hold from search to queue
position, abuse, pasted email text, several requests at once, and a markdown link.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from actions.abuse import CALM_TEXT
from crm_store.models import Conversation, Handoff, HandoffStatus, Message, Ticket
from tests.aio import run as aio_run
from tests.connectors.test_telegram import new_chat, post, text_update
from tests.standins.telegram_api import TelegramApiStandIn
from tests.system import RunningSystem
from tests.webchat_client import WidgetClient, bot_texts

pytestmark = [pytest.mark.rasa, pytest.mark.dialogue]

PRIYA = ("21234000567890", "1122")  # no loans or holds
MEI = ("21234000345678", "2468")  # two renewable loans
JONAH = ("21234000456789", "9753")

Step = str | tuple[str, str]  # typed text, or (button title, payload)


def converse(system: RunningSystem, *steps: Step) -> tuple[str, list[list[dict[str, Any]]]]:
    """One widget conversation: type each text or press each button, in order."""

    async def scenario() -> tuple[str, list[list[dict[str, Any]]]]:
        client = await WidgetClient(system.ws_url).connect()
        turns = []
        for step in steps:
            if isinstance(step, tuple):
                turns.append(await client.click(*step))
            else:
                turns.append(await client.say(step))
        await client.close()
        assert client.session_id
        return client.session_id, turns

    return aio_run(scenario())


def bots(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in frames if f["type"] == "bot"]


def tracker(system: RunningSystem, session_id: str) -> dict[str, Any]:
    url = f"{system.rasa_url}/conversations/{session_id}/tracker?token={system.token}"
    with urllib.request.urlopen(url, timeout=10) as reply:
        return json.loads(reply.read().decode())


def parse(system: RunningSystem, text: str) -> dict[str, Any]:
    """Rasa's NLU alone (``POST /model/parse``): what any channel's text becomes."""
    request = urllib.request.Request(
        f"{system.rasa_url}/model/parse?token={system.token}",
        data=json.dumps({"text": text}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.loads(reply.read().decode())


def user_events(system: RunningSystem, session_id: str) -> list[dict[str, Any]]:
    return [e for e in tracker(system, session_id)["events"] if e["event"] == "user"]


def action_names(system: RunningSystem, session_id: str) -> list[str]:
    return [e["name"] for e in tracker(system, session_id)["events"] if e["event"] == "action"]


@contextmanager
def store(system: RunningSystem) -> Iterator[Session]:
    engine = create_engine(system.database_url, future=True)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def wait_for(system: RunningSystem, query: Any, timeout: float = 20.0) -> list[Any]:
    """Poll the reader store until ``query`` has rows (the worker ingests asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        with store(system) as session:
            rows = list(session.execute(query).all())
        if rows or time.monotonic() > deadline:
            return rows
        time.sleep(0.3)


@contextmanager
def action_clock(system: RunningSystem, when: str) -> Iterator[None]:
    """Set the action server's clock (``var/test_clock``) for the duration of a test."""
    path = system.var_dir / "test_clock"
    path.write_text(when, encoding="utf-8")
    try:
        yield
    finally:
        path.unlink()


# --------------------------------------------------------------------------- leave a message


def test_out_of_hours_the_problem_typed_straight_away_becomes_the_ticket(
    system: RunningSystem,
) -> None:
    problem = "my card was charged twice for the same late DVD, could someone check it"
    # Sunday 6 December 2026, 21:00 in London: the chat is closed until Monday 9:00.
    with action_clock(system, "2026-12-06T21:00:00+00:00"):
        session_id, turns = converse(
            system, "can I talk to a librarian please", problem, "ada.okafor@example.org"
        )

    assert bot_texts(turns[0]) == [
        "Our librarians aren't in the chat right now; they're back tomorrow at 9:00.",
        "Leave the librarians a message: type your question here in one go and I'll pass it on.",
    ]
    assert bot_texts(turns[1]) == [
        'How should we reply? Type your email address, or "here" to get the answer in this chat.'
    ]
    [confirmation] = bot_texts(turns[2])
    assert re.fullmatch(
        r"Thanks, your message is with the library team \(ticket #\d+\)\. We'll reply at "
        r"ada\.okafor@example\.org\. Librarians are back tomorrow at 9:00, so expect an "
        r"answer tomorrow, after 9:00\.",
        confirmation,
    )
    number = int(re.search(r"#(\d+)", confirmation).group(1))  # type: ignore[union-attr]
    with store(system) as session:
        ticket = session.get(Ticket, number)
        assert ticket is not None
        conversation = session.get(Conversation, ticket.conversation_id)
        assert (ticket.body, ticket.contact, conversation.sender_id) == (
            problem,
            "ada.okafor@example.org",
            session_id,
        )
    assert "action_clarify" not in action_names(system, session_id)


def test_out_of_hours_no_thanks_leaves_no_message(system: RunningSystem) -> None:
    with action_clock(system, "2026-12-06T21:00:00+00:00"):
        _, turns = converse(
            system, "talk to a human", ("No thanks", "/deny"), "what time do you close today?"
        )

    assert bot_texts(turns[1]) == [
        "No problem, I haven't sent anything. Is there anything else I can help with?"
    ]
    assert "Central" in " ".join(bot_texts(turns[2]))  # normal service afterwards


# --------------------------------------------------------------------------- add to the handoff


def test_the_reason_typed_after_asking_for_a_librarian_joins_the_handoff(
    system: RunningSystem,
) -> None:
    reason = "it's about a fine on my card that I already paid at the desk last week"
    session_id, turns = converse(system, "I'd like to talk to a librarian", reason)

    assert bot_texts(turns[0])[0].startswith("I've asked a librarian to join this chat.")
    assert bot_texts(turns[1]) == []  # no fallback, no clarification: the librarian reads it
    assert "action_clarify" not in action_names(system, session_id)
    rows = wait_for(
        system,
        select(Message.text, Handoff.status)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .join(Handoff, Handoff.conversation_id == Conversation.id)
        .where(Conversation.sender_id == session_id, Message.text == reason),
    )
    assert [(text, status) for text, status in rows] == [(reason, HandoffStatus.WAITING)]


def test_a_request_that_explains_itself_puts_the_reason_in_the_queue(
    system: RunningSystem,
) -> None:
    session_id, turns = converse(
        system, "can I speak to a librarian about a fine I was charged by mistake"
    )

    assert bot_texts(turns[0])[0].startswith("I've asked a librarian to join this chat.")
    rows = wait_for(
        system,
        select(Handoff.reason)
        .join(Conversation, Conversation.id == Handoff.conversation_id)
        .where(Conversation.sender_id == session_id),
    )
    assert [reason for (reason,) in rows] == [
        "reader asked for a librarian: a fine I was charged by mistake"
    ]


# --------------------------------------------------------------------------- hold flow


def test_hold_from_search_result_to_queue_position_with_card_and_pin_in_one_message(
    system: RunningSystem,
) -> None:
    card, pin = PRIYA
    session_id, turns = converse(system, "do you have Normal People by Sally Rooney?")
    [results] = bots(turns[0])
    assert "Normal People" in results["text"]
    reserve = next(b for b in results["buttons"] if b["title"] == "Reserve: Normal People")

    async def rest() -> list[list[dict[str, Any]]]:
        client = await WidgetClient(system.ws_url).connect(session_id)
        steps = [
            await client.click(reserve["title"], reserve["payload"]),
            await client.say("not the ebook"),
            await client.say(f"card is {card}, pin {pin}"),
            await client.say("Northside please"),
        ]
        await client.close()
        return steps

    format_turn, choice_turn, sign_in_turn, branch_turn = aio_run(rest())

    [question] = bots(format_turn)
    assert question["text"] == "“Normal People” comes as book or ebook. Which would you like?"
    assert [b["title"] for b in question["buttons"]] == ["Book", "Ebook"]
    assert bot_texts(choice_turn) == [
        "To look at your account I need your library card number: the 14 digits under the "
        "barcode on the back of your card."
    ]
    assert bot_texts(sign_in_turn)[0] == "Thanks, Priya, you're signed in."
    assert bot_texts(sign_in_turn)[1].startswith("Which branch would you like to collect it from?")
    [done] = bot_texts(branch_turn)
    assert re.fullmatch(
        r"Done: “Normal People” \(book\) is reserved for you, to collect at Northside\. "
        r"(You're first|You are number \d+) in the queue; we'll tell you when it's ready\.",
        done,
    )
    events = json.dumps(tracker(system, session_id))
    assert re.search(rf"(?<!\d){pin}(?!\d)", events) is None
    assert "action_forget_identity" not in action_names(system, session_id)


def test_hold_typed_with_a_comma_title_choosing_a_format_and_signing_in_step_by_step(
    system: RunningSystem,
) -> None:
    card, pin = MEI
    _, turns = converse(
        system,
        "can I reserve Thinking, Fast and Slow please",
        "the audiobook please",
        card,
        pin,
    )

    assert bot_texts(turns[0]) == [
        "“Thinking, Fast and Slow” comes as book or audiobook. Which would you like?"
    ]
    assert "card number" in bot_texts(turns[1])[0]
    assert "PIN" in bot_texts(turns[2])[0]
    assert bot_texts(turns[3])[0] == "Thanks, Mei, you're signed in."
    assert re.fullmatch(
        r"Done: “Thinking, Fast and Slow” \(audiobook\) is reserved for you, it will be lent to "
        r"you online\. (You're first|You are number \d+) in the queue; we'll tell you when "
        r"it's ready\.",
        bot_texts(turns[3])[1],
    )


def test_a_signed_in_reader_reserving_a_one_format_title_is_asked_only_the_branch(
    system: RunningSystem,
) -> None:
    card, pin = JONAH
    _, turns = converse(
        system,
        "how much do I owe",
        f"card {card} pin {pin}",
        "can I reserve Cry, the Beloved Country by Alan Paton",
        "the main library",
    )

    assert bot_texts(turns[1])[0] == "Thanks, Jonah, you're signed in."
    [question] = bot_texts(turns[2])
    assert question.startswith("Which branch would you like to collect it from?")
    assert re.fullmatch(
        r"Done: “Cry, the Beloved Country” \(book\) is reserved for you, to collect at "
        r"Central\. (You're first|You are number \d+) in the queue; we'll tell you when "
        r"it's ready\.",
        bot_texts(turns[3])[0],
    )


# --------------------------------------------------------------------------- abuse


def test_abuse_gets_a_calm_reply_a_librarian_and_no_rating_prompt(system: RunningSystem) -> None:
    session_id, turns = converse(
        system,
        "you are a useless stupid bot",
        "this chatbot is useless",
        "what time do you close today?",
    )

    for turn in turns[:2]:
        [reply] = bots(turn)
        assert (reply["text"], [b["title"] for b in reply["buttons"]]) == (
            CALM_TEXT,
            ["Talk to a librarian"],
        )
    assert not any("rate" in text.lower() for turn in turns for text in bot_texts(turn))
    assert "feedback_form" not in action_names(system, session_id)
    assert "Central" in " ".join(bot_texts(turns[2]))  # normal service after it


# --------------------------------------------------------------------------- pasted email

PASTED_REPLY = """Can I renew my books please?

On Mon, 30 Nov 2026 at 10:02, Riverbend Library <hello@riverbend-library.example> wrote:
> Thanks for your message. What are your opening hours question was answered below.
> Opening hours: Central is open 9:00-20:00. Is there anything else?

--
Ada Okafor
Sent from my iPhone"""


def test_pasted_email_text_only_the_new_text_reaches_nlu(system: RunningSystem) -> None:
    session_id, turns = converse(system, PASTED_REPLY)

    assert bot_texts(turns[0]) == [
        "To look at your account I need your library card number: the 14 digits under the "
        "barcode on the back of your card."
    ]
    [event] = user_events(system, session_id)
    assert event["parse_data"]["text"] == "Can I renew my books please?"
    assert event["parse_data"]["intent"]["name"] == "renew_loans"
    assert event["parse_data"]["text_cleanup"] == ["quoted_email"]
    # The same NLU serves every channel: Rasa's own parse endpoint sees the same text.
    assert parse(system, PASTED_REPLY)["text"] == "Can I renew my books please?"


TELEGRAM_PASTE = """what time do you close on saturday?

On Mon, 30 Nov 2026 at 10:02, Riverbend Library <hello@riverbend-library.example> wrote:
> Can I renew my books and is the wifi free?

Thanks,
Ada"""


def test_pasted_email_text_on_telegram_too(
    system: RunningSystem, telegram_api: TelegramApiStandIn
) -> None:
    chat = new_chat()

    assert post(system, text_update(chat, TELEGRAM_PASTE)) == (200, {"status": "ok"})

    [event] = user_events(system, chat)
    assert (event["input_channel"], event["text"]) == ("telegram", TELEGRAM_PASTE)
    assert event["parse_data"]["text"] == "what time do you close on saturday?"
    assert event["parse_data"]["intent"]["name"] == "library_hours"
    [sent] = telegram_api.made("sendMessage", chat)
    assert "Saturday" in sent.params["text"]


# --------------------------------------------------------------------------- several requests


def test_several_requests_in_one_long_message_are_acted_on(system: RunningSystem) -> None:
    card, pin = MEI
    long_part = "is there parking at riverside, because I'll be driving over with my mum"
    message = (
        f"Hi, my card is {card} and the pin is {pin}. What time do you close today? "
        f"And also can you renew my books? Also, {long_part}? Thanks!"
    )
    session_id, turns = converse(system, message)

    replies = bots(turns[0])
    texts = [r["text"] for r in replies]
    assert texts[0] == "Thanks, Mei, you're signed in."
    assert any("Central" in text for text in texts)  # the hours question is answered
    assert any(text.startswith("Which would you like to renew?") for text in texts)
    offer = next(r for r in replies if r["text"].startswith("You also asked about"))
    assert offer["text"] == "You also asked about: Parking. Press it when you're ready."
    assert [b["title"] for b in offer["buttons"]] == ["Parking"]
    assert not any(long_part in text for text in texts)  # no paragraph echoed back
    [event] = user_events(system, session_id)
    assert re.search(rf"(?<!\d){pin}(?!\d)", event["text"]) is None


@pytest.mark.defects
def test_a_pin_in_a_message_with_several_requests_is_never_saved(system: RunningSystem) -> None:
    card, pin = MEI
    session_id, _ = converse(
        system,
        f"Hi, my card is {card} and the pin is {pin}. What time do you close today? "
        "And also can you renew my books? Also, is there parking at riverside? Thanks!",
    )

    [event] = user_events(system, session_id)
    assert event["parse_data"]["intent"]["name"] == "multiple_requests"
    assert re.search(rf"(?<!\d){pin}(?!\d)", json.dumps(event)) is None


# --------------------------------------------------------------------------- markdown link


def test_a_markdown_link_around_a_title_is_a_catalogue_search(system: RunningSystem) -> None:
    link = "https://catalogue.riverbend-library.example/record/b0284?from=wifi-printing-faq"
    session_id, turns = converse(system, f"do you have [Beloved]({link})")

    [reply] = bots(turns[0])
    assert reply["text"].startswith("Here's what I found for “Beloved”:")
    assert "• Beloved — Morrison, Toni" in reply["text"]
    assert "http" not in reply["text"] and "](" not in reply["text"]
    [event] = user_events(system, session_id)
    assert event["parse_data"]["text"] == "do you have “Beloved”"
    assert event["parse_data"]["intent"]["name"] == "search_catalog"
    assert "action_answer_faq" not in action_names(system, session_id)
