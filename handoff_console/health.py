"""Health checks of every service, as the console's home page shows them."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

import aiohttp
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from crm_store.models import Conversation, Message, ServiceHeartbeat
from handoff_console.settings import ConsoleSettings


@dataclass(frozen=True)
class ServiceHealth:
    """One service's state: ``up`` or ``down``, with a human-readable detail."""

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
        return ServiceHealth(name, "up", f"model {body.get('model_id', '?')}")
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
    age = (datetime.now(timezone.utc) - beat.beat_at).total_seconds()
    status = "up" if age <= stale_seconds else "down"
    return store, ServiceHealth("Worker", status, f"last heartbeat {age:.0f}s ago")


async def check_all(
    settings: ConsoleSettings, sessions: sessionmaker[Session]
) -> list[ServiceHealth]:
    """Check the Rasa server, the action server, the reader store and the worker."""
    rasa, actions = await asyncio.gather(
        _http("Rasa server", f"{settings.rasa_url}/status", {"token": settings.rasa_token}),
        _http("Action server", settings.actions_health_url),
    )
    loop = asyncio.get_running_loop()
    store, worker = await loop.run_in_executor(
        None, _store_and_worker, sessions, settings.worker_stale_seconds
    )
    return [rasa, actions, store, worker]
