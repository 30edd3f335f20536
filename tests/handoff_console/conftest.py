"""Fixtures of the console tests: a migrated reader store with staff, and the running console."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_store.db import make_engine, make_session_factory
from crm_store.ingestion import RasaEvent, ingest
from crm_store.migrate import upgrade
from crm_store.models import StaffUser
from crm_store.repositories import open_handoff
from handoff_console.accounts import create_staff, issue_api_token
from tests.handoff_console.console_server import ConsoleServer, start_console

# role, username, display name, password: only ever used against throw-away stores
STAFF = {
    "sam": ("librarian", "Sam Reyes", "sam-correct-horse"),
    "maria": ("librarian", "Maria Lopez", "maria-battery-staple"),
    "alex": ("admin", "Alex Kim", "alex-admin-passphrase"),
    "morgan": ("manager", "Morgan Lee", "morgan-manager-pass"),
}


@dataclass
class ConsoleStore:
    """A migrated SQLite reader store with the ``STAFF`` accounts."""

    url: str
    sessions: sessionmaker[Session]


def _store(directory: Path) -> ConsoleStore:
    url = f"sqlite:///{directory / 'crm.db'}"
    upgrade(url)
    sessions = make_session_factory(make_engine(url))
    with sessions.begin() as session:
        for username, (role, display_name, password) in STAFF.items():
            create_staff(
                session,
                username=username,
                password=password,
                role=role,
                display_name=display_name,
            )
    return ConsoleStore(url, sessions)


@pytest.fixture
def staff_store(tmp_path: Path) -> Iterator[ConsoleStore]:
    """A fresh store with staff accounts, for one test."""
    store = _store(tmp_path)
    yield store
    store.sessions.kw["bind"].dispose()


@pytest.fixture(scope="module")
def console_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleStore]:
    """A store with staff accounts, shared by one module's tests and its console."""
    store = _store(tmp_path_factory.mktemp("console-store"))
    yield store
    store.sessions.kw["bind"].dispose()


@pytest.fixture(scope="module")
def console(
    console_store: ConsoleStore, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConsoleServer]:
    """The real console process on a free port, on ``console_store``."""
    server = start_console(
        console_store.url, tmp_path_factory.mktemp("console-log") / "console.log"
    )
    yield server
    server.stop()


# -- fixtures of the JSON API tests (test_api_*.py); names start with ``api_`` ----------


@dataclass
class ApiClient:
    """Speaks JSON to the console with a bearer token."""

    server: ConsoleServer
    token: str | None

    def call(self, method: str, path: str, data: object = None) -> Any:
        headers = {"Accept": "application/json"}
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        body = None
        if data is not None:
            body = json.dumps(data).encode()
            headers["Content-Type"] = "application/json"
        return self.server.client().request(method, path, body=body, headers=headers)

    def get(self, path: str) -> Any:
        return self.call("GET", path)

    def post(self, path: str, data: object = None) -> Any:
        return self.call("POST", path, data if data is not None else {})

    def patch(self, path: str, data: object) -> Any:
        return self.call("PATCH", path, data)


def api_token_for(sessions: sessionmaker[Session], username: str) -> str:
    """A fresh bearer token for one of the ``STAFF`` accounts (or any user name)."""
    with sessions.begin() as session:
        user = session.execute(select(StaffUser).where(StaffUser.username == username)).scalar_one()
        return issue_api_token(session, user.id, f"api tests {uuid.uuid4().hex[:6]}")


def api_start_console(
    database_url: str, log_path: Path, rasa_url: str, rasa_token: str, timeout: float = 60.0
) -> ConsoleServer:
    """Start ``python -m handoff_console`` talking to ``rasa_url``; wait for /healthz."""
    return start_console(database_url, log_path, timeout, rasa_url=rasa_url, rasa_token=rasa_token)


@pytest.fixture(scope="module")
def api_clients(console: ConsoleServer, console_store: ConsoleStore) -> dict[str, ApiClient]:
    """A bearer-token client per ``STAFF`` account on the module's console, plus ``anon``.

    Sam and Maria get room for many conversations, since the module's tests share them.
    """
    with console_store.sessions.begin() as session:
        for user in session.execute(
            select(StaffUser).where(StaffUser.username.in_(["sam", "maria"]))
        ).scalars():
            user.capacity = 1000
    clients = {
        name: ApiClient(console, api_token_for(console_store.sessions, name)) for name in STAFF
    }
    clients["anon"] = ApiClient(console, None)
    return clients


@pytest.fixture
def api_handoff(console_store: ConsoleStore) -> Callable[..., int]:
    """Make a conversation waiting for a librarian, with reader messages; returns its id."""

    def make(*texts: str, channel: str = "webchat") -> int:
        sender_id = f"api-{uuid.uuid4().hex[:12]}"
        start = time.time() - 30
        events = [
            RasaEvent(
                sender_id,
                {
                    "event": "user",
                    "text": text,
                    "timestamp": start + i,
                    "input_channel": channel,
                    "parse_data": {"intent": {"name": "request_human", "confidence": 0.9}},
                },
            )
            for i, text in enumerate(texts or ("talk to a librarian",))
        ]
        with console_store.sessions.begin() as session:
            ingest(session, events, "test")
            handoff, _ = open_handoff(
                session, sender_id=sender_id, channel=channel, reason="reader asked"
            )
            return int(handoff.conversation_id)

    return make
