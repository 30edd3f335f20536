"""The widget's socket accepts browser pages only from the configured origins.

Against the running system with its defaults: the allowed origin is the console's own
(the demo page). A real WebSocket client sends the ``Origin`` header a browser would.
"""

from __future__ import annotations

import urllib.request
from typing import Any

import pytest

from connectors.webchat.admission import ORIGIN_REFUSED_CODE, ORIGIN_REFUSED_REASON, origin_of
from tests.aio import run as run_async
from tests.system import RunningSystem
from tests.trust.widget_sockets import closed_with
from tests.webchat_client import WidgetClient

pytestmark = [pytest.mark.trust, pytest.mark.rasa]


def test_a_page_from_another_site_is_refused_with_a_reason(system: RunningSystem) -> None:
    for origin in ("https://evil.example", "http://localhost:1", "null"):
        code, reason = run_async(closed_with(system.ws_url, {"Origin": origin}))
        assert (code, reason) == (ORIGIN_REFUSED_CODE, ORIGIN_REFUSED_REASON)
    log = (system.var_dir / "log" / "rasa.log").read_text(errors="replace")
    assert "refused a widget socket from origin 'https://evil.example'" in log


def test_the_console_origin_and_clients_without_an_origin_are_served(
    system: RunningSystem,
) -> None:
    async def scenario() -> list[str]:
        served = []
        for headers in ({"Origin": system.console_url}, {"Origin": system.console_url + "/"}, {}):
            client = await WidgetClient(system.ws_url, headers=headers).connect()
            assert client.session_id
            served.append(client.session_id)
            await client.close()
        return served

    assert len(set(run_async(scenario()))) == 3


def test_the_widget_files_carry_security_headers(system: RunningSystem) -> None:
    def headers(path: str) -> Any:
        with urllib.request.urlopen(f"{system.rasa_url}{path}", timeout=10) as reply:
            return reply.headers

    script = headers("/webhooks/webchat/widget.js")
    assert script["Content-Type"].startswith("application/javascript")
    assert script["X-Content-Type-Options"] == "nosniff"
    assert script["Referrer-Policy"] == "no-referrer"
    assert script["Content-Security-Policy"] == (
        f"default-src 'none'; frame-ancestors {origin_of(system.console_url)}"
    )
    assert headers("/webhooks/webchat/")["X-Content-Type-Options"] == "nosniff"
