"""The reader panel in headless Chromium (issue 15, item 5).

A real console process on a migrated SQLite store and the demo library system in its
own state file. Ada Okafor (the demo library's card 21234000123456) is verified on the
web chat (Chrome, three visits) and on Telegram (@ada_reads); she rated one earlier
conversation 4/5 and left a ticket. Nothing here needs Rasa.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from crm_store.db import make_engine, make_session_factory
from crm_store.ingestion import RasaEvent, ingest
from crm_store.migrate import upgrade
from crm_store.models import AuditEntry, Feedback
from crm_store.repositories import conversation_of, create_ticket, link_verified_reader
from handoff_console.accounts import create_staff
from tests.handoff_console.console_server import ConsoleServer, start_console

pytestmark = [pytest.mark.browser, pytest.mark.workspace]

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "docs" / "img" / "console"
CARD = "21234000123456"
PASSWORD = "sam-correct-horse-battery"
CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
DAY = r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} [A-Z][a-z]{2} \d{4}"


@dataclass
class Scene:
    console: ConsoleServer
    url: str
    ada: int
    ils_dir: Path
    db_url: str
    rated_conversation: int
    ticket: int


def _events(sender: str, channel: str, metadata: dict, sessions: int) -> list[RasaEvent]:
    start = time.time() - 3600
    events = []
    for visit in range(sessions):
        events.append(
            RasaEvent(sender, {"event": "session_started", "timestamp": start + visit * 60})
        )
        events.append(
            RasaEvent(
                sender,
                {
                    "event": "user",
                    "text": f"hello, visit {visit + 1}",
                    "timestamp": start + visit * 60 + 1,
                    "input_channel": channel,
                    "metadata": metadata,
                    "parse_data": {"intent": {"name": "greet", "confidence": 0.9}},
                },
            )
        )
    return events


@pytest.fixture
def scene(tmp_path: Path) -> Iterator[Scene]:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    upgrade(url)
    sessions = make_session_factory(make_engine(url))
    web, telegram = f"web-{uuid.uuid4().hex[:8]}", f"{uuid.uuid4().int % 10**9}"
    with sessions.begin() as session:
        create_staff(
            session, username="sam", password=PASSWORD, role="librarian", display_name="Sam Reyes"
        )
        ingest(session, _events(web, "webchat", {"user_agent": CHROME}, 3), "test")
        telegram_meta = {"telegram": {"user_id": 42, "username": "ada_reads"}}
        ingest(session, _events(telegram, "telegram", telegram_meta, 1), "test")
        session.flush()
        for sender, channel in ((web, "webchat"), (telegram, "telegram")):
            ada = link_verified_reader(
                session,
                channel=channel,
                external_id=sender,
                card_number=CARD,
                name="Ada Okafor",
                email=None,
            ).id
        rated = int(conversation_of(session, telegram).id)
        session.add(Feedback(conversation_id=rated, reader_id=ada, rating=4, comment="quick"))
        ticket = create_ticket(
            session,
            sender_id=web,
            channel="webchat",
            subject="Lost my library card",
            body="Can I get a new one?",
            contact=None,
        ).id
    sessions.kw["bind"].dispose()
    ils_dir = tmp_path / "ils"
    ils_dir.mkdir()
    console = start_console(
        url,
        tmp_path / "console.log",
        extra_env={"RIC_DEMO_ILS_DB": str(ils_dir / "demo_ils.db"), "RIC_LIBRARY_SYSTEM": "demo"},
    )
    try:
        yield Scene(
            console, f"http://127.0.0.1:{console.port}", int(ada), ils_dir, url, rated, int(ticket)
        )
    finally:
        console.stop()


def sign_in(page: Page, scene: Scene, path: str) -> None:
    page.goto(f"{scene.url}{path}")
    page.get_by_label("User name").fill("sam")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{scene.url}{path}")


def _single_line(page: Page, selector: str) -> list[str]:
    """The texts of the headers matching ``selector`` that wrap onto more than one line."""
    return page.evaluate(
        """(selector) => Array.from(document.querySelectorAll(selector)).filter((th) => {
            const range = document.createRange();
            range.selectNodeContents(th);
            const tops = new Set(Array.from(range.getClientRects()).map((r) => Math.round(r.top)));
            return tops.size > 1;
        }).map((th) => th.textContent)""",
        selector,
    )


def test_loans_with_titles_due_dates_and_renew_on_behalf(page: Page, scene: Scene) -> None:
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, scene, f"/readers/{scene.ada}")
    panel = page.locator("#reader-panel")
    loans = panel.locator(".rp-loans tbody tr")
    expect(loans).to_have_count(4)
    expect(panel.locator(".rp-loans .rp-title")).to_contain_text(["The Hobbit"])
    for label in panel.locator(".rp-due-label").all_inner_texts():
        assert re.fullmatch(DAY, label), label
    expect(panel.locator(".rp-due-relative.overdue")).to_have_text(["overdue by 5 days"])
    expect(panel.locator(".rp-library")).to_contain_text("Card **********3456")
    expect(panel.locator(".rp-library")).not_to_contain_text(CARD)
    expect(panel.locator(".rp-holds")).to_contain_text(
        "Animal Farm: Ready to collect at Central Library"
    )
    expect(panel.locator(".rp-charges-total")).to_have_text("£0.75 owed")
    assert _single_line(page, "th") == []

    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#reader-panel").screenshot(path=str(SHOTS / "reader-panel.png"))

    # Renew the loan due in 6 days (a book: 21 more days) on Ada's behalf.
    item = loans.filter(has_text="due in 6 days").get_attribute("data-item-id")
    row = panel.locator(f'.rp-loans tr[data-item-id="{item}"]')
    old = row.locator(".rp-due-label").inner_text()
    row.get_by_role("button", name=re.compile("^Renew ")).click()
    status = row.locator(".rp-renew-status")
    expect(status).to_have_text(re.compile(rf"^Renewed: now due {DAY}\.$"))
    new = row.locator(".rp-due-label").inner_text()
    old_day = dt.datetime.strptime(old + " +0000", "%a %d %b %Y %z").date()
    new_day = dt.datetime.strptime(new + " +0000", "%a %d %b %Y %z").date()
    assert new_day - old_day == dt.timedelta(days=21)
    expect(row.locator(".rp-due-relative")).to_have_text("due in 27 days")
    expect(page.locator("#audit-list li").first).to_contain_text(f"now due {new}")

    engine = make_engine(scene.db_url)
    try:
        with make_session_factory(engine).begin() as session:
            entries = (
                session.execute(
                    select(AuditEntry).where(AuditEntry.action == "reader.renew_on_behalf")
                )
                .scalars()
                .all()
            )
            assert [(e.subject, e.detail["new_due_date"]) for e in entries] == [
                (f"reader:{scene.ada}", new_day.isoformat())
            ]
    finally:
        engine.dispose()

    # A refusal shows the library system's reason.
    hobbit = loans.filter(has_text="The Hobbit")
    hobbit.get_by_role("button", name="Renew The Hobbit").click()
    expect(hobbit.locator(".rp-renew-status")).to_contain_text("Not renewed:")
    expect(hobbit.locator(".rp-renew-status")).to_contain_text("waiting")


def test_place_a_hold_on_behalf_and_its_refusal(page: Page, scene: Scene) -> None:
    sign_in(page, scene, f"/readers/{scene.ada}")
    panel = page.locator("#reader-panel")
    expect(panel.locator(".rp-loans tbody tr")).to_have_count(4)
    panel.get_by_text("Place a hold for this reader").click()
    panel.get_by_label("Find a title").fill("hobbit")
    panel.get_by_label("Collect at").select_option("northside")
    panel.get_by_role("button", name="Search the catalogue").click()
    panel.get_by_role("button", name="Place hold on The Hobbit (book)").click()
    expect(panel.locator(".rp-hold-status-line")).to_contain_text("No hold placed:")
    expect(panel.locator(".rp-hold-status-line")).to_contain_text("already have")

    panel.get_by_label("Find a title").fill("frankenstein")
    panel.get_by_role("button", name="Search the catalogue").click()
    panel.get_by_role("button", name="Place hold on Frankenstein (book)").click()
    expect(panel.locator(".rp-flash")).to_contain_text("Hold placed:")
    expect(panel.locator(".rp-holds li").filter(has_text="Frankenstein")).to_contain_text(
        "Waiting in the queue at Northside Branch"
    )
    expect(page.locator("#audit-list li").first).to_contain_text(
        "Placed a hold on “Frankenstein” for the reader, to collect at Northside Branch."
    )


def test_identities_and_history_with_csat(page: Page, scene: Scene) -> None:
    sign_in(page, scene, f"/readers/{scene.ada}")
    labels = page.locator("#identities-rows .identity-label")
    expect(labels).to_have_text(["Web chat (Chrome, 3 visits)", "Telegram @ada_reads"])
    history = page.locator("#reader-panel .rp-history li")
    expect(history).to_have_count(3)
    rated = history.filter(has=page.locator(f'a[href="/conversations/{scene.rated_conversation}"]'))
    expect(rated.locator(".csat")).to_have_text("rated 4/5")
    ticket = history.filter(has_text="Lost my library card")
    expect(ticket.get_by_role("link", name=f"Ticket #{scene.ticket}")).to_have_attribute(
        "href", f"/tickets#ticket-{scene.ticket}"
    )
    expect(ticket.locator(".csat")).to_have_text("not rated")

    # The component mounts anywhere, as the inbox's right pane does.
    page.evaluate(
        """(id) => { const box = document.createElement('div'); box.id = 'mounted';
                     document.body.appendChild(box);
                     return window.RicReaderPanel.render(box, id, {sections: ['identities']}); }""",
        scene.ada,
    )
    expect(page.locator("#mounted .identity-label")).to_have_text(
        ["Web chat (Chrome, 3 visits)", "Telegram @ada_reads"]
    )

    # Narrow, as in the inbox's right pane: everything fits without sideways scrolling.
    page.evaluate(
        """(id) => { const box = document.createElement('div'); box.id = 'narrow';
                     box.style.width = '360px'; box.style.background = '#fff';
                     document.body.prepend(box);
                     return window.RicReaderPanel.render(box, id, {canEdit: true}); }""",
        scene.ada,
    )
    narrow = page.locator("#narrow")
    expect(narrow.locator(".rp-loans tbody tr")).to_have_count(4)
    assert narrow.evaluate("(box) => box.scrollWidth <= box.clientWidth")
    narrow.screenshot(path=str(SHOTS / "reader-panel-narrow.png"))


def test_library_system_down_is_said_plainly(page: Page, scene: Scene) -> None:
    (scene.ils_dir / "ils_down").touch()
    sign_in(page, scene, f"/readers/{scene.ada}")
    down = page.locator("#reader-panel .rp-library-down")
    expect(down).to_have_text(
        "Library system unavailable: loans, holds and charges cannot be shown right now. "
        "Try again in a few minutes."
    )
    expect(page.locator("#reader-panel .rp-loans")).to_have_count(0)
    # The rest of the panel still works.
    expect(page.locator("#reader-panel .rp-history li")).to_have_count(3)
    page.locator("#reader-panel").screenshot(path=str(SHOTS / "reader-panel-ils-down.png"))
