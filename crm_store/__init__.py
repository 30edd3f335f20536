"""The reader store: readers, conversations, messages, and what happens to them."""

from __future__ import annotations

from crm_store.db import database_url, make_engine, make_session_factory
from crm_store.errors import CrmStoreError, IngestionError, StoreUnavailableError
from crm_store.ingestion import RasaEvent, event_key, ingest

__all__ = [
    "CrmStoreError",
    "IngestionError",
    "RasaEvent",
    "StoreUnavailableError",
    "database_url",
    "event_key",
    "ingest",
    "make_engine",
    "make_session_factory",
]
