"""The weekly report email, delivered to a real aiosmtpd server (tests/standins/mail_servers).

The store holds tests/dashboard/readers_history.py as of Monday 2026-06-15 12:00 UTC,
with the nightly analysis run over the last 14 days, so last week (06-08 to 06-14) has
ada's conversation and the week before has dev's.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
from sqlalchemy import select, update

from crm_store.models import StaffUser
from crm_store.models.dashboard_reports import ReportSubscription, WeeklyReport
from tests.crm_store.test_analytics_metrics import HOURS
from tests.dashboard.readers_history import NAMES, build_history
from tests.handoff_console.conftest import ConsoleStore, staff_store  # noqa: F401 (fixture)
from tests.standins.mail_servers import SmtpSink, free_port
from worker.analytics.run import run_analysis
from worker.analytics.settings import AnalyticsSettings
from worker.jobs.follow_ups import SmtpSettings
from worker.jobs.weekly_report import MAX_ATTEMPTS, send_weekly_reports

pytestmark = pytest.mark.dashboard

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=timezone.utc)
SENDER = "reports@library.example.org"


@pytest.fixture(scope="module")
def sink() -> Iterator[SmtpSink]:
    server = SmtpSink().start()
    yield server
    server.stop()


@pytest.fixture
def store(staff_store: ConsoleStore) -> ConsoleStore:  # noqa: F811
    """The history, the analysis over 14 days, and staff with addresses; morgan (manager)
    and sam (librarian) subscribed, alex (admin) not."""
    sessions = staff_store.sessions
    build_history(sessions, NOW)
    run_analysis(sessions, NOW, HOURS, AnalyticsSettings(recompute_days=14, clustering=False))
    with sessions.begin() as session:
        for user in session.execute(select(StaffUser)).scalars():
            user.email = f"{user.username}@library.example.org"
            if user.username in ("morgan", "sam"):
                session.add(ReportSubscription(staff_user_id=user.id, active=True))
    return staff_store


def _smtp(port: int) -> SmtpSettings:
    return SmtpSettings(host="127.0.0.1", port=port, sender=SENDER)


def test_a_subscribed_manager_gets_the_html_report_with_inline_charts(
    store: ConsoleStore, sink: SmtpSink
) -> None:
    counts = send_weekly_reports(store.sessions, NOW, _smtp(sink.port))

    assert (counts.sent, counts.failed) == (1, 0)
    [mail] = sink.wait_for("morgan@library.example.org")
    assert sink.to("sam@library.example.org") == []  # librarians never get it
    assert sink.to("alex@library.example.org") == []  # not subscribed
    assert mail["Subject"] == "Weekly report 2026-06-08 to 2026-06-14"
    assert mail["From"] == SENDER
    plain = mail.get_body(preferencelist=("plain",))
    assert "Conversations: 1 (week before: 1)" in plain.get_content()
    html_part = mail.get_body(preferencelist=("html",))
    html = html_part.get_content()
    assert "Hello Morgan Lee," in html
    assert '<tr data-key="conversations">' in html
    assert "New readers" in html
    images = [p for p in mail.walk() if p.get_content_type() == "image/png"]
    assert [p.get_filename() for p in images] == ["daily.png", "segments.png", "new-readers.png"]
    for image in images:
        assert image.get_content()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f'src="cid:{image["Content-ID"][1:-1]}"' in html
    everything = mail.as_string()
    for name in NAMES.values():
        assert name.split()[0] not in everything
    with store.sessions() as session:
        row = session.execute(select(WeeklyReport)).scalar_one()
    assert (row.status, row.attempts, str(row.week_start)) == ("sent", 1, "2026-06-08")


def test_a_rerun_sends_nothing_twice(store: ConsoleStore, sink: SmtpSink) -> None:
    before = len(sink.to("morgan@library.example.org"))
    assert send_weekly_reports(store.sessions, NOW, _smtp(sink.port)).sent == 1
    assert send_weekly_reports(store.sessions, NOW, _smtp(sink.port)).sent == 0
    assert len(sink.to("morgan@library.example.org")) == before + 1


def test_an_unreachable_server_is_retried_then_given_up(
    store: ConsoleStore, sink: SmtpSink
) -> None:
    nowhere = _smtp(free_port())
    counts = send_weekly_reports(store.sessions, NOW, nowhere)

    assert (counts.sent, counts.failed) == (0, 1)
    with store.sessions() as session:
        row = session.execute(select(WeeklyReport)).scalar_one()
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.last_error
    before = len(sink.to("morgan@library.example.org"))
    assert send_weekly_reports(store.sessions, NOW, _smtp(sink.port)).sent == 1
    assert len(sink.to("morgan@library.example.org")) == before + 1

    with store.sessions.begin() as session:
        session.execute(update(WeeklyReport).values(status="pending", attempts=MAX_ATTEMPTS - 1))
    assert send_weekly_reports(store.sessions, NOW, nowhere).undeliverable == 1
    with store.sessions() as session:
        assert session.execute(select(WeeklyReport.status)).scalar_one() == "failed"


def test_an_inactive_subscription_gets_nothing(store: ConsoleStore, sink: SmtpSink) -> None:
    with store.sessions.begin() as session:
        session.execute(update(ReportSubscription).values(active=False))
    assert send_weekly_reports(store.sessions, NOW, _smtp(sink.port)).sent == 0


def test_the_report_links_to_its_week_on_the_console_when_the_public_url_is_set(
    store: ConsoleStore, sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RIC_CONSOLE_PUBLIC_URL", "https://help.library.example.org/")
    before = len(sink.to("morgan@library.example.org"))
    assert send_weekly_reports(store.sessions, NOW, _smtp(sink.port)).sent == 1
    mail = sink.wait_for("morgan@library.example.org", count=before + 1)[-1]
    week = "https://help.library.example.org/dashboard?from=2026-06-08&amp;to=2026-06-14"
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert f'<a id="week-link" href="{week}"' in html
    assert 'href="https://help.library.example.org/dashboard/report"' in html
    plain = mail.get_body(preferencelist=("plain",)).get_content()
    assert "https://help.library.example.org/dashboard?from=2026-06-08&to=2026-06-14" in plain


def test_without_a_public_url_the_report_has_no_links(
    store: ConsoleStore, sink: SmtpSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RIC_CONSOLE_PUBLIC_URL", raising=False)
    before = len(sink.to("morgan@library.example.org"))
    assert send_weekly_reports(store.sessions, NOW, _smtp(sink.port)).sent == 1
    mail = sink.wait_for("morgan@library.example.org", count=before + 1)[-1]
    assert "<a " not in mail.get_body(preferencelist=("html",)).get_content()
