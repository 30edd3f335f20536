"""Scheduled jobs run by the worker. Every job is idempotent and safe to run twice."""

from __future__ import annotations

from worker.jobs.heartbeat import beat
from worker.jobs.ingest import run_catch_up

__all__ = ["beat", "run_catch_up"]
