"""Console settings, read once from the environment into a frozen dataclass."""

from __future__ import annotations

import os
from dataclasses import dataclass

from handoff_console.client_address import Network, parse_trusted_proxies


@dataclass(frozen=True)
class ConsoleSettings:
    """What the console needs to know. Constructor arguments override the environment."""

    database_url: str
    rasa_url: str
    rasa_public_url: str
    rasa_token: str
    actions_health_url: str
    host: str = "127.0.0.1"
    port: int = 5006
    worker_stale_seconds: int = 45
    tracker_database_url: str = "sqlite:///var/tracker.db"
    ingest_lag_degraded_events: int = 500
    ingest_lag_degraded_seconds: float = 60.0
    trusted_proxies: tuple[Network, ...] = ()

    @classmethod
    def from_env(cls, **overrides: object) -> ConsoleSettings:
        """Build settings from ``RIC_*`` variables, then apply ``overrides``."""
        actions_port = os.environ.get("RIC_ACTIONS_PORT", "5055")
        values: dict[str, object] = {
            "database_url": os.environ.get("RIC_DATABASE_URL", "sqlite:///var/crm.db"),
            "rasa_url": os.environ.get("RIC_RASA_URL", "http://127.0.0.1:5005"),
            "rasa_public_url": os.environ.get("RIC_RASA_PUBLIC_URL", "http://localhost:5005"),
            "rasa_token": os.environ.get("RASA_AUTH_TOKEN", ""),
            # The launcher sets it when the action server listens somewhere else (RIC_ACTIONS_HOST).
            "actions_health_url": os.environ.get("RIC_ACTIONS_HEALTH_URL")
            or f"http://127.0.0.1:{actions_port}/health",
            "host": os.environ.get("RIC_BIND_HOST", "127.0.0.1"),
            "port": int(os.environ.get("RIC_CONSOLE_PORT", "5006")),
            "tracker_database_url": os.environ.get(
                "RIC_TRACKER_DATABASE_URL", "sqlite:///var/tracker.db"
            ),
            "ingest_lag_degraded_events": int(
                os.environ.get("RIC_INGEST_LAG_DEGRADED_EVENTS", "500")
            ),
            "ingest_lag_degraded_seconds": float(
                os.environ.get("RIC_INGEST_LAG_DEGRADED_SECONDS", "60")
            ),
            # Only these peers' X-Forwarded-For is believed (login throttling by address).
            "trusted_proxies": parse_trusted_proxies(os.environ.get("RIC_TRUSTED_PROXIES", "")),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
