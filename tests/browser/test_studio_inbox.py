"""The studio's NLU inbox and FAQ candidates in Chromium, on the real system (issue 16).

Readers talk to the real Rasa server through the widget's socket; a librarian claims,
answers and resolves a handoff through the console API; an admin, in a second console
whose studio edits a copy of ``bot/``, labels an inbox group and accepts the
librarian's answer as a new FAQ topic. Screenshots go to ``docs/img/studio/``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from crm_store.db import make_engine, make_session_factory
from crm_store.models import Message
from handoff_console.accounts import create_staff
from tests.aio import run
from tests.handoff_console.console_server import ConsoleServer, start_console
from tests.live_console import conversation_id, live_librarian, wait_for
from tests.studio.editor_support import bot_copy, studio_env
from tests.system import ROOT, RunningSystem
from tests.webchat_client import WidgetClient, bot_texts

pytestmark = [pytest.mark.browser, pytest.mark.rasa, pytest.mark.studio]

SHOTS = ROOT / "docs" / "img" / "studio"
KAYAKS = "Do you rent out kayaks?"
KAYAKS_AGAIN = "kayaks for rent on the river"
CLUB = "can my telescope club meet in the library after hours"
SAVE = 120_000
CLUB_ANSWER = "Yes: clubs can book the Central meeting room until 9 pm; ask at the desk."


@dataclass
class Studio:
    """The admin's console (its studio on a copy of bot/) and the admin's password."""

    server: ConsoleServer
    bot: Path
    username: str
    password: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"


@pytest.fixture(scope="module")
def studio(system: RunningSystem, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Studio]:
    directory = tmp_path_factory.mktemp("studio-inbox")
    username, password = f"alex{uuid.uuid4().hex[:6]}", "alex-studio-passphrase-1"
    sessions = make_session_factory(make_engine(system.database_url))
    with sessions.begin() as session:
        create_staff(
            session, username=username, password=password, role="admin", display_name="Alex Kim"
        )
    bot = bot_copy(directory)
    server = start_console(
        system.database_url,
        directory / "console.log",
        rasa_url=system.rasa_url,
        rasa_token=system.token,
        extra_env=studio_env(bot),
    )
    yield Studio(server, bot, username, password)
    server.stop()


@pytest.fixture
def admin(browser: Browser, studio: Studio) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{studio.url}/studio/inbox")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("User name").fill(studio.username)
    page.get_by_label("Password").fill(studio.password)
    page.get_by_role("button", name="Sign in").click()
    yield page
    context.close()
    assert errors == []


async def ask(system: RunningSystem, *texts: str) -> str:
    """One widget reader says ``texts`` in turn, each answered by the bot; their sender id."""
    widget = await WidgetClient(system.ws_url).connect()
    try:
        for text in texts:
            assert bot_texts(await widget.say(text)), text
        return str(widget.session_id)
    finally:
        await widget.close()


def nlu(bot: Path) -> str:
    return "\n".join(p.read_text() for p in sorted((bot / "data" / "nlu").glob("*.yml")))


def test_an_admin_labels_an_inbox_group(system: RunningSystem, studio: Studio, admin: Page) -> None:
    # Two readers ask the same thing, and rephrase it straight after the bot's answer.
    senders = [run(ask(system, text, KAYAKS_AGAIN)) for text in (KAYAKS, "do you rent out kayaks")]
    sessions = make_session_factory(make_engine(system.database_url))
    for sender in senders:
        conversation_id(sessions, sender)
    group = admin.locator("section.inbox-group", has_text=KAYAKS)

    def both_listed() -> bool:
        admin.reload()
        admin.wait_for_selector("#studio-inbox[data-loaded]")
        return group.count() == 1 and group.locator(".group-size").inner_text() == "2"

    wait_for(both_listed, timeout=60, every=1.0)
    expect(group).to_contain_text("reader rephrased")
    SHOTS.mkdir(parents=True, exist_ok=True)
    admin.screenshot(path=str(SHOTS / "inbox-groups.png"), full_page=True)

    group.get_by_label("Assign to").fill("faq/kayak_hire")
    answer = group.get_by_label("Answer of the new FAQ topic")
    expect(answer).to_be_visible()
    answer.fill("We don't hire out kayaks; the Riverside Centre next door does.")
    admin.screenshot(path=str(SHOTS / "inbox-assign.png"), full_page=True)
    group.get_by_role("button", name="Assign").click()

    # The save validates the whole project first (Rasa's own checks): give it time.
    expect(admin.locator("#inbox-summary")).to_contain_text(
        "Assigned to faq/kayak_hire: 2 message(s)", timeout=SAVE
    )
    expect(admin.locator("section.inbox-group", has_text=KAYAKS)).to_have_count(0)
    text = nlu(studio.bot)
    assert "intent: faq/kayak_hire" in text
    assert f"- {KAYAKS}" in text


def test_an_admin_accepts_a_librarians_answer_as_an_faq(
    system: RunningSystem, studio: Studio, admin: Page
) -> None:
    sender = run(ask(system, CLUB, "I'd like to talk to a librarian please"))
    librarian = live_librarian(system, "Sam Reyes", "studiosam")
    conversation = conversation_id(librarian.sessions, sender, timeout=90)

    def question_stored() -> bool:
        # The candidate's question is the reader's stored message: on a loaded machine
        # ingestion can lag the widget's answer, and a handoff resolved before it is in the
        # store would be proposed without it.
        with librarian.sessions() as session:
            found = session.execute(
                select(Message.id).where(
                    Message.conversation_id == conversation, Message.text == CLUB
                )
            ).first()
        return found is not None

    wait_for(question_stored, timeout=90)
    assert librarian.api.post(f"/api/conversations/{conversation}/claim").status == 200
    sent = librarian.api.post(f"/api/conversations/{conversation}/messages", {"text": CLUB_ANSWER})
    assert sent.status == 201, sent.text
    resolved = librarian.api.post(f"/api/conversations/{conversation}/resolve", {})
    assert resolved.status == 200, resolved.text

    admin.goto(f"{studio.url}/studio/candidates")
    card = admin.locator(
        "li.candidate", has=admin.locator(f'a[href="/conversations/{conversation}"]')
    )
    expect(card).to_have_count(1, timeout=SAVE)
    expect(card.get_by_label("Reader's question")).to_have_value(CLUB)
    expect(
        card.get_by_label("Librarian's answer (the topic's response when it is new)")
    ).to_have_value(CLUB_ANSWER)
    expect(card).to_contain_text("New FAQ topic")
    card.get_by_label("Topic", exact=True).fill("faq/club_meetings")
    card.get_by_label("Reader's question").fill("can my club meet in the library")
    admin.screenshot(path=str(SHOTS / "inbox-candidate.png"), full_page=True)
    card.get_by_role("button", name="Accept").click()

    expect(admin.locator("#candidate-summary")).to_contain_text(
        "Accepted into faq/club_meetings", timeout=SAVE
    )
    assert "- can my club meet in the library" in nlu(studio.bot)
    domain = "\n".join(p.read_text() for p in (studio.bot / "domain").glob("*.yml"))
    assert "utter_faq/club_meetings" in domain and "until 9 pm" in domain
    admin.locator("#candidate-status").select_option("accepted")
    accepted = admin.locator(
        "li.candidate", has=admin.locator(f'a[href="/conversations/{conversation}"]')
    )
    expect(accepted).to_contain_text("accepted into faq/club_meetings by Alex Kim")
    expect(accepted).not_to_contain_text("null")
    admin.screenshot(path=str(SHOTS / "inbox-candidate-accepted.png"), full_page=True)


def test_the_intent_health_page(studio: Studio, admin: Page) -> None:
    admin.goto(f"{studio.url}/studio/health")
    # The first report loads the sentence encoder and encodes every example (slow on CI).
    expect(admin.locator("#studio-health[data-loaded]")).to_have_count(1, timeout=300_000)
    expect(admin.locator("#health-summary")).to_contain_text("intents and FAQ topics")
    # No two labels of the shipped data are that close (data_check keeps them apart): each
    # section is a table or says None.
    for section in ("confusable", "thin", "unused", "conflicts", "confusions"):
        expect(admin.locator(f"#health-{section} :is(table, p.empty)")).to_have_count(1)
    expect(admin.locator("#health-thin table tbody tr").first).to_be_visible()
    admin.screenshot(path=str(SHOTS / "inbox-health.png"), full_page=True)
