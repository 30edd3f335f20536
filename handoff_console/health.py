"""Health checks of every service, as the console's home page shows them.

Besides the four processes, *Ingestion* compares the tracker store's newest event
with the reader store's copy position (:func:`crm_store.catchup.ingestion_lag`): it is
``degraded`` when the copy is more than ``RIC_INGEST_LAG_DEGRADED_EVENTS`` events or
``RIC_INGEST_LAG_DEGRADED_SECONDS`` seconds behind, and it reports how many events are
in quarantine. *Email delivery* appears while email replies are failing: how many
are being retried and how many expired (issue 18).
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from crm_store import clock
from crm_store.catchup import IngestionLag, ingestion_lag
from crm_store.mail_outbox import delivery_counts
from crm_store.models import Conversation, Message, ServiceHeartbeat
from handoff_console.settings import ConsoleSettings

INGESTION = "Ingestion"
MAIL_DELIVERY = "Email delivery"
LAG_FIGURES = tuple(field.name for field in fields(IngestionLag))
"""The figures of :class:`~crm_store.catchup.IngestionLag` that the ingestion health repeats."""


@dataclass(frozen=True)
class ServiceHealth:
    """One service's state: ``up``, ``degraded`` or ``down``, with a human-readable detail."""

    name: str
    status: str
    detail: str

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


async def _http(name: str, url: str, params: dict[str, str] | None = None) -> ServiceHealth:
    try:
        timeout = aiohttp.ClientTimeout(total=3)
        async with (
            aiohttp.ClientSession(timeout=timeout) as client,
            client.get(url, params=params) as reply,
        ):
            if reply.status >= 300:
                return ServiceHealth(name, "down", f"HTTP {reply.status}")
            body: Any = await reply.json(content_type=None)
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
        return ServiceHealth(name, "down", f"unreachable: {type(error).__name__}")
    if name == "Rasa server" and isinstance(body, dict):
        # The model's version is its file's name in the registry (v3.tar.gz → v3, issue 16).
        model_file = str(body.get("model_file") or "?").removesuffix(".tar.gz")
        return ServiceHealth(name, "up", f"model {model_file} ({body.get('model_id', '?')})")
    return ServiceHealth(name, "up", "answering")


def _store_and_worker(
    sessions: sessionmaker[Session], stale_seconds: int
) -> tuple[ServiceHealth, ServiceHealth]:
    try:
        with sessions() as session:
            conversations = session.execute(select(func.count(Conversation.id))).scalar_one()
            messages = session.execute(select(func.count(Message.id))).scalar_one()
            beat = session.get(ServiceHeartbeat, "worker")
    except SQLAlchemyError as error:
        down = ServiceHealth("Reader store", "down", f"database error: {type(error).__name__}")
        return down, ServiceHealth("Worker", "down", "unknown: the store is down")
    store = ServiceHealth(
        "Reader store", "up", f"{conversations} conversations, {messages} messages"
    )
    if beat is None:
        return store, ServiceHealth("Worker", "down", "no heartbeat yet")
    age = (clock.now() - beat.beat_at).total_seconds()
    status = "up" if age <= stale_seconds else "down"
    return store, ServiceHealth("Worker", status, f"last heartbeat {age:.0f}s ago")


@dataclass(frozen=True)
class IngestionHealth:
    """How far the reader store's copy of the tracker store is behind, and the quarantine.

    The figures are None when they could not be read (``status`` is then ``down``).
    """

    status: str
    detail: str
    events_behind: int | None
    seconds_behind: float | None
    quarantined: int | None
    last_quarantined_at: datetime | None
    tracker_position: int | None
    store_position: int | None
    degraded_after_events: int
    degraded_after_seconds: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        values = asdict(self)
        if self.last_quarantined_at is not None:
            values["last_quarantined_at"] = self.last_quarantined_at.isoformat()
        if self.seconds_behind is not None:
            values["seconds_behind"] = round(self.seconds_behind, 1)
        return values

    def service(self) -> ServiceHealth:
        """The row of the status table."""
        return ServiceHealth(INGESTION, self.status, self.detail)

    @classmethod
    def judged(
        cls,
        status: str,
        detail: str,
        lag: IngestionLag | None,
        events_limit: int,
        seconds_limit: float,
    ) -> IngestionHealth:
        """The verdict with the figures of ``lag`` (each None when the lag could not be read)."""
        figures = {name: None if lag is None else getattr(lag, name) for name in LAG_FIGURES}
        return cls(
            status=status,
            detail=detail,
            degraded_after_events=events_limit,
            degraded_after_seconds=seconds_limit,
            **figures,
        )


@dataclass(frozen=True)
class HealthReport:
    """Every service's health, and the ingestion figures behind the *Ingestion* row."""

    services: list[ServiceHealth]
    ingestion: IngestionHealth

    @property
    def status(self) -> str:
        """``up`` when every service is up, else ``degraded``."""
        return "up" if all(s.status == "up" for s in self.services) else "degraded"

    def as_dict(self) -> dict[str, Any]:
        """The body of ``GET /api/health``."""
        return {
            "status": self.status,
            "services": [s.as_dict() for s in self.services],
            "ingestion": self.ingestion.as_dict(),
        }


_tracker_engines: dict[str, Engine] = {}


def _tracker_engine(url: str) -> Engine | None:
    """An engine on the tracker store, kept per URL; None while its SQLite file is missing.

    The console must not create Rasa's database by looking at it.
    """
    engine = _tracker_engines.get(url)
    if engine is not None:
        return engine
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        if not parsed.database or not Path(parsed.database).exists():
            return None
        engine = create_engine(url, future=True)
    else:
        engine = create_engine(url, future=True, connect_args={"connect_timeout": 3})
    _tracker_engines[url] = engine
    return engine


def check_ingestion(
    settings: ConsoleSettings, sessions: sessionmaker[Session], now: datetime | None = None
) -> IngestionHealth:
    """Read the ingestion lag and the quarantine, and judge them against the thresholds.

    Args:
        settings: the tracker store's URL and the ``degraded`` thresholds.
        sessions: opens sessions on the reader store.
        now: the current time; defaults to :func:`crm_store.clock.now`.

    Returns:
        ``up``, ``degraded`` (past a threshold) or ``down`` (a store could not be read).
    """
    events_limit = settings.ingest_lag_degraded_events
    seconds_limit = settings.ingest_lag_degraded_seconds
    try:
        engine = _tracker_engine(settings.tracker_database_url)
        lag = ingestion_lag(engine, sessions, now or clock.now())
    except SQLAlchemyError as error:
        detail = f"cannot read the lag: {type(error).__name__}"
        return IngestionHealth.judged("down", detail, None, events_limit, seconds_limit)
    behind = lag.events_behind > events_limit or lag.seconds_behind > seconds_limit
    detail = _detail(lag, events_limit, seconds_limit, behind)
    status = "degraded" if behind else "up"
    return IngestionHealth.judged(status, detail, lag, events_limit, seconds_limit)


def _detail(lag: IngestionLag, events_limit: int, seconds_limit: float, behind: bool) -> str:
    if lag.tracker_position is None:
        copy = "no tracker store events yet"
    else:
        noun = "event" if lag.events_behind == 1 else "events"
        copy = f"{lag.events_behind} {noun} ({lag.seconds_behind:.0f} s) behind"
        if behind:
            copy += f", over the limit of {events_limit} events or {seconds_limit:g} s"
    quarantine = f"{lag.quarantined} quarantined"
    if lag.last_quarantined_at is not None:
        quarantine += f", the latest at {lag.last_quarantined_at:%Y-%m-%d %H:%M} UTC"
    return f"{copy}; {quarantine}"


async def check_all(settings: ConsoleSettings, sessions: sessionmaker[Session]) -> HealthReport:
    """Check the Rasa server, the action server, the reader store, the worker and ingestion."""
    rasa, actions = await asyncio.gather(
        _http("Rasa server", f"{settings.rasa_url}/status", {"token": settings.rasa_token}),
        _http("Action server", settings.actions_health_url),
    )
    loop = asyncio.get_running_loop()
    store, worker = await loop.run_in_executor(
        None, _store_and_worker, sessions, settings.worker_stale_seconds
    )
    ingestion = await loop.run_in_executor(None, check_ingestion, settings, sessions)
    services = [rasa, actions, store, worker, ingestion.service()]
    mail = await loop.run_in_executor(None, check_mail_delivery, sessions)
    if mail is not None:
        services.append(mail)
    return HealthReport(services, ingestion)


def check_mail_delivery(sessions: sessionmaker[Session]) -> ServiceHealth | None:
    """*Email delivery*, shown only while mails are failing: retried, or expired (issue 18)."""
    try:
        with sessions() as session:
            counts = delivery_counts(session)
    except SQLAlchemyError:
        return None  # the reader store's own row says it is down
    if not counts.retrying and not counts.expired:
        return None
    detail = (
        f"{counts.retrying} email repl{'y' if counts.retrying == 1 else 'ies'} not delivered, "
        f"retrying; {counts.expired} expired"
    )
    return ServiceHealth(MAIL_DELIVERY, "degraded", detail)
