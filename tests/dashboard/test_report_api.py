"""The Report tab on a real console process: the printable page, its charts, the key
figures as JSON, CSV and XLSX, and the weekly-report subscription (audited)."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from crm_store.models import AuditEntry, StaffUser
from crm_store.weekly_figures import last_full_week, weekly_figures
from tests.crm_store.test_analytics_metrics import HOURS
from tests.dashboard.readers_history import build_history
from tests.handoff_console.conftest import (  # noqa: F401 (fixtures)
    ApiClient,
    ConsoleStore,
    api_clients,
    console,
    console_store,
)
from worker.analytics.run import run_analysis
from worker.analytics.settings import AnalyticsSettings

pytestmark = pytest.mark.dashboard

MINE = "/api/dashboard/report-subscriptions/me"
KEYS = [
    "conversations", "containment_rate", "handoff_rate", "csat", "fallback_rate",
    "first_response", "new_readers",
]  # fmt: skip


@pytest.fixture(scope="module")
def analysed(console_store: ConsoleStore) -> datetime:  # noqa: F811
    now = datetime.now(timezone.utc)
    build_history(console_store.sessions, now)
    settings = AnalyticsSettings(recompute_days=21, clustering=False)
    run_analysis(console_store.sessions, now, HOURS, settings)
    return now


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/dashboard/report"),
        ("GET", "/api/dashboard/report?format=xlsx"),
        ("GET", MINE),
        ("PUT", MINE),
        ("GET", "/dashboard/report"),
        ("GET", "/dashboard/report/charts/daily.png"),
    ],
)
def test_librarians_get_403(
    api_clients: dict[str, ApiClient],  # noqa: F811
    method: str,
    path: str,
) -> None:
    data = {"subscribed": True} if method == "PUT" else None
    assert api_clients["sam"].call(method, path, data).status == 403


def test_the_report_has_the_key_figures_of_last_week(
    api_clients: dict[str, ApiClient],  # noqa: F811
    console_store: ConsoleStore,  # noqa: F811
    analysed: datetime,
) -> None:
    body = api_clients["morgan"].get("/api/dashboard/report").json()

    week = last_full_week(analysed)
    assert (body["week_start"], body["week_end"]) == (
        week.isoformat(),
        (week + timedelta(days=6)).isoformat(),
    )
    assert [f["key"] for f in body["figures"]] == KEYS
    # the page, the API and the weekly email share one computation
    with console_store.sessions() as session:
        expected = weekly_figures(session, week)
    assert [(f["value"], f["previous"]) for f in body["figures"]] == [
        (f.value, f.previous) for f in expected.figures
    ]
    assert body["segments"] == expected.segments
    assert sum(body["segments"].values()) >= 4  # as of the week's end, whatever the weekday


def test_the_report_exports_as_csv_and_xlsx(
    api_clients: dict[str, ApiClient],  # noqa: F811
    analysed: datetime,
) -> None:
    morgan = api_clients["morgan"]
    body = morgan.get("/api/dashboard/report").json()
    rows = list(csv.reader(io.StringIO(morgan.get("/api/dashboard/report?format=csv").text)))
    reply = morgan.get("/api/dashboard/report?format=xlsx")
    sheet = load_workbook(io.BytesIO(reply.body)).active
    cells = [list(r) for r in sheet.iter_rows(values_only=True)]

    labels = [f["label"] for f in body["figures"]] + ["Readers at risk (latest churn list)"]
    assert rows[0] == ["Figure", "This week", "Week before", "Value", "Previous value"]
    assert [r[0] for r in rows[1:]] == labels
    assert [r[0] for r in cells[1:]] == labels
    assert [r[3] for r in cells[1:-1]] == [f["value"] for f in body["figures"]]
    assert f"weekly-report-{body['week_start']}" in reply.headers["Content-Disposition"]


def test_a_week_parameter_picks_that_week(api_clients: dict[str, ApiClient]) -> None:  # noqa: F811
    body = api_clients["morgan"].get("/api/dashboard/report?week=2026-06-10").json()
    assert body["week_start"] == "2026-06-08"
    bad = api_clients["morgan"].get("/api/dashboard/report?week=last")
    assert (bad.status, bad.json()["error"]) == (400, "bad_date")


def test_the_printable_page_and_its_charts(
    api_clients: dict[str, ApiClient],  # noqa: F811
    analysed: datetime,
) -> None:
    page = api_clients["morgan"].get("/dashboard/report")
    assert page.status == 200
    assert 'id="report-table"' in page.text
    assert 'href="/static/dashboard_report.css"' in page.text
    assert "<script>" not in page.text and "onclick" not in page.text
    for name in ("daily", "segments", "new-readers"):
        assert f"/dashboard/report/charts/{name}.png?week=" in page.text
        chart = api_clients["alex"].get(f"/dashboard/report/charts/{name}.png")
        assert chart.status == 200
        assert chart.headers["Content-Type"] == "image/png"
        assert chart.body[:8] == b"\x89PNG\r\n\x1a\n"
    assert api_clients["morgan"].get("/dashboard/report/charts/pie.png").status == 404


def test_subscribing_and_leaving_is_stored_and_audited(
    api_clients: dict[str, ApiClient],  # noqa: F811
    console_store: ConsoleStore,  # noqa: F811
) -> None:
    with console_store.sessions.begin() as session:
        user = session.execute(select(StaffUser).where(StaffUser.username == "morgan")).scalar_one()
        user.email = "morgan@library.example.org"
        morgan_id = user.id
    morgan = api_clients["morgan"]
    assert morgan.get(MINE).json() == {"subscribed": False, "email": "morgan@library.example.org"}

    assert morgan.call("PUT", MINE, {"subscribed": True}).json()["subscribed"] is True
    assert morgan.get(MINE).json()["subscribed"] is True
    assert morgan.call("PUT", MINE, {"subscribed": False}).json()["subscribed"] is False
    bad = morgan.call("PUT", MINE, {"subscribed": "yes"})
    assert (bad.status, bad.json()["error"]) == (400, "bad_subscribed")
    with console_store.sessions() as session:
        actions = session.execute(
            select(AuditEntry.action)
            .where(AuditEntry.subject == f"staff:{morgan_id}")
            .order_by(AuditEntry.id)
        ).scalars()
        assert list(actions) == ["report.subscribe", "report.unsubscribe"]
