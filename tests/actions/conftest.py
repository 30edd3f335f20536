"""Fixtures for the action tests: the demo library system and the reader store, both real."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk import Tracker
from sqlalchemy.orm import Session, sessionmaker

from actions._common import store_sessions
from crm_store.migrate import upgrade
from library.ils import DemoLibrarySystem, clear_library_system_cache

TODAY = dt.date(2026, 11, 30)  # a Monday, as in tests/actions/library_system

ADA = ("21234000123456", "4821")
TOMAS = ("21234000234567", "1357")
MEI = ("21234000345678", "2468")
PRIYA = ("21234000567890", "1122")
GRACE = ("21234000678901", "3690")


class FixedDateLibrary(DemoLibrarySystem):
    """The demo library system whose today is `TODAY`, chosen via ``RIC_LIBRARY_SYSTEM``."""

    def __init__(self) -> None:
        super().__init__(today=lambda: TODAY)


@pytest.fixture
def library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DemoLibrarySystem]:
    """The process's library system: the demo on a fresh SQLite file, fixed at `TODAY`."""
    from library.ils import get_library_system

    monkeypatch.delenv("RIC_LIBRARY_SYSTEM_DOWN", raising=False)
    monkeypatch.setenv("RIC_DEMO_ILS_DB", str(tmp_path / "ils.db"))
    monkeypatch.setenv("RIC_LIBRARY_SYSTEM", f"{__name__}:FixedDateLibrary")
    clear_library_system_cache()
    system = get_library_system()
    assert isinstance(system, FixedDateLibrary)
    yield system
    clear_library_system_cache()


@pytest.fixture
def library_down(library: DemoLibrarySystem, monkeypatch: pytest.MonkeyPatch) -> None:
    """The library system's outage switch is on."""
    monkeypatch.setenv("RIC_LIBRARY_SYSTEM_DOWN", "1")


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[sessionmaker[Session]]:
    """The reader store the actions use: a migrated SQLite file via ``RIC_DATABASE_URL``."""
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    upgrade(url)
    monkeypatch.setenv("RIC_DATABASE_URL", url)
    store_sessions.cache_clear()
    sessions = store_sessions()
    yield sessions
    sessions.kw["bind"].dispose()
    store_sessions.cache_clear()


def make_tracker(
    text: str = "",
    *,
    intent: str | None = None,
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
    sender_id: str = "reader-1",
    channel: str = "webchat",
    events: list[dict[str, Any]] | None = None,
    intent_ranking: list[dict[str, Any]] | None = None,
) -> Tracker:
    """A tracker whose latest message is ``text``, as the action server receives it."""
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9} if intent else {},
        "entities": entities or [],
        "intent_ranking": intent_ranking or [],
    }
    user_event = {"event": "user", "text": text, "parse_data": latest, "input_channel": channel}
    return Tracker.from_dict(
        {
            "sender_id": sender_id,
            "slots": dict(slots or {}),
            "latest_message": latest,
            "events": [*(events or []), user_event],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )
