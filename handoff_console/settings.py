"""Console settings, read once from the environment (via ``ric_config``) into a dataclass."""

from __future__ import annotations

from dataclasses import dataclass, field

from handoff_console.client_address import Network, parse_trusted_proxies
from ric_config import (
    ActionsConfig,
    ConsoleConfig,
    NetworkConfig,
    RasaConfig,
    SecurityConfig,
    StoreConfig,
)


@dataclass(frozen=True)
class ConsoleSettings:
    """What the console needs to know. Constructor arguments override the environment."""

    database_url: str
    rasa_url: str
    rasa_public_url: str
    rasa_token: str = field(repr=False)
    actions_health_url: str
    host: str = "127.0.0.1"
    port: int = 5006
    worker_stale_seconds: int = 45
    tracker_database_url: str = "sqlite:///var/tracker.db"
    ingest_lag_degraded_events: int = 500
    ingest_lag_degraded_seconds: float = 60.0
    trusted_proxies: tuple[Network, ...] = ()
    public_url: str = "http://localhost:5006"

    @classmethod
    def from_env(cls, **overrides: object) -> ConsoleSettings:
        """Build settings from ``RIC_*`` variables, then apply ``overrides``."""
        store, rasa, console = StoreConfig(), RasaConfig(), ConsoleConfig()
        actions = ActionsConfig()
        public_url = rasa.rasa_public_url
        values: dict[str, object] = {
            "database_url": store.database_url or "sqlite:///var/crm.db",
            "rasa_url": rasa.rasa_url,
            "rasa_public_url": "http://localhost:5005" if public_url is None else public_url,
            "rasa_token": rasa.rasa_token.get_secret_value(),
            # The launcher sets it when the action server listens somewhere else (RIC_ACTIONS_HOST).
            "actions_health_url": actions.actions_health_url
            or f"http://127.0.0.1:{actions.actions_port}/health",
            "host": NetworkConfig().bind_host,
            "port": console.console_port,
            "tracker_database_url": store.tracker_database_url or "sqlite:///var/tracker.db",
            "ingest_lag_degraded_events": console.ingest_lag_degraded_events,
            "ingest_lag_degraded_seconds": console.ingest_lag_degraded_seconds,
            # Only these peers' X-Forwarded-For is believed (login throttling by address).
            "trusted_proxies": parse_trusted_proxies(console.trusted_proxies),
            # https here makes the session cookie Secure (docs/security.md).
            "public_url": SecurityConfig().console_public_url
            or f"http://{NetworkConfig().public_host}:{console.console_port}",
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
