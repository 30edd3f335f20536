"""The worker process: APScheduler with its job store in the reader store's database.

Run as ``python -m crm_store.worker``. SIGTERM and SIGINT stop it cleanly.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from types import FrameType

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.blocking import BlockingScheduler

from crm_store.db import database_url, store_logging_mode
from crm_store.jobs import beat, run_catch_up
from crm_store.jobs.handoff_jobs import (
    abandon_silent,
    auto_assign_waiting,
    retry_outbound,
    ticket_long_waits,
)
from crm_store.jobs.ingest import tail_tracker_store

logger = logging.getLogger("crm_store.worker")

CATCH_UP_SECONDS = 5
HEARTBEAT_SECONDS = 10
OUTBOUND_RETRY_SECONDS = 5
HANDOFF_CHECK_SECONDS = 30


def build_scheduler() -> BlockingScheduler:
    """A scheduler whose jobs live in the reader store's database."""
    scheduler = BlockingScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=database_url())},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30},
        timezone="UTC",
    )
    scheduler.add_job(
        run_catch_up,
        "interval",
        seconds=CATCH_UP_SECONDS,
        id="ingest_catch_up",
        replace_existing=True,
    )
    scheduler.add_job(
        beat, "interval", seconds=HEARTBEAT_SECONDS, id="heartbeat", replace_existing=True
    )
    for job, seconds in (
        (retry_outbound, OUTBOUND_RETRY_SECONDS),
        (ticket_long_waits, HANDOFF_CHECK_SECONDS),
        (abandon_silent, HANDOFF_CHECK_SECONDS),
        (auto_assign_waiting, OUTBOUND_RETRY_SECONDS),
    ):
        scheduler.add_job(job, "interval", seconds=seconds, id=job.__name__, replace_existing=True)
    return scheduler


def main() -> None:
    """Catch up once at start, then run the schedule until stopped."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    beat()
    result = run_catch_up()
    logger.info(
        "start-up catch-up: read %d rows, ingested %d", result.rows_read, result.events_ingested
    )
    scheduler = build_scheduler()
    stop_tailing = threading.Event()
    if store_logging_mode() == "tail":
        interval = float(os.environ.get("RIC_TAIL_INTERVAL_SECONDS", "0.1"))
        threading.Thread(
            target=tail_tracker_store, args=(stop_tailing, interval), name="tailer", daemon=True
        ).start()
        logger.info("tailing the tracker store every %.2fs", interval)

    def _stop(signum: int, _frame: FrameType | None) -> None:
        logger.info("signal %d: stopping the worker", signum)
        stop_tailing.set()
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    logger.info("worker running: catch-up every %ds", CATCH_UP_SECONDS)
    scheduler.start()


if __name__ == "__main__":
    main()
