"""Choosing the adapter from RIC_LIBRARY_SYSTEM."""

from __future__ import annotations

from pathlib import Path

import pytest

from library.ils import (
    DemoLibrarySystem,
    FineSummary,
    Hold,
    HoldPlaced,
    LibrarySystem,
    LibrarySystemConfigurationError,
    Loan,
    Patron,
    RenewalOutcome,
    SearchResult,
    clear_library_system_cache,
    get_library_system,
)


class StubLibrarySystem(LibrarySystem):
    """A do-nothing adapter importable by dotted path."""

    async def authenticate(self, card_number: str, pin: str) -> Patron:
        raise NotImplementedError

    async def loans(self, patron_id: str) -> list[Loan]:
        return []

    async def renew(
        self, patron_id: str, item_ids: list[str] | None = None
    ) -> list[RenewalOutcome]:
        return []

    async def holds(self, patron_id: str) -> list[Hold]:
        return []

    async def place_hold(
        self, patron_id: str, record_id: str, format: str, pickup_branch: str
    ) -> HoldPlaced:
        raise NotImplementedError

    async def fines(self, patron_id: str) -> FineSummary:
        raise NotImplementedError

    async def search(
        self, query: str, limit: int = 5, format: str | None = None
    ) -> list[SearchResult]:
        return []


class NotAnAdapter:
    """Not a LibrarySystem."""


def test_default_is_the_demo_cached_per_process(tmp_path: Path) -> None:
    first = get_library_system()
    assert isinstance(first, DemoLibrarySystem)
    assert first.settings.db_path == tmp_path / "env" / "demo_ils.db"
    assert get_library_system() is first
    clear_library_system_cache()
    assert get_library_system() is not first


def test_dotted_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RIC_LIBRARY_SYSTEM", f"{__name__}:StubLibrarySystem")
    adapter = get_library_system()
    assert type(adapter) is StubLibrarySystem
    assert get_library_system() is adapter


@pytest.mark.parametrize(
    "spec",
    ["koha", "no.such.module:Adapter", f"{__name__}:Missing", f"{__name__}:NotAnAdapter"],
)
def test_bad_setting(monkeypatch: pytest.MonkeyPatch, spec: str) -> None:
    monkeypatch.setenv("RIC_LIBRARY_SYSTEM", spec)
    with pytest.raises(LibrarySystemConfigurationError):
        get_library_system()
