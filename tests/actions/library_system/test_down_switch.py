"""The outage switch makes every method raise LibrarySystemUnavailable."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from library.ils import DemoLibrarySystem, LibrarySystemUnavailable
from tests.aio import run as aio_run

CALLS: dict[str, Callable[[DemoLibrarySystem], Coroutine[Any, Any, object]]] = {
    "authenticate": lambda ils: ils.authenticate("21234000123456", "4821"),
    "authenticate_unknown_card": lambda ils: ils.authenticate("21234000999999", "4821"),
    "loans": lambda ils: ils.loans("p1001"),
    "loans_unknown_patron": lambda ils: ils.loans("p9999"),
    "renew": lambda ils: ils.renew("p1001"),
    "renew_some": lambda ils: ils.renew("p1001", ["31234000010011"]),
    "holds": lambda ils: ils.holds("p1001"),
    "place_hold": lambda ils: ils.place_hold("p1005", "b0751", "book", "central"),
    "fines": lambda ils: ils.fines("p1001"),
    "search": lambda ils: ils.search("orwell"),
}


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_env_switch(
    ils: DemoLibrarySystem,
    monkeypatch: pytest.MonkeyPatch,
    call: Callable[[DemoLibrarySystem], Coroutine[Any, Any, object]],
) -> None:
    monkeypatch.setenv("RIC_LIBRARY_SYSTEM_DOWN", "1")
    with pytest.raises(LibrarySystemUnavailable):
        aio_run(call(ils))
    # Read on every call: switching it off brings the system straight back.
    monkeypatch.setenv("RIC_LIBRARY_SYSTEM_DOWN", "0")
    assert aio_run(ils.search("orwell"))[0].record_id == "b1184"


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_file_switch(
    ils: DemoLibrarySystem,
    db_path: Path,
    call: Callable[[DemoLibrarySystem], Coroutine[Any, Any, object]],
) -> None:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    switch = db_path.parent / "ils_down"
    switch.touch()
    with pytest.raises(LibrarySystemUnavailable) as caught:
        aio_run(call(ils))
    assert str(caught.value) == "The library system is down (ils_down switch file)."
    switch.unlink()
    assert aio_run(ils.search("orwell"))[0].record_id == "b1184"


def test_broken_database_is_unavailable(tmp_path: Path) -> None:
    not_a_database = tmp_path / "broken.db"
    not_a_database.write_bytes(b"this is not sqlite" * 100)
    ils = DemoLibrarySystem(db_path=not_a_database)
    with pytest.raises(LibrarySystemUnavailable):
        aio_run(ils.loans("p1001"))
