"""The admin studio's training-data editor in headless Chromium (issue 16).

One real console serves the module, its studio editing a throw-away copy of ``bot/``
(never ``bot/`` itself). Admins Alex and Maria and librarian Sam sign in on the login
page. The screenshots go to ``docs/img/studio/`` for ``docs/admin-studio.md``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from crm_store.db import make_engine, make_session_factory
from crm_store.migrate import upgrade
from handoff_console.accounts import create_staff
from tests.browser.axe import axe_violations, report
from tests.browser.conftest import SCENE_PASSWORD, ConsoleScene
from tests.handoff_console.conftest import api_token_for
from tests.handoff_console.console_server import start_console
from tests.studio.editor_support import bot_copy, studio_env, warm_studio

pytestmark = [pytest.mark.browser, pytest.mark.studio]

IMG = Path(__file__).resolve().parents[2] / "docs" / "img" / "studio"
SAVE = 120_000
"""Milliseconds a save may take: Rasa validates it first (seconds on a busy machine)."""
STAFF = [
    ("alex", "admin", "Alex Kim"),
    ("maria", "admin", "Maria Lopez"),
    ("sam", "librarian", "Sam Reyes"),
]


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ConsoleScene, Path]]:
    """The console on a store with two admins and a librarian, editing a copy of bot/."""
    folder = tmp_path_factory.mktemp("studio-browser")
    url = f"sqlite:///{folder / 'crm.db'}"
    upgrade(url)
    sessions = make_session_factory(make_engine(url))
    with sessions.begin() as session:
        for username, role, name in STAFF:
            create_staff(
                session, username=username, password=SCENE_PASSWORD, role=role,
                display_name=name,
            )  # fmt: skip
    bot = bot_copy(folder)
    console = start_console(url, folder / "console.log", extra_env=studio_env(bot))
    warm_studio(console, api_token_for(sessions, "alex"))
    yield ConsoleScene(console, f"http://127.0.0.1:{console.port}", sessions), bot
    console.stop()
    sessions.kw["bind"].dispose()


def no_axe_violations(page: Page) -> None:
    """axe-core finds no serious or critical accessibility violation on the page."""
    violations = axe_violations(page)
    assert violations == [], report(violations)


def open_intent(page: Page, name: str) -> None:
    page.locator("#intent-list button", has_text=re.compile(f"^{re.escape(name)}\\d")).click()
    expect(page.locator("#intent-heading")).to_have_text(name, timeout=SAVE)


def test_admin_adds_annotated_examples_and_a_new_faq_topic_with_its_answer(
    page: Page, studio: tuple[ConsoleScene, Path]
) -> None:
    scene, bot = studio
    page.set_viewport_size({"width": 1366, "height": 900})
    scene.sign_in(page, "/studio", "alex")
    expect(page.get_by_role("navigation", name="Admin studio")).to_be_visible()
    page.screenshot(path=str(IMG / "studio-home.png"))
    tabs = page.get_by_role("navigation", name="Admin studio")
    tabs.get_by_role("link", name="Training data").click()
    expect(page.locator("#intent-count")).to_contain_text("intents and FAQ topics", timeout=SAVE)

    page.locator("#intent-filter").fill("lockers")
    open_intent(page, "faq/lockers")
    new = page.locator("#example-add")
    new.fill("can i leave my bag in a locker at riverside")
    # Select "riverside" in the field, pick the entity and mark it.
    new.evaluate("(input) => { input.focus(); input.setSelectionRange(34, 43); }")
    page.locator("#entity-pick").select_option("branch")
    page.get_by_role("button", name="Mark the selected words").click()
    expect(new).to_have_value("can i leave my bag in a locker at [riverside](branch)")
    page.get_by_role("button", name="Add", exact=True).click()
    new.fill("is there somewhere to put my coat")
    new.press("Enter")
    page.get_by_role("button", name="Save examples").click()

    expect(page.locator("#intent-status")).to_contain_text(
        "Saved (data/nlu/faq_facilities.yml)", timeout=SAVE
    )
    page.screenshot(path=str(IMG / "studio-intent-examples.png"), full_page=True)
    no_axe_violations(page)
    written = (bot / "data/nlu/faq_facilities.yml").read_text()
    assert "      - can i leave my bag in a locker at [riverside](branch)\n" in written
    assert "      - is there somewhere to put my coat\n" in written

    page.locator("#intent-new summary").click()
    page.get_by_label("Name", exact=True).fill("faq/museum_passes")
    page.get_by_label("Examples, one per line").fill(
        "can i borrow a museum pass\nfree entry to the museum with my library card\nmuseum passes"
    )
    page.get_by_label("Answer", exact=True).fill(
        "Yes! Borrow a free museum pass at any desk with your library card; it admits two adults."
    )
    page.get_by_role("button", name="Create").click()

    expect(page.locator("#new-status")).to_contain_text("Created faq/museum_passes", timeout=SAVE)
    expect(page.locator("#intent-heading")).to_have_text("faq/museum_passes")
    expect(page.locator("#example-list input[type=text]")).to_have_count(3)
    page.screenshot(path=str(IMG / "studio-new-faq-topic.png"), full_page=True)
    domain = (bot / "domain/faq.yml").read_text()
    assert '  utter_faq/museum_passes:\n    - text: "Yes! Borrow a free museum pass' in domain

    page.get_by_role("link", name="Edit the answer, its buttons and variations").click()
    expect(page.locator("#response-heading")).to_have_text("utter_faq/museum_passes", timeout=SAVE)
    page.get_by_role("button", name="Add a button").click()
    page.get_by_label("Button title").fill("Opening hours")
    page.get_by_label("Button payload").fill("/library_hours")
    expect(page.locator("#preview-telegram .keyboard")).to_have_text("Opening hours")
    expect(page.locator("#preview-slack .actions")).to_have_text("Opening hours")
    expect(page.locator("#preview-webchat .bubble")).to_contain_text("Borrow a free museum pass")
    page.get_by_role("button", name="Save response").click()
    expect(page.locator("#response-status")).to_contain_text("Saved (domain/faq.yml)", timeout=SAVE)
    page.screenshot(path=str(IMG / "studio-response-preview.png"), full_page=True)
    no_axe_violations(page)
    assert '          payload: "/library_hours"\n' in (bot / "domain/faq.yml").read_text()

    tabs.get_by_role("link", name="Changes").click()
    expect(page.locator("#change-list .studio-change")).to_have_count(2, timeout=SAVE)
    expect(page.locator("#history-rows tr").first).to_contain_text("Alex Kim")
    page.screenshot(path=str(IMG / "studio-changes.png"), full_page=True)
    no_axe_violations(page)


def test_an_invalid_yaml_edit_is_refused(page: Page, studio: tuple[ConsoleScene, Path]) -> None:
    scene, bot = studio
    before = (bot / "data/nlu/core.yml").read_text()
    page.set_viewport_size({"width": 1366, "height": 900})
    scene.sign_in(page, "/studio/intents", "alex")
    page.locator("#raw summary").click()
    page.locator("#raw-file").select_option("data/nlu/core.yml")
    expect(page.locator("#raw-text")).to_have_value(before, timeout=SAVE)
    page.locator("#raw-text").fill(before + "  - intent: [greet\n    examples: |\n      - hi\n")
    page.get_by_role("button", name="Save file").click()

    status = page.locator("#raw-status")
    expect(status).to_contain_text(
        "Not saved: The change is not valid YAML: data/nlu/core.yml", timeout=SAVE
    )
    expect(status).to_have_attribute("data-kind", "error")
    status.scroll_into_view_if_needed()
    page.screenshot(path=str(IMG / "studio-invalid-yaml.png"))
    assert (bot / "data/nlu/core.yml").read_text() == before


def test_two_admins_edit_the_same_topic_and_the_second_gets_a_conflict(
    browser: Browser, page: Page, studio: tuple[ConsoleScene, Path]
) -> None:
    scene, bot = studio
    other = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    page.set_viewport_size({"width": 1366, "height": 900})
    try:
        for who, tab in (("alex", page), ("maria", other)):
            scene.sign_in(tab, "/studio/intents?name=faq%2Fquiet_zones", who)
            expect(tab.locator("#intent-heading")).to_have_text("faq/quiet_zones", timeout=SAVE)
        page.locator("#example-add").fill("is the top floor a no talking zone")
        page.get_by_role("button", name="Add", exact=True).click()
        page.get_by_role("button", name="Save examples").click()
        expect(page.locator("#intent-status")).to_contain_text("Saved", timeout=SAVE)

        other.locator("#example-add").fill("could i get a totally silent desk please")
        other.get_by_role("button", name="Add", exact=True).click()
        other.get_by_role("button", name="Save examples").click()

        status = other.locator("#intent-status")
        expect(status).to_contain_text(
            "Conflict: faq/quiet_zones was changed by Alex Kim", timeout=SAVE
        )
        expect(status).to_have_attribute("data-kind", "conflict")
        other.screenshot(path=str(IMG / "studio-conflict.png"))
        written = (bot / "data/nlu/faq_facilities.yml").read_text()
        assert "is the top floor a no talking zone" in written
        assert "could i get a totally silent desk please" not in written
    finally:
        other.context.close()


def test_a_librarian_gets_the_403_page(page: Page, studio: tuple[ConsoleScene, Path]) -> None:
    scene, _ = studio
    scene.sign_in(page, "/queue", "sam")
    expect(page.get_by_role("link", name="Studio")).to_have_count(0)

    reply = page.goto(f"{scene.url}/studio/intents")

    assert reply is not None and reply.status == 403
    expect(page.get_by_role("heading", name="Admins only")).to_be_visible()
