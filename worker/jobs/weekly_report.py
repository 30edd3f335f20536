"""Job: the weekly report email to the managers and admins who subscribed (issue 17).

Every day at 06:00 (library time) the worker looks at last week (Monday to Sunday,
:func:`crm_store.weekly_figures.last_full_week`). Each active subscriber
(``report_subscriptions``: an active manager or admin with an email address) gets one
``weekly_reports`` row per week, inserted under its unique key ``(week_start,
staff_user_id)`` so that two workers, or a rerun, never send it twice. A row is claimed
(``pending`` → ``sending``), the mail goes out through the email channel's SMTP
settings (``RIC_EMAIL_SMTP_*``, ``RIC_EMAIL_FROM``), and the outcome is recorded with
:mod:`messaging.outbox`: ``sent``, or back to ``pending`` with the error to be retried
at the next run, ``failed`` after :data:`MAX_ATTEMPTS` attempts. A row left
``sending`` by a worker that died is claimed again after :data:`CLAIM_TIMEOUT`.

The mail is HTML (with a plain-text alternative) carrying the key figures of
:func:`crm_store.weekly_figures.weekly_figures` and the charts of
:mod:`crm_store.report_charts` as inline PNG parts (``cid:`` images). It names no
reader. With ``RIC_CONSOLE_PUBLIC_URL`` set it links to the week on the dashboard and
to the Report tab (where the email is stopped).
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_store import clock
from crm_store.models import StaffRole, StaffUser
from crm_store.models.dashboard_reports import ReportSubscription, WeeklyReport
from crm_store.report_charts import CHART_ALT, render_charts
from crm_store.weekly_figures import WeeklyFigures, last_full_week, weekly_figures
from messaging.outbox import Outbox, SendCounts, claim, claimable, insert_once, record_outcome
from ric_config import SecurityConfig
from worker.jobs._resources import store_sessions
from worker.jobs.follow_ups import SmtpSettings, deliver_mail

__all__ = [
    "CLAIM_TIMEOUT",
    "MAX_ATTEMPTS",
    "build_message",
    "dashboard_links",
    "send_weekly_reports",
]

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
CLAIM_TIMEOUT = timedelta(minutes=30)
REPORTS = Outbox(
    WeeklyReport,
    ready="pending",
    gave_up="failed",
    max_attempts=MAX_ATTEMPTS,
    claim_timeout=CLAIM_TIMEOUT,
    count_attempts="claim",
)
"""The weekly reports' outbox."""
_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
    autoescape=select_autoescape(["html"]),
)


@dataclass(frozen=True)
class Recipient:
    """One subscriber's report row to send."""

    row_id: int
    name: str
    address: str


def _subscribe_rows(session: Session, week: date, now: datetime) -> None:
    """Insert this week's row for every active subscriber who has none yet."""
    subscribers = session.execute(
        select(StaffUser)
        .join(ReportSubscription, ReportSubscription.staff_user_id == StaffUser.id)
        .where(
            ReportSubscription.active.is_(True),
            StaffUser.active.is_(True),
            StaffUser.role.in_([StaffRole.MANAGER, StaffRole.ADMIN]),
            StaffUser.email.is_not(None),
            StaffUser.email != "",
        )
        .order_by(StaffUser.id)
    ).scalars()
    for user in subscribers:
        row = WeeklyReport(
            week_start=week,
            staff_user_id=user.id,
            to_address=user.email,
            status="pending",
            attempts=0,
            created_at=now,
        )
        insert_once(session, row)


def _claim_due(session: Session, week: date, now: datetime) -> list[Recipient]:
    rows = session.execute(
        select(WeeklyReport, StaffUser.display_name)
        .join(StaffUser, StaffUser.id == WeeklyReport.staff_user_id)
        .where(WeeklyReport.week_start == week, claimable(REPORTS, now))
        .order_by(WeeklyReport.id)
    ).all()
    return [
        Recipient(int(row.id), str(name), str(row.to_address))
        for row, name in rows
        if claim(session, REPORTS, int(row.id), now)
    ]


def dashboard_links(console_url: str | None, figures: WeeklyFigures) -> dict[str, str]:
    """The console pages a report links to, or none without ``RIC_CONSOLE_PUBLIC_URL``.

    ``week`` is the overview for the report's week (the dashboard's own ``from``/``to``
    filters, so the figures match), ``report`` the Report tab where the email is stopped.
    """
    if not console_url:
        return {}
    base = console_url.rstrip("/")
    period = urlencode({"from": figures.week_start.isoformat(), "to": figures.week_end.isoformat()})
    return {"week": f"{base}/dashboard?{period}", "report": f"{base}/dashboard/report"}


def build_message(
    figures: WeeklyFigures,
    charts: dict[str, bytes],
    to: str,
    sender: str,
    name: str,
    console_url: str | None = None,
) -> EmailMessage:
    """The weekly report mail: plain text, HTML, and each chart as an inline PNG part.

    With ``console_url`` (``RIC_CONSOLE_PUBLIC_URL``) the mail links to the week on the
    dashboard and to the Report tab; without it, it only names them.
    """
    subject = f"Weekly report {figures.week_start.isoformat()} to {figures.week_end.isoformat()}"
    links = dashboard_links(console_url, figures)
    cids = {chart: make_msgid(domain="weekly-report.ric") for chart in charts}
    html = _TEMPLATES.get_template("weekly_report.html").render(
        subject=subject,
        name=name,
        week_start=figures.week_start.isoformat(),
        week_end=figures.week_end.isoformat(),
        figures=figures.figures,
        at_risk=figures.at_risk,
        charts=[{"cid": cids[c][1:-1], "alt": CHART_ALT.get(c, c)} for c in charts],
        links=links,
    )
    lines = [f"{subject}", ""]
    lines += [
        f"{f.label}: {f.shown(f.value)} (week before: {f.shown(f.previous)})"
        for f in figures.figures
    ]
    lines.append(f"Readers at risk (latest churn list): {figures.at_risk}")
    if links:
        lines += ["", f"This week on the dashboard: {links['week']}"]
        lines.append(f"Stop this email on the Report tab: {links['report']}")
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content("\n".join(lines) + "\n")
    message.add_alternative(html, subtype="html")
    html_part = message.get_body(preferencelist=("html",))
    if html_part is None:  # pragma: no cover (add_alternative just made it)
        raise RuntimeError("the report mail lost its HTML part")
    for chart, png in charts.items():
        html_part.add_related(
            png, "image", "png", cid=cids[chart], filename=f"{chart}.png", disposition="inline"
        )
    return message


def send_weekly_reports(
    sessions: sessionmaker[Session] | None = None,
    now: datetime | None = None,
    smtp: SmtpSettings | None = None,
) -> SendCounts:
    """Send last week's report to every subscriber who has not had it; returns the counts.

    Args:
        sessions: Sessions on the reader store (the worker's by default).
        now: The time of the run (the installed clock by default).
        smtp: Where mail goes out (the email channel's settings by default); without
            any, nothing is claimed and the log says why.
    """
    sessions = sessions or store_sessions()
    now = now or clock.now()
    smtp = smtp or SmtpSettings.from_env()
    console_url = SecurityConfig().console_public_url
    counts = SendCounts()
    if smtp is None:
        logger.info("no SMTP settings (RIC_EMAIL_SMTP_HOST, RIC_EMAIL_FROM): no weekly report")
        return counts
    week = last_full_week(now)
    with sessions.begin() as session:
        _subscribe_rows(session, week, now)
        due = _claim_due(session, week, now)
    if not due:
        return counts
    with sessions.begin() as session:
        figures = weekly_figures(session, week, now)
    charts = render_charts(figures)
    for recipient in due:
        message = build_message(
            figures, charts, recipient.address, smtp.sender, recipient.name, console_url
        )
        error: str | None = None
        try:
            deliver_mail(smtp, message)
        except (OSError, smtplib.SMTPException) as failure:
            logger.warning("weekly report %s not sent yet: %s", recipient.row_id, failure)
            error = str(failure) or type(failure).__name__
        with sessions.begin() as session:
            row = session.get(WeeklyReport, recipient.row_id)
            status = record_outcome(row, REPORTS, error, now)
        if status == "sent":
            counts.sent += 1
        elif status == REPORTS.gave_up:
            counts.undeliverable += 1
        else:
            counts.failed += 1
    return counts
