"""Fixtures: a demo library system on a fresh SQLite file with a fixed clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from library.ils import DemoLibrarySystem, clear_library_system_cache

TODAY = dt.date(2026, 11, 30)  # a Monday


@pytest.fixture(autouse=True)
def _library_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("RIC_LIBRARY_SYSTEM_DOWN", raising=False)
    monkeypatch.delenv("RIC_LIBRARY_SYSTEM", raising=False)
    monkeypatch.setenv("RIC_DEMO_ILS_DB", str(tmp_path / "env" / "demo_ils.db"))
    clear_library_system_cache()
    yield
    clear_library_system_cache()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Where the demo keeps its state for this test."""
    return tmp_path / "ils" / "demo_ils.db"


@pytest.fixture
def make_ils(db_path: Path) -> Callable[..., DemoLibrarySystem]:
    """Build a demo system on this test's database, optionally with another date."""

    def make(today: dt.date = TODAY) -> DemoLibrarySystem:
        return DemoLibrarySystem(db_path=db_path, today=lambda: today)

    return make


@pytest.fixture
def ils(make_ils: Callable[..., DemoLibrarySystem]) -> DemoLibrarySystem:
    """A demo system whose today is `TODAY`."""
    return make_ils()
