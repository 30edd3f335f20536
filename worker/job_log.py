"""One log line when a scheduled job did some work, and none when it did not.

APScheduler logs two INFO lines for every run of every job ("Running job …", "… executed
successfully"); with 5-second jobs that was about a hundred lines a minute from an idle
worker. :func:`messaging.logs.configure_logging` holds APScheduler's loggers at WARNING
(its errors still show), and :func:`log_job_summaries` adds a listener that writes one
INFO line for a run whose result says it did something: a positive count, a non-empty
list, or a dataclass or mapping with a positive count (positions and rows merely read
do not count as work).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.base import BaseScheduler

__all__ = ["did_work", "log_job_summaries", "summary"]

logger = logging.getLogger("worker.jobs")

NOT_WORK = frozenset({"rows_read", "position"})
"""Result fields that say where a job got to, not what it did."""


def _counts(result: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return {f.name: getattr(result, f.name) for f in dataclasses.fields(result)}
    if isinstance(result, Mapping):
        return {str(key): value for key, value in result.items()}
    return {}


def did_work(result: Any) -> bool:
    """Whether a job's return value says it did something."""
    if result is None or isinstance(result, bool):
        return bool(result)
    if isinstance(result, int | float):
        return result > 0
    if isinstance(result, list | tuple | set | frozenset):
        return len(result) > 0
    return any(
        (isinstance(value, int | float) and not isinstance(value, bool) and value > 0)
        or (isinstance(value, list | tuple | set) and len(value) > 0)
        for name, value in _counts(result).items()
        if name not in NOT_WORK
    )


def summary(result: Any) -> str:
    """A short description of what a job's result says it did."""
    counts = _counts(result)
    if counts:
        return ", ".join(
            f"{name}={len(value) if isinstance(value, list | tuple | set) else value}"
            for name, value in counts.items()
        )
    if isinstance(result, list | tuple | set | frozenset):
        return f"{len(result)} item(s)"
    return str(result)


def log_job_summaries(scheduler: BaseScheduler) -> None:
    """Log one INFO line after each run of a job of ``scheduler`` that did some work."""

    def listener(event: JobExecutionEvent) -> None:
        if did_work(event.retval):
            logger.info("job %s: %s", event.job_id, summary(event.retval))

    scheduler.add_listener(listener, EVENT_JOB_EXECUTED)
