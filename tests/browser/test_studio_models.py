"""The studio's Models page in Chromium, on the real system (issue 16, part 3).

``./ric up`` runs with a tmp model registry whose active v1 was trained from a small copy
of the project's training data (:mod:`tests.studio.models_stack`). The admin's new FAQ
topic and its answer go into that copy through the training-data editor's API; the
admin then trains in the page (live progress), reads the comparison with v1, activates
v2, asks the new question in the widget of the demo page and gets the new answer, and
rolls back to v1.
Screenshots go to ``docs/img/studio/models-*.png``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.studio.models_stack import (
    ADMIN_PASSWORD,
    NEW_ANSWER,
    NEW_EXAMPLES,
    NEW_QUESTION,
    NEW_TOPIC,
    ModelsStack,
    label_inbox_messages,
    module_stack,
)
from tests.system import ROOT

pytestmark = [pytest.mark.browser, pytest.mark.rasa, pytest.mark.studio]

SHOTS = ROOT / "docs" / "img" / "studio"
W = "#ric-webchat"  # Playwright's CSS selectors pierce the widget's open shadow root
TRAIN_TIMEOUT = 1_200_000  # a busy 2-core machine; the job itself is bounded
SWAP_TIMEOUT = 300_000


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModelsStack]:
    yield from module_stack(tmp_path_factory, "models-browser")


def ask(browser: Browser, stack: ModelsStack, text: str, screenshot: str | None = None) -> str:
    """A new reader asks in the demo page's widget; the bot's first answer."""
    context = browser.new_context(viewport={"width": 900, "height": 800})
    reader = context.new_page()
    errors: list[str] = []
    reader.on("pageerror", lambda error: errors.append(str(error)))
    try:
        reader.goto(f"{stack.system.console_url}/demo")
        expect(reader.locator(f"{W} .ric-status")).to_have_attribute(
            "data-connection", "online", timeout=30_000
        )
        reader.evaluate("RicWebchat.open()")
        reader.locator(f"{W} textarea").fill(text)
        reader.keyboard.press("Enter")
        answer = reader.locator(f"{W} .ric-bot .ric-text").first
        expect(answer).to_be_visible(timeout=60_000)
        expect(reader.locator(f"{W} .ric-typing")).to_be_hidden(timeout=60_000)
        if screenshot is not None:
            reader.locator(f"{W} .ric-panel").screenshot(path=str(SHOTS / screenshot))
        return str(answer.inner_text())
    finally:
        context.close()
        assert errors == []


def test_train_compare_activate_answer_and_roll_back(
    page: Page, browser: Browser, stack: ModelsStack
) -> None:
    admin = page
    SHOTS.mkdir(parents=True, exist_ok=True)
    # The new FAQ topic and its answer go in through the training-data editor's API
    # (part 1), which validates them and writes the YAML of the studio's copy.
    created = stack.slow_post(
        "/api/studio/training-data/intents",
        {"name": NEW_TOPIC, "examples": NEW_EXAMPLES, "answer": NEW_ANSWER},
    )
    assert created.status == 201, created.json()
    held = label_inbox_messages(stack)
    admin.goto(f"{stack.system.console_url}/studio/models")
    expect(admin).to_have_url(re.compile(r"/login\?next="))
    admin.get_by_label("User name").fill(stack.admin_username)
    admin.get_by_label("Password").fill(ADMIN_PASSWORD)
    admin.get_by_role("button", name="Sign in").click()
    expect(admin).to_have_url(re.compile(r"/studio/models$"))
    expect(admin.locator("#active-model-version")).to_have_text("v1")
    expect(admin.locator("#models-live")).to_contain_text("v1")
    expect(admin.locator("#models-versions tr")).to_have_count(1)

    admin.get_by_role("button", name="Train a new model").click()
    status = admin.locator("#models-run-status")
    expect(status).to_contain_text(re.compile(r"Training \(\d+%\)"))
    expect(admin.get_by_role("button", name="Train a new model")).to_be_disabled()
    midway = re.compile(r"Training \(\d+%\): (fold|live model|cross-validating)")
    expect(status).to_contain_text(midway, timeout=TRAIN_TIMEOUT)
    admin.screenshot(path=str(SHOTS / "models-training.png"), full_page=True)
    expect(status).to_have_text("Trained v2.", timeout=TRAIN_TIMEOUT)

    comparison = admin.locator("#models-comparison")
    expect(comparison).to_be_visible()
    expect(comparison.locator("p.models-macro")).to_contain_text("live v1")
    new_row = comparison.locator("tr", has=admin.locator("th", has_text=NEW_TOPIC))
    expect(new_row).to_contain_text("new")
    expect(comparison.locator(".models-ok")).to_be_visible()
    expect(comparison.locator("h3", has_text="Held-out inbox messages")).to_contain_text(
        re.compile(rf"Held-out inbox messages: {len(held)} \(new .*; [1-9]\d* now pass")
    )
    expect(admin.locator("#models-versions tr")).to_have_count(2)
    admin.screenshot(path=str(SHOTS / "models-comparison.png"), full_page=True)

    admin.get_by_role("button", name="Activate v2").first.click()
    expect(admin.locator("#models-live")).to_contain_text("v2", timeout=SWAP_TIMEOUT)
    expect(admin.locator('#models-versions tr[data-version="v2"] .models-state')).to_have_text(
        "live"
    )
    expect(admin.get_by_role("button", name="Roll back to v1")).to_be_visible()

    assert ask(browser, stack, NEW_QUESTION, "models-widget-answer.png") == NEW_ANSWER

    admin.reload()
    expect(admin.locator("#active-model-version")).to_have_text("v2")
    admin.screenshot(path=str(SHOTS / "models-live-v2.png"), full_page=True)
    admin.get_by_role("button", name="Roll back to v1").click()
    expect(admin.locator("#models-live")).to_contain_text("v1", timeout=SWAP_TIMEOUT)
    expect(admin.get_by_role("button", name="Roll back to v2")).to_be_visible()
    admin.reload()
    expect(admin.locator("#active-model-version")).to_have_text("v1")
    admin.screenshot(path=str(SHOTS / "models-rolled-back.png"), full_page=True)
    assert ask(browser, stack, NEW_QUESTION) != NEW_ANSWER
