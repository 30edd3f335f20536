"""A colleague's private note appears live in the open conversation, once, at its time.

Two librarians in two browser contexts on a real console (``python -m handoff_console``
on a migrated SQLite store; no Rasa, so a reply stays "on its way" until its stored copy
is written to the store the way ingestion writes Rasa's event). Maria has the
conversation open in the inbox's middle pane; Sam, on the conversation page, replies and
then writes a private note. Maria sees the note without a reload, exactly once; in Sam's
own transcript the note is shown once (the stored note replaces the copy shown while it
saved) and sits below the reply written before it, also before that reply's stored copy
arrives. A note written by another process straight into the store arrives too.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime

import pytest
from playwright.sync_api import Frame, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.ingestion import RasaEvent, ingest
from crm_store.models import Note, OutboundMessage, StaffUser
from crm_store.repositories import open_handoff
from messaging.rasa_client import librarian_message
from tests.browser.conftest import LIBRARIAN, ConsoleScene, StartScene
from tests.system import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.workspace]

SHOTS = ROOT / "docs" / "img" / "console"
LIVE = 15_000
QUESTION = "Is my interlibrary loan of 'Middlemarch' here yet?"
REPLY = "Let me check the interlibrary loan system for you."
NOTE = "ILL request 4411 <b>in transit</b>; the reader asked twice already."
SECOND = "Maria: I'll phone the lending library about 4411."
FENCE = "Written by the overnight import, straight into the store."


def _waiting_conversation(session: Session) -> tuple[int, str]:
    """A web chat reader asks a question and waits for a librarian: (conversation, sender)."""
    sender_id = f"reader-{uuid.uuid4().hex[:10]}"
    user = {"event": "user", "text": QUESTION, "timestamp": time.time() - 60,
            "input_channel": "webchat",
            "parse_data": {"intent": {"name": "request_human", "confidence": 0.9}}}  # fmt: skip
    ingest(session, [RasaEvent(sender_id, user)], "test")
    handoff, _ = open_handoff(session, sender_id=sender_id, channel="webchat", reason="asked")
    return int(handoff.conversation_id), sender_id


def _frame(page: Page, conversation: int) -> Frame:
    """The inbox's middle pane, once it shows ``conversation``."""
    path = f"/conversations/{conversation}"
    expect(page.frame_locator("#inbox-frame").locator("#live-status")).to_have_text(
        "Live", timeout=LIVE
    )
    return next(f for f in page.frames if f.url.endswith(path))


def _order(transcript_texts: list[str], *wanted: str) -> list[int]:
    """Where each of ``wanted`` sits among the transcript's rows (first row holding it)."""
    return [next(i for i, t in enumerate(transcript_texts) if w in t) for w in wanted]


def _store_reply_copy(scene: ConsoleScene, sender_id: str, sam_id: int) -> None:
    """Write Sam's reply the way ingestion writes Rasa's event, stamped when it was saved."""
    with scene.sessions.begin() as session:
        saved: datetime = session.execute(
            select(OutboundMessage.created_at).where(OutboundMessage.text == REPLY)
        ).scalar_one()
        event = {**librarian_message(REPLY, sam_id, "Sam Reyes"), "timestamp": saved.timestamp()}
        ingest(session, [RasaEvent(sender_id, event)], "test")


def test_a_colleagues_note_appears_live_once_and_below_the_earlier_reply(
    console_scene: StartScene, pages: tuple[Page, Page]
) -> None:
    scene, (conversation, sender_id) = console_scene(
        _waiting_conversation, staff=[LIBRARIAN, ("maria", "librarian", "Maria Lopez")]
    )
    sam, maria = pages

    # Maria keeps the conversation open in the inbox's middle pane.
    scene.sign_in(maria, "/inbox", username="maria")
    maria.goto(f"{scene.url}/inbox?list=open&open={conversation}")
    pane = maria.frame_locator("#inbox-frame")
    frame = _frame(maria, conversation)
    frame.evaluate("window.__marker = 'no reload'")
    expect(pane.locator("#transcript .msg-reader .msg-text")).to_have_text([QUESTION])

    # Sam claims it on the conversation page and replies; with no Rasa to take the reply
    # it stays on its way (the worker would retry it).
    scene.sign_in(sam, f"/conversations/{conversation}")
    expect(sam.locator("#live-status")).to_have_text("Live", timeout=LIVE)
    sam.locator("#claim-button").click()
    expect(sam.locator("#conversation-status")).to_have_text("With Sam Reyes")
    sam.locator("#reply-text").fill(REPLY)
    sam.locator("#reply-text").press("Enter")
    local = sam.locator("#transcript .msg-local")
    expect(local).to_have_attribute("data-state", "pending")

    # Then a private note.
    sam.get_by_role("radio", name="Private note").check()
    sam.locator("#reply-text").fill(NOTE)
    sam.locator("#reply-text").press("Enter")
    expect(sam.locator("#reply-text")).to_have_value("")

    # Maria sees it without a reload, as text, marked, by its author.
    live_note = pane.locator("#transcript .msg-note")
    expect(live_note).to_have_count(1, timeout=LIVE)
    expect(live_note.locator(".msg-text")).to_have_text(NOTE)
    expect(live_note.locator(".msg-sender")).to_have_text("Sam Reyes")
    expect(live_note.locator(".note-badge")).to_have_text("Private note")
    assert frame.evaluate("window.__marker") == "no reload"
    SHOTS.mkdir(parents=True, exist_ok=True)
    maria.screenshot(path=str(SHOTS / "inbox-note-live.png"))

    # Maria answers with a note of her own, from the inbox; Sam sees it live.
    pane.get_by_role("radio", name="Private note").check()
    pane.locator("#reply-text").fill(SECOND)
    pane.locator("#reply-text").press("Enter")
    expect(sam.locator("#transcript .msg-note .msg-text")).to_have_text(
        [NOTE, SECOND], timeout=LIVE
    )

    # Another process writes a note straight into the shared store. When both pages show
    # it, every earlier note event has reached them: each note is there exactly once.
    with scene.sessions.begin() as session:
        maria_id = session.execute(
            select(StaffUser.id).where(StaffUser.username == "maria")
        ).scalar_one()
        session.add(Note(conversation_id=conversation, staff_user_id=maria_id, body=FENCE))
    for transcript in (sam.locator("#transcript"), pane.locator("#transcript")):
        expect(transcript.locator(".msg-note .msg-text")).to_have_text(
            [NOTE, SECOND, FENCE], timeout=LIVE
        )
        expect(transcript.locator(".msg-note-saving")).to_have_count(0)
    assert frame.evaluate("window.__marker") == "no reload"

    # In Sam's transcript the note sits below the reply written before it, although
    # that reply's stored copy has not arrived yet.
    rows = sam.locator("#transcript > li")
    assert _order(rows.all_inner_texts(), REPLY, NOTE, SECOND) == sorted(
        _order(rows.all_inner_texts(), REPLY, NOTE, SECOND)
    )
    expect(local).to_have_count(1)

    # The reply's stored copy arrives (stamped when Sam sent it): it replaces Sam's local
    # copy and, on Maria's side, lands above the note although it came after it.
    with scene.sessions() as session:
        sam_id = session.execute(
            select(StaffUser.id).where(StaffUser.username == "sam")
        ).scalar_one()
    _store_reply_copy(scene, sender_id, int(sam_id))
    expect(local).to_have_count(0, timeout=LIVE)
    reply_rows = pane.locator("#transcript .msg-librarian .msg-text")
    expect(reply_rows).to_have_text([REPLY], timeout=LIVE)
    for page_rows in (rows, pane.locator("#transcript > li")):
        texts = page_rows.all_inner_texts()
        assert _order(texts, QUESTION, REPLY, NOTE, SECOND, FENCE) == sorted(
            _order(texts, QUESTION, REPLY, NOTE, SECOND, FENCE)
        )
    expect(sam.locator("#transcript .msg-librarian")).to_have_count(1)

    # A reload shows the same transcript in the same order.
    sam.reload()
    expect(sam.locator("#live-status")).to_have_text("Live", timeout=LIVE)
    expect(sam.locator("#transcript .msg-note .msg-text")).to_have_text([NOTE, SECOND, FENCE])
    texts = sam.locator("#transcript > li").all_inner_texts()
    assert _order(texts, QUESTION, REPLY, NOTE) == sorted(_order(texts, QUESTION, REPLY, NOTE))
