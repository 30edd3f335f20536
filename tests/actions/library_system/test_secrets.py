"""PINs never reach logs, errors or the data files; card numbers are logged masked."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from library.ils import (
    AuthenticationFailed,
    CardLocked,
    DemoLibrarySystem,
    LibrarySystemError,
    UnknownCard,
)
from tests.aio import run as aio_run

ADA = "21234000123456"
WRONG_PIN = "7305"
RIGHT_PIN = "4821"
PATRONS = Path(__file__).parents[3] / "library" / "ils" / "data" / "patrons.json"


def test_pins_stay_out_of_logs_and_errors(
    ils: DemoLibrarySystem, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[LibrarySystemError] = []
    patron = aio_run(ils.authenticate(ADA, RIGHT_PIN))
    for _ in range(5):
        with pytest.raises((AuthenticationFailed, CardLocked)) as caught:
            aio_run(ils.authenticate(ADA, WRONG_PIN))
        errors.append(caught.value)
    with pytest.raises(CardLocked) as locked:
        aio_run(ils.authenticate(ADA, RIGHT_PIN))
    errors.append(locked.value)
    with pytest.raises(UnknownCard) as unknown:
        aio_run(ils.authenticate("21234000999999", WRONG_PIN))
    errors.append(unknown.value)

    assert [type(e).__name__ for e in errors] == [
        "AuthenticationFailed",
        "AuthenticationFailed",
        "AuthenticationFailed",
        "AuthenticationFailed",
        "CardLocked",
        "CardLocked",
        "UnknownCard",
    ]
    texts = [str(e) for e in errors] + [repr(e) for e in errors] + [repr(e.args) for e in errors]
    texts += [caplog.text, repr(patron)]
    assert caplog.records != []
    for text in texts:
        assert WRONG_PIN not in text
        assert RIGHT_PIN not in text
    # Card numbers appear only masked.
    assert ADA not in caplog.text
    assert "21234000999999" not in caplog.text
    assert "**********3456" in caplog.text
    assert str(errors[0]) == (
        "Wrong PIN for the card ending 3456; 4 attempt(s) left before the card is locked."
    )


def test_patrons_file_holds_only_salted_hashes() -> None:
    document = json.loads(PATRONS.read_text(encoding="utf-8"))
    keys = {key for patron in document["patrons"] for key in patron}
    assert keys == {
        "patron_id",
        "card_number",
        "name",
        "email",
        "home_branch",
        "pin_hash",
        "locked",
        "loans",
        "holds",
        "fines",
    }
    hashes = [patron["pin_hash"] for patron in document["patrons"]]
    assert all(h.startswith("scrypt$16384$8$1$") for h in hashes)
    salts = {h.split("$")[4] for h in hashes}
    assert len(salts) == len(hashes)
