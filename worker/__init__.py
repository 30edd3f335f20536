"""The worker process: scheduled jobs (ingestion, follow-ups, surveys, reader care,
retention) and the nightly analytics. Start it with ``python -m worker``."""
