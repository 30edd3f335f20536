"""The dashboard's ECharts charts, drawn and hovered, satisfy the strict style policy.

The console's Content-Security-Policy has no ``'unsafe-inline'`` for styles. ECharts
(vendored, SVG renderer) styles its elements through the CSSOM, which CSP allows, and
the dashboard draws its tooltips in the SVG (``renderMode: "richText"``) because the
HTML tooltips carry ``style="…"`` attributes, which the policy blocks. A manager opens
the overview, the charts and the readers tab of a real console holding a fortnight of
chats (the dashboard browser tests' own fixture), every chart is drawn, the pointer
rests on each chart so its tooltip shows, and no ``securitypolicyviolation`` event or
console CSP error may occur.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.test_dashboard_overview import CHARTS, demo, sign_in
from tests.handoff_console.conftest import console, console_store
from tests.system import ROOT
from tests.trust.test_headers_browser import CspWatch

pytestmark = [pytest.mark.trust, pytest.mark.browser]
__all__ = ["console", "console_store", "demo"]

SHOTS = ROOT / "docs" / "img" / "trust"
TOOLTIP_TEXT = """() => [...document.querySelectorAll("#chart-volume svg text")]
  .map((t) => t.textContent)"""


def test_charts_drawn_and_hovered_raise_no_violation(browser: Browser, demo: str) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        watch = CspWatch(context)
        page = watch.page()
        sign_in(page, demo, "/dashboard", "morgan")
        policy = page.request.get(f"{demo}/dashboard").headers["content-security-policy"]
        assert "style-src 'self';" in policy and "unsafe-inline" not in policy
        expect(page.locator(".dashboard-card .spark svg path").first).to_be_visible()
        assert watch.violations(page) == []

        page.goto(f"{demo}/dashboard/charts")
        for name in (*CHARTS, "workload"):
            section = page.locator(f"#chart-{name}")
            expect(section).to_have_attribute("data-rendered", "1")
            assert section.locator(".chart svg path").count() > 0, name
        before = page.evaluate(TOOLTIP_TEXT)
        hovered: dict[str, list[str]] = {}
        for name in (*CHARTS, "workload"):
            chart = page.locator(f"#chart-{name} .chart")
            chart.scroll_into_view_if_needed()
            box = chart.bounding_box()
            assert box is not None
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.wait_for_timeout(300)
            hovered[name] = watch.violations(page)
            if name == "volume":  # its axis tooltip is drawn in the SVG, as text
                tooltip = page.evaluate(TOOLTIP_TEXT)
                chart.screenshot(path=str(SHOTS / "chart-tooltip-under-csp.png"))
        assert hovered == {name: [] for name in hovered}
        assert tooltip != before

        page.goto(f"{demo}/dashboard/readers")
        expect(page.locator(".chart svg").first).to_be_visible()
        page.wait_for_timeout(800)  # every section's fetch and drawing
        assert watch.violations(page) == []
        assert watch.errors == []
    finally:
        context.close()
