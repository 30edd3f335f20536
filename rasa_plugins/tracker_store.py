"""Rasa tracker store that feeds the reader store after each commit.

Configured in ``endpoints.yml`` as ``type: rasa_plugins.tracker_store.IngestingTrackerStore``.
It also masks PINs, and card numbers in message texts and slots, before anything is
saved (``crm_store.redaction``); the ``card_number`` slot is saved only as the action
server sealed it (``crm_store.card_seal``). By default the
worker tails the tracker store; ``RIC_STORE_LOGGING=live`` adds the in-process writer.

Why a tracker store and not an event broker: in Rasa 3.6 a configured broker makes
every ``save()`` retrieve the whole tracker again to compute new events, and it
publishes *before* the tracker store commits, so a crash can leave the reader store
holding events Rasa never saved. Hooking the SQL tracker store after its commit costs
one queue put per event and only ever forwards what Rasa saved. The tracker's own
``events`` table is the durable log the catch-up step reads.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.constants import REQUESTED_SLOT
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActiveLoop, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import event as sa_event
from sqlalchemy import text
from sqlalchemy.engine import make_url

from crm_store.db import (
    make_engine,
    make_session_factory,
    store_logging_mode,
    tracker_database_url,
)
from crm_store.ingestion import RasaEvent
from crm_store.redaction import PIN_SLOT, mask_cards_in_event, redact_event
from rasa_plugins import install as install_patches
from rasa_plugins.ingester import BackgroundIngester
from ric_config import StoreConfig

logger = logging.getLogger(__name__)


def _tune_tracker_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


def _requested_slot_before(tracker: DialogueStateTracker, last: int) -> list[str | None]:
    """The form slot being asked for just before each of the ``last`` events."""
    current: str | None = None
    states: list[str | None] = []
    first = len(tracker.events) - last
    for index, event in enumerate(tracker.events):
        if index >= first:
            states.append(current)
        if isinstance(event, SlotSet) and event.key == REQUESTED_SLOT:
            current = event.value if isinstance(event.value, str) else None
        elif isinstance(event, ActiveLoop) and event.name is None:
            current = None
    return states


class IngestingTrackerStore(SQLTrackerStore):  # type: ignore[misc]  # Rasa is untyped
    """An SQL tracker store that queues each saved event for the reader store."""

    def __init__(
        self,
        domain: Domain | None = None,
        host: str | None = None,
        event_broker: Any = None,
        **kwargs: Any,
    ) -> None:
        # This store is loaded into every Rasa server process, however it was started,
        # so it installs the patches there (a no-op after launcher.rasa_server did).
        install_patches()
        url = make_url(tracker_database_url())
        if url.drivername.startswith("sqlite") and url.database:
            os.makedirs(os.path.dirname(os.path.abspath(url.database)), exist_ok=True)
        super().__init__(
            domain=domain,
            dialect=url.drivername,
            host=url.host,
            port=url.port,
            db=url.database or "rasa.db",
            username=url.username,
            password=url.password,
            event_broker=event_broker,
            query=dict(url.query) or None,
        )
        if self.engine.dialect.name == "sqlite":
            # WAL lets the worker's catch-up read while Rasa writes. synchronous=NORMAL
            # skips the fsync per commit: a killed process loses nothing in WAL mode,
            # only a power cut can lose the last commits.
            sa_event.listen(self.engine, "connect", _tune_tracker_sqlite)
            self.engine.dispose()
            with self.engine.connect() as connection:
                connection.execute(text("PRAGMA journal_mode=WAL"))
        self.ingester: BackgroundIngester | None = None
        if store_logging_mode() == "live":
            linger = StoreConfig().ingest_linger_seconds
            self.ingester = BackgroundIngester(
                make_session_factory(make_engine()), linger_seconds=linger
            )

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Save the tracker, then queue the events it just committed."""
        await self.stream_events(tracker)
        queued: list[RasaEvent] = []
        with self.session_scope() as session:
            new_events = list(self._additional_events(session, tracker))
            asking_for = _requested_slot_before(tracker, len(new_events))
            rows = []
            for event, slot in zip(new_events, asking_for, strict=True):
                data = mask_cards_in_event(redact_event(event.as_dict(), slot == PIN_SLOT))
                intent = data.get("parse_data", {}).get("intent", {}).get("name")
                row = self.SQLEvent(
                    sender_id=tracker.sender_id,
                    type_name=event.type_name,
                    timestamp=data.get("timestamp"),
                    intent_name=intent,
                    action_name=data.get("name"),
                    data=json.dumps(data),
                )
                session.add(row)
                rows.append(row)
            if self.ingester is not None and rows:
                # The row ids are the events' positions: an event the writer quarantines
                # is recorded by position, so catch-up knows it and skips it too. Each
                # body is read back from the saved JSON so its key matches catch-up's.
                session.flush()
                queued = [
                    RasaEvent(tracker.sender_id, json.loads(row.data), position=row.id)
                    for row in rows
                ]
            session.commit()
        if self.ingester is not None and queued:
            self.ingester.submit(queued)
