"""Widget sockets per client address and per conversation are capped, and nothing leaks.

Against the trust tests' running system (``limited`` in ``conftest.py``, the README's run
command) with the default caps. ``RIC_TRUSTED_PROXIES=127.0.0.1`` lets a test play client
addresses through ``X-Forwarded-For``, as a reverse proxy would send them. A socket one
too many is closed with code 4429 and a reason; the sockets already open keep working;
every way a socket ends (a goodbye, no hello at all, a refusal) gives its place back.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import pytest
from playwright.sync_api import Browser, expect
from websockets.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from connectors.webchat.admission import (
    ADDRESS_FULL_REASON,
    SESSION_FULL_REASON,
    TOO_MANY_SOCKETS_CODE,
)
from connectors.webchat.settings import (
    DEFAULT_MAX_SOCKETS_PER_ADDRESS,
    DEFAULT_MAX_SOCKETS_PER_SESSION,
)
from tests.aio import run as run_async
from tests.browser.test_widget import W
from tests.system import ROOT, RunningSystem
from tests.trust.widget_sockets import closed_with
from tests.webchat_client import WidgetClient

pytestmark = [pytest.mark.trust, pytest.mark.rasa]

SHOTS = ROOT / "docs" / "img" / "trust"
PER_ADDRESS = DEFAULT_MAX_SOCKETS_PER_ADDRESS
PER_SESSION = DEFAULT_MAX_SOCKETS_PER_SESSION
T = TypeVar("T")


def _addresses() -> Iterator[str]:
    """Client addresses no other test uses (the rate-limit tests use 203.0.113.x)."""
    hosts = list(range(1, 255))
    random.shuffle(hosts)
    return iter(f"198.51.100.{host}" for host in hosts)


ADDRESSES = _addresses()


async def _closed_with(
    url: str, address: str, session_id: str | None = None
) -> tuple[int | None, str | None]:
    """A socket from client ``address`` over the cap: the code and reason it was closed with."""
    return await closed_with(url, {"X-Forwarded-For": address}, session_id)


async def _connect_once_free(
    url: str, address: str, session_id: str | None = None, attempts: int = 50
) -> WidgetClient:
    """Connect, retrying while the server has not yet noticed a socket just closed.

    A client's close returns once the closing handshake is done; the server gives the
    place back when its handler ends, a moment later.
    """
    for _ in range(attempts):
        try:
            return await WidgetClient(url, {"X-Forwarded-For": address}).connect(session_id)
        except ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code == TOO_MANY_SOCKETS_CODE
            await asyncio.sleep(0.1)
    raise AssertionError(f"no place for {address} after {attempts} attempts")


def test_one_conversation_holds_at_most_its_tabs_and_the_open_ones_keep_working(
    limited: RunningSystem,
) -> None:
    address = next(ADDRESSES)

    async def scenario() -> tuple[tuple[int | None, str | None], list[str], str, str]:
        first = await WidgetClient(limited.ws_url, {"X-Forwarded-For": address}).connect()
        session = first.session_id
        tabs = [first] + [
            await WidgetClient(limited.ws_url, {"X-Forwarded-For": address}).connect(session)
            for _ in range(PER_SESSION - 1)
        ]
        refused = await _closed_with(limited.ws_url, address, session)
        # The open tabs are untouched: one sends a message and gets its answer.
        answered = [f["type"] for f in await tabs[-1].say("hello")]
        # Another conversation from the same address is not affected.
        other = await WidgetClient(limited.ws_url, {"X-Forwarded-For": address}).connect()
        assert other.session_id != session
        await other.close()
        # A tab that closes frees its place for a new one.
        await tabs.pop(0).close()
        tabs.append(await _connect_once_free(limited.ws_url, address, session))
        again = await _closed_with(limited.ws_url, address, session)
        for tab in tabs:
            await tab.close()
        assert again == refused
        assert session is not None
        return refused, answered, session, tabs[-1].session_id or ""

    refused, answered, session, reopened = run_async(scenario())
    assert refused == (TOO_MANY_SOCKETS_CODE, SESSION_FULL_REASON)
    assert "ack" in answered and "bot" in answered
    assert reopened == session
    log = (limited.var_dir / "log" / "rasa.log").read_text(errors="replace")
    assert "refused a widget socket: its conversation holds the most" in log


def test_one_address_holds_at_most_its_sockets_and_every_closed_one_is_given_back(
    limited: RunningSystem,
) -> None:
    address = next(ADDRESSES)
    url = limited.ws_url

    async def fill() -> list[WidgetClient]:
        return [await _connect_once_free(url, address) for _ in range(PER_ADDRESS)]

    async def scenario() -> list[tuple[int | None, str | None]]:
        refusals = []
        for _ in range(3):  # 3 times the cap opened and closed: no place may leak
            clients = await fill()
            refusals.append(await _closed_with(url, address))
            # Another address is served while this one is full.
            other = await WidgetClient(url, {"X-Forwarded-For": next(ADDRESSES)}).connect()
            await other.close()
            for client in clients:
                await client.close()
        # Sockets that never say hello, and refused ones, give their place back too.
        for _ in range(10):
            ws = await ws_connect(url, extra_headers={"X-Forwarded-For": address})
            await ws.close()
        clients = await fill()
        refusals.append(await _closed_with(url, address))
        for client in clients:
            await client.close()
        return refusals

    refusals = run_async(scenario())
    assert refusals == [(TOO_MANY_SOCKETS_CODE, ADDRESS_FULL_REASON)] * 4
    log = (limited.var_dir / "log" / "rasa.log").read_text(errors="replace")
    assert "refused a widget socket: its client address holds the most" in log


class _Tabs:
    """Widget sockets held open on an event loop of their own while the browser runs.

    Playwright's sync API owns the main thread's loop, and :func:`tests.aio.run` closes
    its loop (and so its sockets) when the coroutine returns.
    """

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="held-tabs")
        self.thread.start()
        self.open: list[WidgetClient] = []

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    def connect(self, url: str, session_id: str | None = None) -> WidgetClient:
        client = self.run(WidgetClient(url).connect(session_id))
        self.open.append(client)
        return client

    def close_one(self) -> None:
        self.run(self.open.pop().close())

    def stop(self) -> None:
        while self.open:
            self.close_one()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


@pytest.mark.browser
def test_the_widget_says_too_many_tabs_and_connects_once_one_closes(
    browser: Browser, limited: RunningSystem
) -> None:
    # The browser sends no X-Forwarded-For: its address is 127.0.0.1, like these tabs'.
    tabs = _Tabs()
    context = browser.new_context(viewport={"width": 800, "height": 700})
    try:
        session = tabs.connect(limited.ws_url).session_id
        for _ in range(PER_SESSION - 1):
            tabs.connect(limited.ws_url, session)
        context.add_init_script(
            f"localStorage.setItem('ric.webchat.session', {json.dumps(session)})"
        )
        page = context.new_page()
        page.goto(f"{limited.console_url}/demo")
        page.locator(f"{W} .ric-launcher").click()
        error = page.locator(f'{W} [data-code="too_many_connections"]')
        expect(error).to_contain_text(SESSION_FULL_REASON, timeout=15_000)
        expect(page.locator(f"{W} .ric-status")).to_have_attribute("data-connection", "offline")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "widget-too-many-tabs.png"))
        tabs.close_one()  # the reader closes another tab
        expect(page.locator(f"{W} .ric-status")).to_have_attribute(
            "data-connection", "online", timeout=40_000
        )
        assert page.evaluate("RicWebchat.sessionId()") == session
        expect(error).to_have_count(1)  # said once, not at every retry
    finally:
        context.close()
        tabs.stop()
