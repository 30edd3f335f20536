"""The worker process: APScheduler with its job store in the reader store's database.

Run as ``python -m worker``. SIGTERM and SIGINT stop it cleanly.

Only one worker runs the jobs (see :mod:`worker.jobs.leader`): a worker first waits
to become the leader (a PostgreSQL advisory lock, or a lock file next to a SQLite
store), then starts its scheduler. A standby worker simply waits and takes over when
the leader's lock is released. docs/worker.md lists every job with its schedule,
misfire policy and idempotency key.

Misfire policy: every job is idempotent and finds its work in the store, so a run that
was missed (the worker was down, or a run took too long) need not be repeated once per
missed slot. Every job therefore has ``coalesce=True`` (many missed runs become one)
and ``max_instances=1``; the frequent jobs have ``misfire_grace_time=None`` (run as soon
as possible however late), and the nightly ones a grace of some hours (a worker that
starts in the morning still runs last night's analysis; one that starts in the evening
waits for the next night).
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from apscheduler.events import EVENT_SCHEDULER_STARTED, SchedulerEvent
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from crm_store.db import database_url, store_logging_mode
from library.profile import library_zone
from messaging.logs import configure_logging
from ric_config import WorkerConfig
from ric_config.dashboard import DashboardConfig
from worker.job_log import log_job_summaries
from worker.jobs import beat, run_catch_up
from worker.jobs.faq_candidates import CANDIDATE_CHECK_SECONDS, propose_faq_candidates
from worker.jobs.follow_ups import remind_stale_tickets, send_due_follow_ups
from worker.jobs.handoff_jobs import (
    abandon_silent,
    auto_assign_waiting,
    retry_outbound,
    ticket_long_waits,
)
from worker.jobs.ingest import tail_tracker_store
from worker.jobs.leader import Leadership, leadership_for
from worker.jobs.nlu_inbox_flags import FLAG_CHECK_SECONDS, refresh_nlu_inbox_flags
from worker.jobs.reader_care import send_reminders
from worker.jobs.rollups import refresh_dashboard_rollups
from worker.jobs.surveys import run_surveys

logger = logging.getLogger("worker.process")

CATCH_UP_SECONDS = 5
HEARTBEAT_SECONDS = 10
OUTBOUND_RETRY_SECONDS = 5
HANDOFF_CHECK_SECONDS = 30
LEADER_CHECK_SECONDS = 5.0

FREQUENT = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
"""Misfire policy of the interval jobs: one catch-up run as soon as possible."""

NIGHTLY_JOBS: tuple[tuple[str, str, int, int], ...] = (
    ("nightly_analysis", "worker.jobs.analysis:nightly_analysis", 2, 6 * 3600),
    (
        "anonymise_old_transcripts",
        "worker.jobs.retention:anonymise_old_transcripts",
        3,
        12 * 3600,
    ),
    ("prune_old_receipts", "worker.jobs.receipts:prune_old_receipts", 4, 12 * 3600),
    (
        "reader_intelligence",
        "worker.jobs.reader_intelligence:refresh_reader_intelligence",
        5,
        12 * 3600,
    ),
    ("weekly_report", "worker.jobs.weekly_report:send_weekly_reports", 6, 12 * 3600),
)
"""(job id, textual reference, hour in the library's zone, misfire grace in seconds)."""


def interval_jobs() -> list[tuple[Callable[..., Any], int]]:
    """The worker's interval jobs and their periods in seconds.

    The outreach jobs' periods are settings (``ric_config.WorkerConfig``); a wrong value is
    logged and its default used.
    """
    config = WorkerConfig()
    return [
        (retry_outbound, OUTBOUND_RETRY_SECONDS),
        (ticket_long_waits, HANDOFF_CHECK_SECONDS),
        (abandon_silent, HANDOFF_CHECK_SECONDS),
        (auto_assign_waiting, OUTBOUND_RETRY_SECONDS),
        (run_surveys, max(1, config.survey_check_seconds)),
        (remind_stale_tickets, max(1, config.ticket_reminder_check_seconds)),
        (send_due_follow_ups, max(1, config.follow_up_check_seconds)),
        (send_reminders, max(1, config.reader_care_check_seconds)),
        (refresh_dashboard_rollups, max(1, DashboardConfig().rollup_check_seconds)),
        (propose_faq_candidates, CANDIDATE_CHECK_SECONDS),
        (refresh_nlu_inbox_flags, FLAG_CHECK_SECONDS),
    ]


def add_nightly_jobs(scheduler: BaseScheduler, timezone: Any = "UTC") -> list[str]:
    """Register the analysis and retention jobs by textual reference; returns the ids added.

    They live in modules another part of the project provides; while a module is
    missing the worker logs a warning and runs without that job.
    """
    added = []
    for job_id, reference, hour, grace in NIGHTLY_JOBS:
        try:
            scheduler.add_job(
                reference,
                CronTrigger(hour=hour, minute=0, timezone=timezone),
                id=job_id,
                replace_existing=True,
                **{**FREQUENT, "misfire_grace_time": grace},
            )
        except (ImportError, LookupError, ValueError) as error:
            logger.warning(
                "job %s not scheduled: %s is not available (%s)", job_id, reference, error
            )
            continue
        added.append(job_id)
    return added


def build_scheduler() -> BlockingScheduler:
    """A scheduler whose jobs live in the reader store's database."""
    scheduler = BlockingScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=database_url())},
        job_defaults=dict(FREQUENT),
        timezone="UTC",
    )
    configure_jobs(scheduler)
    log_job_summaries(scheduler)  # one line when a job did work, none when idle
    return scheduler


def configure_jobs(scheduler: BaseScheduler) -> None:
    """Add every worker job to ``scheduler``, each with its misfire policy spelled out."""
    scheduler.add_job(
        run_catch_up,
        "interval",
        seconds=CATCH_UP_SECONDS,
        id="ingest_catch_up",
        replace_existing=True,
        **FREQUENT,
    )
    scheduler.add_job(
        beat,
        "interval",
        seconds=HEARTBEAT_SECONDS,
        id="heartbeat",
        replace_existing=True,
        **FREQUENT,
    )
    for job, seconds in interval_jobs():
        scheduler.add_job(
            job, "interval", seconds=seconds, id=job.__name__, replace_existing=True, **FREQUENT
        )
    add_nightly_jobs(scheduler, library_zone())


def _watch_leadership(
    leader: Leadership, stop: threading.Event, on_lost: Callable[[], None]
) -> None:
    while not stop.wait(LEADER_CHECK_SECONDS):
        if not leader.still_leader():
            logger.error("lost the worker leadership; stopping so that another worker takes over")
            on_lost()
            return


def main() -> None:
    """Become the leader, catch up once, then run the schedule until stopped."""
    configure_logging("worker")  # RIC_LOG_FORMAT; APScheduler's per-run lines held back
    stop = threading.Event()

    def _stop_waiting(signum: int, _frame: FrameType | None) -> None:
        logger.info("signal %d while waiting for the leadership: stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop_waiting)
    signal.signal(signal.SIGINT, _stop_waiting)
    leader = leadership_for(database_url())
    logger.info("waiting to become the leader worker")
    if not leader.acquire(stop):
        leader.release()
        return
    try:
        lost = _run_as_leader(leader, stop)
    finally:
        leader.release()
    if lost:
        # A non-zero exit lets the supervisor restart us as a standby.
        raise SystemExit(3)


def _run_as_leader(leader: Leadership, stop: threading.Event) -> bool:
    """Run the scheduler until stopped; True when it stopped because leadership was lost."""
    beat()
    result = run_catch_up()
    logger.info(
        "start-up catch-up: read %d rows, ingested %d", result.rows_read, result.events_ingested
    )
    scheduler = build_scheduler()
    if store_logging_mode() == "tail":
        interval = WorkerConfig().tail_interval_seconds
        threading.Thread(
            target=tail_tracker_store, args=(stop, interval), name="tailer", daemon=True
        ).start()
        logger.info("tailing the tracker store every %.2fs", interval)

    lost = threading.Event()

    def _shutdown() -> None:
        stop.set()
        if scheduler.running:
            scheduler.shutdown(wait=False)
        # Not running yet: the start listener below sees ``stop`` and shuts it down.

    def _stop_if_asked(_event: SchedulerEvent) -> None:
        if stop.is_set():
            scheduler.shutdown(wait=False)

    def _lost() -> None:
        lost.set()
        _shutdown()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        logger.info("signal %d: stopping the worker", signum)
        _shutdown()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    threading.Thread(
        target=_watch_leadership, args=(leader, stop, _lost), name="leader", daemon=True
    ).start()
    # A stop asked for while the scheduler is still starting must not be lost.
    scheduler.add_listener(_stop_if_asked, EVENT_SCHEDULER_STARTED)
    logger.info("worker running: catch-up every %ds", CATCH_UP_SECONDS)
    if not stop.is_set():
        scheduler.start()
    stop.set()
    return lost.is_set()


if __name__ == "__main__":
    main()
