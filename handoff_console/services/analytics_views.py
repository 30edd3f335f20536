"""Read models of the analytics API: stored figures, their rates, exports.

Everything here reads the tables the nightly analysis writes (``daily_metrics``,
``analysis_runs``, ``churned_readers``, ``question_clusters``); nothing is computed
from transcripts at request time. Readers appear by id only, unless the caller asks
for personal data explicitly (see :func:`churn`), which is audited.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from crm_store import clock
from crm_store.audit import audit
from crm_store.models import Reader
from crm_store.models.operations import (
    ALL_CHANNELS,
    AnalysisRun,
    ChurnedReader,
    DailyMetric,
    QuestionCluster,
)
from handoff_console.schemas.analytics import COUNT_COLUMNS, RATES, DailyRow
from handoff_console.services.common import iso
from handoff_console.services.errors import BadRequest, NotFound

DEFAULT_DAYS = 30
MAX_DAYS = 366


def _today() -> date:
    return clock.now().date()


def parse_day(value: str | None, name: str) -> date | None:
    """An ISO date from a query parameter, or a 400 ``bad_date``."""
    if value is None or value == "":
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise BadRequest("bad_date", f"{name} must be a date like 2026-03-10.") from error


def date_range(
    start: str | None, end: str | None, include_today: bool = False
) -> tuple[date, date]:
    """``from``/``to`` (inclusive); by default the 30 days up to yesterday (or today)."""
    last = parse_day(end, "to") or _today() - timedelta(days=0 if include_today else 1)
    first = parse_day(start, "from") or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise BadRequest("bad_range", "from must not be after to.")
    if (last - first).days + 1 > MAX_DAYS:
        raise BadRequest("bad_range", f"At most {MAX_DAYS} days at a time.")
    return first, last


def rates(values: Mapping[str, Any]) -> dict[str, float | None]:
    """Every rate of a row of counts; None where its denominator is zero."""
    result: dict[str, float | None] = {}
    for name, (numerator, denominator) in RATES.items():
        below = values.get(denominator) or 0
        result[name] = round(float(values[numerator]) / below, 4) if below else None
    return result


def _row(metric: DailyMetric) -> dict[str, Any]:
    counts = {name: getattr(metric, name) for name in COUNT_COLUMNS}
    return DailyRow.view(
        day=metric.day,
        channel=metric.channel,
        complete=bool(metric.complete),
        **counts,
        first_response_median_seconds=metric.first_response_seconds_median,
        resolution_median_seconds=metric.resolution_seconds_median,
        **rates(counts),
        computed_at=metric.computed_at,
    )


def _rows_of(first: date, last: date, channel: str | None) -> tuple[Any, ...]:
    """The conditions of one channel's (``all`` by default) rows in ``[first, last]``."""
    return (
        DailyMetric.day >= first,
        DailyMetric.day <= last,
        DailyMetric.channel == (channel or ALL_CHANNELS),
    )


def _days(session: Session, first: date, last: date, channel: str | None) -> list[DailyMetric]:
    """The stored daily rows of ``[first, last]`` for one channel, oldest first."""
    query = select(DailyMetric).where(*_rows_of(first, last, channel))
    return list(session.execute(query.order_by(DailyMetric.day)).scalars())


def daily(session: Session, first: date, last: date, channel: str | None) -> list[dict[str, Any]]:
    """The daily rows of ``[first, last]`` for one channel (``all`` by default) as JSON."""
    return [_row(metric) for metric in _days(session, first, last, channel)]


def _csv_cell(value: object) -> object:
    # A spreadsheet would run a cell that starts with one of these as a formula.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


def daily_csv(items: list[dict[str, Any]]) -> str:
    """The daily rows as CSV, one header line, in the JSON field order."""
    columns = ["day", "channel", "complete", *COUNT_COLUMNS]
    columns += ["first_response_median_seconds", "resolution_median_seconds", *RATES]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for item in items:
        writer.writerow([_csv_cell(item[column]) for column in columns])
    return buffer.getvalue()


def channels(session: Session, first: date, last: date) -> list[str]:
    """The channels with rows in the range, ``all`` first."""
    found = session.execute(
        select(DailyMetric.channel)
        .where(DailyMetric.day >= first, DailyMetric.day <= last)
        .distinct()
    ).scalars()
    rest = sorted(c for c in found if c != ALL_CHANNELS)
    return [ALL_CHANNELS, *rest]


def _latest_run(session: Session, day: date | None) -> AnalysisRun:
    query = select(AnalysisRun)
    if day is not None:
        query = query.where(AnalysisRun.day == day)
    run = session.execute(query.order_by(AnalysisRun.day.desc()).limit(1)).scalar_one_or_none()
    if run is None:
        where = f" for {day.isoformat()}" if day else ""
        raise NotFound("no_analysis", f"No nightly analysis has run{where} yet.")
    return run


def _loyalty(run: AnalysisRun) -> dict[str, Any]:
    readers = run.active_readers or 0
    return {
        "day": run.day.isoformat(),
        "window_days": run.loyalty_window_days,
        "active_readers": readers,
        "repeat_readers": run.repeat_readers,
        "conversations": run.loyalty_conversations,
        "repeat_share": round(run.repeat_readers / readers, 4) if readers else None,
        "conversations_per_reader": (
            round(run.loyalty_conversations / readers, 4) if readers else None
        ),
    }


def summary(session: Session, first: date, last: date, channel: str | None) -> dict[str, Any]:
    """Totals and rates over a range, with the latest run's churn, loyalty and clusters."""
    totals = session.execute(
        select(
            *(func.coalesce(func.sum(getattr(DailyMetric, c)), 0) for c in COUNT_COLUMNS),
            func.count(DailyMetric.id),
            func.min(case((DailyMetric.complete.is_(True), 1), else_=0)),
        ).where(*_rows_of(first, last, channel))
    ).one()
    counts = dict(zip(COUNT_COLUMNS, totals[: len(COUNT_COLUMNS)], strict=True))
    days_found = int(totals[len(COUNT_COLUMNS)])
    run = session.execute(
        select(AnalysisRun).order_by(AnalysisRun.day.desc()).limit(1)
    ).scalar_one_or_none()
    latest: dict[str, Any] | None = None
    if run is not None:
        latest = {
            "day": run.day.isoformat(),
            "churned_readers": run.churned_readers,
            "unanswered_questions": run.unanswered_questions,
            "clusters": session.execute(
                select(func.count(QuestionCluster.id)).where(QuestionCluster.run_day == run.day)
            ).scalar_one(),
            "loyalty": _loyalty(run),
        }
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "channel": channel or ALL_CHANNELS,
        "days_with_data": days_found,
        "complete": bool(days_found) and bool(totals[-1]),
        **{name: float(v) if isinstance(v, float) else int(v) for name, v in counts.items()},
        **rates(counts),
        "latest_run": latest,
    }


def clusters(session: Session, day: date | None) -> dict[str, Any]:
    """One run's question clusters (the latest by default), biggest first."""
    run = _latest_run(session, day)
    items = [
        {
            "rank": c.rank,
            "label": c.label,
            "size": c.size,
            "terms": [{"term": t, "weight": w} for t, w in c.terms],
            "examples": c.examples,
            "channels": c.channels,
            "first_seen_at": iso(c.first_seen_at),
            "last_seen_at": iso(c.last_seen_at),
        }
        for c in session.execute(
            select(QuestionCluster)
            .where(QuestionCluster.run_day == run.day)
            .order_by(QuestionCluster.rank)
        ).scalars()
    ]
    return {
        "day": run.day.isoformat(),
        "unanswered_questions": run.unanswered_questions,
        "clustered_questions": run.clustered_questions,
        "items": items,
    }


def churn(
    session: Session, day: date | None, include_personal: bool, staff_id: int
) -> dict[str, Any]:
    """One run's churn list: reader ids, last activity and conversation counts.

    With ``include_personal`` the readers' names and emails are added and the export
    is written to the audit log (who, which run, how many readers).
    """
    run = _latest_run(session, day)
    rows = session.execute(
        select(ChurnedReader, Reader)
        .join(Reader, Reader.id == ChurnedReader.reader_id)
        .where(ChurnedReader.run_day == run.day)
        .order_by(ChurnedReader.last_active_at, ChurnedReader.reader_id)
    ).all()
    items = []
    for entry, reader in rows:
        item: dict[str, Any] = {
            "reader_id": entry.reader_id,
            "last_active_at": iso(entry.last_active_at),
            "conversations": entry.conversations,
        }
        if include_personal:
            item["display_name"] = reader.display_name
            item["email"] = reader.email
        items.append(item)
    if include_personal:
        audit(
            session,
            staff_id,
            "analytics_personal_export",
            f"churn:{run.day.isoformat()}",
            readers=len(items),
        )
    return {
        "day": run.day.isoformat(),
        "active_days": run.churn_active_days,
        "quiet_days": run.churn_quiet_days,
        "count": len(items),
        "personal": include_personal,
        "items": items,
    }


def loyalty(session: Session, first: date, last: date) -> dict[str, Any]:
    """Loyalty of the latest run, and of every run in ``[first, last]``."""
    runs = session.execute(
        select(AnalysisRun)
        .where(AnalysisRun.day >= first, AnalysisRun.day <= last)
        .order_by(AnalysisRun.day)
    ).scalars()
    history = [_loyalty(run) for run in runs]
    latest = session.execute(
        select(AnalysisRun).order_by(AnalysisRun.day.desc()).limit(1)
    ).scalar_one_or_none()
    return {"latest": _loyalty(latest) if latest else None, "items": history}


def sentiment(session: Session, first: date, last: date, channel: str | None) -> dict[str, Any]:
    """Sentiment of feedback comments per day and in total (scores only, no comments)."""
    items = []
    totals = {"comments": 0, "positive": 0, "negative": 0, "sum": 0.0}
    for metric in _days(session, first, last, channel):
        comments = metric.comments or 0
        items.append(
            {
                "day": metric.day.isoformat(),
                "comments": comments,
                "positive": metric.positive_comments,
                "negative": metric.negative_comments,
                "neutral": comments - metric.positive_comments - metric.negative_comments,
                "mean_score": round(metric.sentiment_sum / comments, 4) if comments else None,
            }
        )
        totals["comments"] += comments
        totals["positive"] += metric.positive_comments
        totals["negative"] += metric.negative_comments
        totals["sum"] += metric.sentiment_sum
    n = int(totals["comments"])
    total = {
        "comments": n,
        "positive": int(totals["positive"]),
        "negative": int(totals["negative"]),
        "neutral": n - int(totals["positive"]) - int(totals["negative"]),
        "mean_score": round(totals["sum"] / n, 4) if n else None,
    }
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "channel": channel or ALL_CHANNELS,
        "total": total,
        "items": items,
    }
