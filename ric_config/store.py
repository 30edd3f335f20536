"""Settings of the reader store, Rasa's tracker store and the ``var`` folder."""

from __future__ import annotations

from ric_config._base import RicSettings, setting

__all__ = ["StoreConfig"]


class StoreConfig(RicSettings):
    """Where the data lives and how conversation events reach the reader store.

    Attributes:
        var_dir: databases, logs (`var/log/`), secrets and the test clock.
            Default: `./var`
        database_url: the reader store (SQLite or `postgresql://…`).
            Default: `sqlite:///var/crm.db` (the launcher: `$RIC_VAR_DIR/crm.db`)
        tracker_database_url: Rasa's tracker store; must differ from the reader store.
            Default: `sqlite:///var/tracker.db` (the launcher: `$RIC_VAR_DIR/tracker.db`)
        store_logging: `tail`: the worker tails the tracker store; `live`: also a writer
            thread in Rasa; `off`: neither (benchmarks); anything else means `tail`
        ingest_linger_seconds: how long the `live` writer waits to batch events
    """

    area = "Store and data folder"

    var_dir: str | None = setting(None, "RIC_VAR_DIR")
    database_url: str | None = setting(None, "RIC_DATABASE_URL")
    tracker_database_url: str | None = setting(None, "RIC_TRACKER_DATABASE_URL")
    store_logging: str = setting("tail", "RIC_STORE_LOGGING")
    ingest_linger_seconds: float = setting(0.05, "RIC_INGEST_LINGER_SECONDS")
