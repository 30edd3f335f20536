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

__all__ = ["DASHBOARD_ROLES", "ECHARTS", "bp", "dashboard_page"]

DASHBOARD_ROLES = ("manager", "admin")
"""Who may open the dashboard's pages and its API."""

bp = Blueprint("dashboard")

ECHARTS = "vendor/echarts/echarts.min.js"
"""Apache ECharts 6.1.0, vendored from npm (``static/vendor/echarts/README.md``)."""
OVERVIEW_SCRIPTS = (ECHARTS, "dashboard.js", "dashboard_overview.js")
CHART_SCRIPTS = (ECHARTS, "dashboard.js", "dashboard_charts.js")


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
    return dashboard_page(request, "dashboard.html", "overview", OVERVIEW_SCRIPTS)


@bp.get("/dashboard/charts", name="dashboard_charts")
@require_staff(*DASHBOARD_ROLES)
async def charts(request: Request) -> HTTPResponse:
    """The charts: each with a table view and CSV/XLSX downloads."""
    manager = request.ctx.staff.role == "manager"
    return dashboard_page(
        request, "dashboard_charts.html", "charts", CHART_SCRIPTS, show_workload=manager
    )


@bp.get("/dashboard/drill", name="dashboard_drill")
@require_staff(*DASHBOARD_ROLES)
async def drill(request: Request) -> HTTPResponse:
    """The conversations behind a figure, bar or cell, with links to their transcripts."""
    return dashboard_page(
        request, "dashboard_drill.html", "charts", ("dashboard.js", "dashboard_drill.js")
    )
