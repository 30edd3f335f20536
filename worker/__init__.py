"""The worker process: scheduled jobs (ingestion, follow-ups, surveys, reader care,
retention) and the nightly analytics. Start it with ``python -m worker``.

Nothing is imported here, so that importing one job does not load the scheduler;
``worker.process`` is the process, ``worker.jobs`` and ``worker.analytics`` its work.
"""

from __future__ import annotations

__all__: list[str] = []
