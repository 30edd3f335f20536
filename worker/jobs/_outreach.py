"""Helpers shared by the jobs that message readers: settings, quiet hours, Rasa calls.

Private to ``worker.jobs``. Every time here comes from :func:`crm_store.clock.now`.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Callable
from datetime import datetime, time, timedelta, timezone
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.models import ChannelIdentity, Conversation
from crm_store.outreach import PROACTIVE_CHANNELS, latest_reachable_conversation
from library.profile import library_zone
from messaging.rasa_client import RasaClient
from ric_config import RasaConfig, WorkerConfig

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_QUIET_HOURS = "21:00-08:00"
CLAIM_TIMEOUT = timedelta(minutes=15)
"""A row claimed longer ago than this by a worker that never finished is tried again."""


def _parse_quiet(spec: str) -> tuple[time, time] | None:
    if spec.strip().lower() in {"", "off", "none"}:
        return None
    start, _, end = spec.partition("-")
    try:
        return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
    except ValueError:
        logger.warning("RIC_QUIET_HOURS=%r is not HH:MM-HH:MM; using %s", spec, DEFAULT_QUIET_HOURS)
        return _parse_quiet(DEFAULT_QUIET_HOURS)


def quiet_until(moment: datetime, spec: str | None = None) -> datetime | None:
    """When the quiet hours around ``moment`` end (UTC), or None outside quiet hours.

    ``spec`` (default ``RIC_QUIET_HOURS``, "21:00-08:00") is read in the library's time
    zone; a window may wrap past midnight. "off" disables quiet hours.
    """
    window = _parse_quiet(spec if spec is not None else WorkerConfig().quiet_hours)
    if window is None:
        return None
    start, end = window
    zone = library_zone()
    local = moment.astimezone(zone)
    clock_time = local.time().replace(tzinfo=None)
    wraps = start > end
    inside = (clock_time >= start or clock_time < end) if wraps else start <= clock_time < end
    if not inside:
        return None
    end_day = local.date()
    if wraps and clock_time >= start:
        end_day = end_day + timedelta(days=1)
    local_end = datetime.combine(end_day, end, tzinfo=zone)
    return local_end.astimezone(timezone.utc)


def rasa_from_env() -> RasaClient:
    """A Rasa client configured like the console's (``RIC_RASA_URL``, ``RASA_AUTH_TOKEN``)."""
    rasa = RasaConfig()
    return RasaClient(rasa.rasa_url, rasa.rasa_token.get_secret_value())


def with_rasa(work: Callable[[RasaClient], Awaitable[T]], rasa: RasaClient | None = None) -> T:
    """Run ``work`` with a Rasa client on a fresh event loop (jobs run on plain threads)."""

    async def run() -> T:
        client = rasa or rasa_from_env()
        try:
            return await work(client)
        finally:
            await client.close()

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(run())
    # Called from inside a running loop (a test driving a browser): use a thread of its own.
    outcome: list[T] = []
    errors: list[BaseException] = []

    def target() -> None:
        try:
            outcome.append(asyncio.run(run()))
        except BaseException as error:  # re-raised in the caller's thread
            errors.append(error)

    thread = threading.Thread(target=target, name="worker-rasa")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return outcome[0]


def reachable_target(session: Session, conversation: Conversation) -> Conversation | None:
    """Where to reach the reader of ``conversation``: itself if it can still deliver,
    else the reader's latest reachable conversation, else None (undeliverable).
    """
    if conversation.channel in PROACTIVE_CHANNELS:
        blocked = session.execute(
            select(ChannelIdentity.id).where(
                ChannelIdentity.channel == conversation.channel,
                ChannelIdentity.external_id == conversation.sender_id,
                ChannelIdentity.reachable.is_(False),
            )
        ).first()
        if blocked is None:
            return conversation
    if conversation.reader_id is None:
        return None
    return latest_reachable_conversation(session, conversation.reader_id)
