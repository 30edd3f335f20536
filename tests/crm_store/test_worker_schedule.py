"""The worker's schedule: every job in the database job store with its misfire policy."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import create_engine, text

from crm_store.migrate import upgrade
from worker import process as worker

EXPECTED_INTERVAL_JOBS = {
    "ingest_catch_up",
    "heartbeat",
    "retry_outbound",
    "ticket_long_waits",
    "abandon_silent",
    "auto_assign_waiting",
    "run_surveys",
    "remind_stale_tickets",
    "send_due_follow_ups",
    "send_reminders",
    "refresh_dashboard_rollups",
    "propose_faq_candidates",
    "refresh_nlu_inbox_flags",
}


def test_every_job_is_stored_in_the_reader_store_with_an_explicit_misfire_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RIC_LIBRARY_TIMEZONE", "Europe/London")
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    upgrade(url)
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=url)}, timezone="UTC"
    )
    worker.configure_jobs(scheduler)
    scheduler.start(paused=True)
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=False)
    nightly = {
        "nightly_analysis",
        "anonymise_old_transcripts",
        "prune_old_receipts",
        "reader_intelligence",
        "weekly_report",
    }
    assert set(jobs) == EXPECTED_INTERVAL_JOBS | nightly
    for job_id in EXPECTED_INTERVAL_JOBS:
        assert (jobs[job_id].coalesce, jobs[job_id].misfire_grace_time) == (True, None)
        assert jobs[job_id].max_instances == 1
    for job_id in nightly:
        assert jobs[job_id].coalesce is True
        assert jobs[job_id].misfire_grace_time >= 6 * 3600
        assert str(jobs[job_id].trigger.timezone) == "Europe/London"
    engine = create_engine(url, future=True)
    with engine.connect() as connection:
        stored = set(connection.execute(text("SELECT id FROM apscheduler_jobs")).scalars())
    engine.dispose()
    assert stored == set(jobs)


def test_nightly_jobs_are_registered_by_reference_and_a_missing_module_is_only_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(
        worker,
        "NIGHTLY_JOBS",
        (
            ("present", "worker.jobs.heartbeat:beat", 2, 3600),
            ("missing", "worker.jobs.not_built_yet:nightly", 3, 3600),
        ),
    )
    scheduler = BackgroundScheduler(jobstores={"default": MemoryJobStore()}, timezone="UTC")
    with caplog.at_level(logging.WARNING, logger="worker.process"):
        added = worker.add_nightly_jobs(scheduler)
    assert added == ["present"]
    assert "worker.jobs.not_built_yet:nightly" in caplog.text
    scheduler.start(paused=True)
    try:
        (job,) = scheduler.get_jobs()
    finally:
        scheduler.shutdown(wait=False)
    assert (job.id, job.func_ref, str(job.trigger)) == (
        "present",
        "worker.jobs.heartbeat:beat",
        "cron[hour='2', minute='0']",
    )
