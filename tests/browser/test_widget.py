"""The chat widget on the demo library page, in headless Chromium, against the real system."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Browser, Dialog, Page, WebSocketRoute, expect

from tests.system import RunningSystem

pytestmark = [pytest.mark.browser, pytest.mark.rasa]

W = "#ric-webchat"  # Playwright's CSS selectors pierce the widget's open shadow root


def open_chat(page: Page, system: RunningSystem) -> None:
    page.goto(f"{system.console_url}/demo")
    expect(page.locator(f"{W} .ric-status")).to_have_attribute(
        "data-connection", "online", timeout=15_000
    )
    page.locator(f"{W} .ric-launcher").click()
    expect(page.locator(f"{W} [role=dialog]")).to_be_visible()


def send(page: Page, text: str) -> None:
    page.locator(f"{W} textarea").fill(text)
    page.keyboard.press("Enter")


def test_chat_reload_and_history(page: Page, system: RunningSystem) -> None:
    open_chat(page, system)
    send(page, "hello")
    expect(page.locator(f"{W} .ric-bot .ric-text").first).to_contain_text(
        "library assistant", timeout=20_000
    )
    expect(page.locator(f"{W} .ric-choice")).to_have_text(["Opening hours", "Talk to a librarian"])
    expect(page.locator(f"{W} .ric-bot time").first).to_have_attribute(
        "datetime", re.compile(r"^\d{4}-\d\d-\d\dT")
    )
    page.locator(f"{W} .ric-choice", has_text="Opening hours").click()
    expect(page.locator(f"{W} .ric-bot")).to_have_count(2, timeout=20_000)
    expect(page.locator(f"{W} .ric-reader .ric-text")).to_have_text(["hello", "Opening hours"])
    session_id = page.evaluate("RicWebchat.sessionId()")
    transcript = page.locator(f"{W} .ric-msg .ric-text").all_text_contents()

    page.reload()
    expect(page.locator(f"{W} .ric-status")).to_have_attribute(
        "data-connection", "online", timeout=15_000
    )
    page.evaluate("RicWebchat.open()")
    expect(page.locator(f"{W} .ric-msg .ric-text")).to_have_text(transcript, timeout=10_000)
    assert page.evaluate("RicWebchat.sessionId()") == session_id


def test_markup_typed_by_a_reader_is_shown_as_text(page: Page, system: RunningSystem) -> None:
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    open_chat(page, system)
    payload = "<img src=x onerror=alert(1)>"
    send(page, payload)
    expect(page.locator(f"{W} .ric-reader[data-state=delivered] .ric-text")).to_have_text(
        payload, timeout=20_000
    )
    expect(page.locator(f"{W} .ric-bot")).to_have_count(1, timeout=20_000)
    assert page.locator(f"{W} .ric-log img").count() == 0
    assert dialogs == []


def test_too_long_message_shows_an_error(page: Page, system: RunningSystem) -> None:
    open_chat(page, system)
    send(page, "x" * 4001)
    error = page.locator(f"{W} .ric-error")
    expect(error).to_have_attribute("role", "alert")
    expect(error).to_contain_text("4000")


def test_keyboard_only(page: Page, system: RunningSystem) -> None:
    page.goto(f"{system.console_url}/demo")
    expect(page.locator(f"{W} .ric-status")).to_have_attribute(
        "data-connection", "online", timeout=15_000
    )
    page.locator(f"{W} .ric-launcher").focus()
    page.keyboard.press("Enter")
    expect(page.locator(f"{W} textarea")).to_be_focused()
    page.keyboard.type("hi")
    page.keyboard.press("Enter")
    expect(page.locator(f"{W} .ric-choice").first).to_be_visible(timeout=20_000)
    page.locator(f"{W} .ric-choice").first.focus()
    page.keyboard.press("Enter")
    expect(page.locator(f"{W} .ric-bot")).to_have_count(2, timeout=20_000)
    page.keyboard.press("Escape")
    expect(page.locator(f"{W} [role=dialog]")).to_be_hidden()
    expect(page.locator(f"{W} .ric-launcher")).to_be_focused()
    assert page.locator(f"{W} [aria-live]").count() >= 1
    assert page.locator(f"{W} .ric-send").get_attribute("aria-label") == "Send message"


def test_phone_width_has_no_horizontal_scroll(browser: Browser, system: RunningSystem) -> None:
    context = browser.new_context(
        viewport={"width": 360, "height": 640}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.goto(f"{system.console_url}/demo")
    expect(page.locator(f"{W} .ric-status")).to_have_attribute(
        "data-connection", "online", timeout=15_000
    )
    page.locator(f"{W} .ric-launcher").click()
    send(page, "a-very-long-unbroken-word-" * 10)
    expect(page.locator(f"{W} .ric-reader")).to_have_count(1)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
    box = page.locator(f"{W} [role=dialog]").bounding_box()
    assert box is not None and box["width"] <= 360
    context.close()


def test_proactive_message_while_closed_shows_unread_badge(
    page: Page, system: RunningSystem
) -> None:
    import json
    import urllib.request

    open_chat(page, system)
    send(page, "hello")
    expect(page.locator(f"{W} .ric-bot")).to_have_count(1, timeout=20_000)
    page.keyboard.press("Escape")
    session_id = page.evaluate("RicWebchat.sessionId()")
    body = json.dumps(
        [{"event": "bot", "text": "A librarian <b>here</b>", "metadata": {"librarian_name": "Sam"}}]
    ).encode()
    url = (
        f"{system.rasa_url}/conversations/{session_id}/tracker/events"
        f"?execute_side_effects=true&output_channel=webchat&token={system.token}"
    )
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).read()
    expect(page.locator(f"{W} .ric-badge")).to_have_text("1", timeout=10_000)
    page.evaluate("RicWebchat.open()")
    expect(page.locator(f"{W} .ric-librarian .ric-text")).to_have_text("A librarian <b>here</b>")
    expect(page.locator(f"{W} .ric-librarian .ric-sender")).to_contain_text("Sam")


def test_offline_messages_are_queued_and_sent_after_reconnect(
    page: Page, system: RunningSystem
) -> None:
    control: dict[str, Any] = {"block": False, "routes": []}

    def proxy(route: WebSocketRoute) -> None:
        # A pass-through proxy we can cut, standing in for a dropped network.
        if control["block"]:
            route.close()
            return
        route.connect_to_server()
        control["routes"].append(route)

    page.route_web_socket("**/webhooks/webchat/ws", proxy)
    open_chat(page, system)
    send(page, "hello")
    expect(page.locator(f"{W} .ric-bot")).to_have_count(1, timeout=20_000)
    control["block"] = True
    for route in control["routes"]:
        route.close()
    expect(page.locator(f"{W} .ric-status")).to_have_attribute(
        "data-connection", "offline", timeout=10_000
    )
    send(page, "what are your opening hours")
    queued = page.locator(f"{W} .ric-reader").last
    expect(queued).to_have_attribute("data-state", "queued", timeout=10_000)
    control["block"] = False
    expect(queued).to_have_attribute("data-state", "delivered", timeout=60_000)
    expect(page.locator(f"{W} .ric-bot")).to_have_count(2, timeout=20_000)
    expect(page.locator(f"{W} .ric-reader .ric-text")).to_have_text(
        ["hello", "what are your opening hours"]
    )


@pytest.mark.defects
def test_a_message_refused_as_busy_goes_back_into_the_input(
    page: Page, system: RunningSystem
) -> None:
    open_chat(page, system)
    texts = [f"hello number {n}" for n in range(30)]
    # Thirty Enter presses in one go, faster than any reader: more than the line holds.
    page.evaluate(
        """(texts) => {
            const root = document.querySelector("#ric-webchat").shadowRoot;
            const input = root.querySelector("textarea");
            const form = root.querySelector("form");
            for (const text of texts) { input.value = text; form.requestSubmit(); }
        }""",
        texts,
    )
    expect(page.locator(f"{W} .ric-error").first).to_contain_text("still answering", timeout=20_000)
    expect(page.locator(f"{W} .ric-reader[data-state=sending]")).to_have_count(0, timeout=120_000)
    delivered = page.locator(f"{W} .ric-reader[data-state=delivered] .ric-text").all_text_contents()
    restored = page.locator(f"{W} textarea").input_value().split("\n")
    assert page.locator(f"{W} .ric-reader").count() == len(delivered)  # no "Not sent" bubbles
    assert restored == [t for t in texts if t in restored]  # in the order they were typed
    assert sorted(delivered + restored) == sorted(texts)  # each one sent or kept, none lost
    assert 0 < len(restored) < len(texts)
    notices = page.locator(f"{W} .ric-error[data-code=busy]").count()
    assert 1 <= notices < len(restored)  # one notice for a refused burst, not one per message

    # The reader sends the kept text again once the bot has caught up: it goes through.
    page.locator(f"{W} textarea").fill(restored[0])
    page.keyboard.press("Enter")
    expect(page.locator(f"{W} .ric-reader .ric-text").last).to_have_text(restored[0])
    expect(page.locator(f"{W} .ric-reader").last).to_have_attribute(
        "data-state", "delivered", timeout=30_000
    )
    assert page.locator(f"{W} textarea").input_value() == ""
