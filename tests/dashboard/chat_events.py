"""Rasa events for the dashboard's tests, ingested through the real ingestion path.

:class:`Chat` builds one Rasa conversation's events (reader messages with their intent,
bot replies, librarian replies, slots) at given times; :func:`ingest_chats` writes them
with :func:`crm_store.ingestion.ingest`, exactly as the worker's catch-up does. Both live
in :mod:`crm_store.demo_history_chats`, where ``./ric up``'s demo history uses them too.
"""

from __future__ import annotations

from crm_store.demo_history_chats import Chat, ingest_chats

__all__ = ["Chat", "ingest_chats"]
