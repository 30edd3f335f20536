"""The manager dashboard's pages (issue 17): overview, charts and the drill-down list.

The pages are shells like the rest of the console: each renders its template inside
the shared frame ``dashboard_page.html`` (tab navigation Overview, Charts, Readers,
Report), and the page's script fetches its figures from ``/api/dashboard/…``.
Managers and admins only (:data:`DASHBOARD_ROLES`); :func:`dashboard_page` is the one
way a dashboard page is rendered, also for the Readers and Report tabs.
"""

from __future__ import annotations

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from handoff_console.auth import require_staff
from handoff_console.blueprints.pages import staff_page

__all__ = ["DASHBOARD_ROLES", "bp", "dashboard_page"]

DASHBOARD_ROLES = ("manager", "admin")
"""Who may open the dashboard's pages and its API."""

bp = Blueprint("dashboard")


def dashboard_page(
    request: Request, template: str, tab: str, scripts: tuple[str, ...] = (), **context: object
) -> HTTPResponse:
    """Render a dashboard page in the shared frame with ``tab`` marked as current.

    Args:
        request: The request of a signed-in manager or admin.
        template: The page's template; it extends ``dashboard_page.html``.
        tab: The tab's key: ``overview``, ``charts``, ``readers`` or ``report``.
        scripts: Scripts under ``/static/`` the page loads (after console.js).
        **context: More template variables.
    """
    return staff_page(request, template, dashboard_tab=tab, page_scripts=list(scripts), **context)


@bp.get("/dashboard", name="dashboard_overview")
@require_staff(*DASHBOARD_ROLES)
async def overview(request: Request) -> HTTPResponse:
    """The overview: each figure for a period, its change and a sparkline."""
    return dashboard_page(request, "dashboard.html", "overview")
