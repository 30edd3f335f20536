"""The reader store: readers, conversations, messages, and what happens to them.

The lowest layer but one (only ``ric_config`` is below it): it imports no other package
of the project. Its modules:

- :mod:`crm_store.models`: the tables; :mod:`crm_store.migrations`: their Alembic history;
- :mod:`crm_store.db`: engines and sessions; :mod:`crm_store.clock`: the injectable "now";
- :mod:`crm_store.conversations`: the one owner of a conversation row and its status
  (:func:`~crm_store.conversations.set_conversation_status` is the only writer);
- :mod:`crm_store.repositories`: handoffs, tickets, feedback, verified readers;
- :mod:`crm_store.identities`: one reader across channels (merge, split, reachability);
- :mod:`crm_store.ingestion`: Rasa events into rows, idempotently, with a quarantine;
- :mod:`crm_store.catchup`: ingestion from the tracker store;
- :mod:`crm_store.audit`: the audit log; :mod:`crm_store.redaction`: PIN masking.

The caller owns the session and the transaction (``with sessions.begin() as session``).
"""

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
