"""Helpers for tests that drive the running system's widget and console together."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from crm_store.db import make_engine, make_session_factory
from crm_store.repositories import conversation_of
from handoff_console.accounts import create_staff, issue_api_token
from tests.handoff_console.conftest import ApiClient
from tests.handoff_console.console_server import ConsoleServer
from tests.webchat_client import WidgetClient, bot_texts

T = TypeVar("T")


def wait_for(probe: Callable[[], T | None], timeout: float = 20.0, every: float = 0.1) -> T:
    """Call ``probe`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("timed out waiting")


@dataclass
class LiveLibrarian:
    """A librarian account on the running system, with an API client and store sessions."""

    api: ApiClient
    sessions: sessionmaker[Session]
    token: str
    staff_id: int


def live_librarian(system: Any, display_name: str, label: str) -> LiveLibrarian:
    """Create a librarian (capacity 20) with an API token on ``system``'s console."""
    sessions = make_session_factory(make_engine(system.database_url))
    with sessions.begin() as session:
        user = create_staff(
            session,
            username=f"{label}{uuid.uuid4().hex[:6]}",
            password=f"{label}-test-passphrase-1",
            display_name=display_name,
            capacity=20,
        )
        token = issue_api_token(session, user.id, f"{label} tests")
        staff_id = int(user.id)
    server = ConsoleServer(None, system.console_port, Path("/dev/null"))  # type: ignore[arg-type]
    return LiveLibrarian(ApiClient(server, token), sessions, token, staff_id)


async def handoff_in_widget(system: Any) -> WidgetClient:
    """A widget reader who has asked for a librarian (the bot confirmed the handoff)."""
    widget = await WidgetClient(system.ws_url).connect()
    texts = bot_texts(await widget.say("I'd like to talk to a librarian please"))
    assert any("asked a librarian to join" in t for t in texts), texts
    return widget


def conversation_id(sessions: sessionmaker[Session], sender_id: str, timeout: float = 20.0) -> int:
    """The reader-store id of ``sender_id``'s conversation, once ingestion has stored it."""

    def probe() -> int | None:
        with sessions() as session:
            conversation = conversation_of(session, sender_id)
            return conversation.id if conversation else None

    return int(wait_for(probe, timeout))
