"""One nightly analysis: daily figures, churn, loyalty and question clusters.

Everything is computed relative to the start of the run's UTC day, so running again
on the same day gives the same rows; each day's rows are replaced in one transaction.
"""

from __future__ import annotations

import logging
import time as timer
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session, sessionmaker

from crm_store.models.operations import AnalysisRun, ChurnedReader, QuestionCluster
from crm_store.nlu_labels import replace_cluster_members
from library.staffed_time import StaffedHours
from worker.analytics.churn import churned_readers, loyalty
from worker.analytics.clusters import Encoder, cluster_questions, unanswered_questions
from worker.analytics.metrics import compute_day, store_day
from worker.analytics.retention import anonymise, log_summary, record_run
from worker.analytics.settings import AnalyticsSettings

logger = logging.getLogger("worker.analytics")


def midnight(moment: datetime) -> datetime:
    """The start of ``moment``'s UTC day."""
    return datetime.combine(moment.astimezone(timezone.utc).date(), time.min, tzinfo=timezone.utc)


def analyse_days(
    sessions: sessionmaker[Session],
    days: list[date],
    now: datetime,
    hours: StaffedHours,
    settings: AnalyticsSettings,
) -> int:
    """Compute and replace the ``daily_metrics`` rows of ``days``, one transaction each."""
    rows = 0
    for day in days:
        with sessions.begin() as session:
            figures = compute_day(session, day, hours, settings.return_days)
            rows += store_day(session, day, figures, now, settings.return_days)
    return rows


def run_analysis(
    sessions: sessionmaker[Session],
    now: datetime,
    hours: StaffedHours,
    settings: AnalyticsSettings,
    encode: Encoder | None = None,
) -> dict[str, Any]:
    """The nightly analysis as of ``now``.

    Recomputes the ``settings.recompute_days`` days before ``now``'s day, then the
    run's churn list, loyalty and question clusters (stored under ``now``'s day).

    Args:
        sessions: Sessions on the reader store.
        now: The current time (from the injectable clock).
        hours: Staffed chat hours, for first-response times.
        settings: Windows and limits.
        encode: The sentence encoder; the packaged model when None.

    Returns:
        A summary: the run day, days recomputed, rows written and the run's counts.
    """
    started = timer.perf_counter()
    reference = midnight(now)
    today = reference.date()
    days = [today - timedelta(days=k) for k in range(settings.recompute_days, 0, -1)]
    rows = analyse_days(sessions, days, now, hours, settings)
    timings = {"daily_metrics": timer.perf_counter() - started}

    step = timer.perf_counter()
    with sessions.begin() as session:
        churn = churned_readers(
            session, reference, settings.churn_active_days, settings.churn_quiet_days
        )
        loyal = loyalty(session, reference, settings.loyalty_window_days)
        questions, unanswered = unanswered_questions(
            session,
            reference - timedelta(days=settings.cluster_window_days),
            reference,
            settings.cluster_max_questions,
        )
    timings["churn_loyalty_questions"] = timer.perf_counter() - step

    step = timer.perf_counter()
    clusters = []
    if settings.clustering and questions:
        if encode is None:
            from worker.analytics.embeddings import encode as packaged_encode

            encode = packaged_encode
        clusters = cluster_questions(
            questions,
            encode,
            distance=settings.cluster_distance,
            min_size=settings.cluster_min_size,
            examples=settings.cluster_examples,
        )
    timings["clusters"] = timer.perf_counter() - step

    step = timer.perf_counter()
    with sessions.begin() as session:
        session.execute(delete(ChurnedReader).where(ChurnedReader.run_day == today))
        session.execute(delete(QuestionCluster).where(QuestionCluster.run_day == today))
        session.execute(delete(AnalysisRun).where(AnalysisRun.day == today))
        session.add(
            AnalysisRun(
                day=today,
                started_at=now,
                finished_at=now,
                parameters={
                    "recompute_days": settings.recompute_days,
                    "return_days": settings.return_days,
                    "cluster_window_days": settings.cluster_window_days,
                    "cluster_max_questions": settings.cluster_max_questions,
                    "cluster_distance": settings.cluster_distance,
                    "cluster_min_size": settings.cluster_min_size,
                    "clustering": settings.clustering,
                },
                churn_active_days=settings.churn_active_days,
                churn_quiet_days=settings.churn_quiet_days,
                churned_readers=len(churn),
                loyalty_window_days=settings.loyalty_window_days,
                active_readers=loyal.active_readers,
                repeat_readers=loyal.repeat_readers,
                loyalty_conversations=loyal.conversations,
                unanswered_questions=unanswered,
                clustered_questions=len(questions) if settings.clustering else 0,
            )
        )
        session.flush()
        # Core executemany: tens of thousands of churn rows in one batched statement.
        if churn:
            session.execute(
                insert(ChurnedReader),
                [
                    {
                        "run_day": today,
                        "reader_id": entry.reader_id,
                        "last_active_at": entry.last_active_at,
                        "conversations": entry.conversations,
                    }
                    for entry in churn
                ],
            )
        if clusters:
            session.execute(
                insert(QuestionCluster),
                [
                    {
                        "run_day": today,
                        "rank": rank,
                        "label": cluster.label[:200],
                        "size": cluster.size,
                        "terms": [[term, weight] for term, weight in cluster.terms],
                        "examples": cluster.examples,
                        "channels": cluster.channels,
                        "first_seen_at": cluster.first_seen_at,
                        "last_seen_at": cluster.last_seen_at,
                    }
                    for rank, cluster in enumerate(clusters, start=1)
                ],
            )
        # The studio's NLU inbox groups messages by these clusters (issue 16).
        replace_cluster_members(session, today, [cluster.members for cluster in clusters])
    timings["store_run"] = timer.perf_counter() - step
    summary = {
        "day": today.isoformat(),
        "days": [d.isoformat() for d in days],
        "daily_metric_rows": rows,
        "churned_readers": len(churn),
        "active_readers": loyal.active_readers,
        "repeat_readers": loyal.repeat_readers,
        "unanswered_questions": unanswered,
        "clusters": len(clusters),
        "seconds": {k: round(v, 3) for k, v in timings.items()},
    }
    logger.info(
        "nightly analysis for %s: %d daily rows over %d days, %d churned readers, "
        "%d clusters from %d unanswered questions",
        today.isoformat(),
        rows,
        len(days),
        len(churn),
        len(clusters),
        unanswered,
    )
    return summary


def run_retention(
    sessions: sessionmaker[Session], now: datetime, retention_days: int
) -> dict[str, Any]:
    """Anonymise everything older than ``retention_days`` in one transaction; log it."""
    with sessions.begin() as session:
        result = anonymise(session, now, retention_days)
        record_run(session, now.astimezone(timezone.utc).date(), now, retention_days, result)
    log_summary(result)
    return {"retention_days": retention_days, **result.as_dict()}
