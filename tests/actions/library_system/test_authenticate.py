"""Signing in: PINs, unknown cards, the lock after five wrong PINs."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from library.ils import (
    AuthenticationFailed,
    CardLocked,
    DemoLibrarySystem,
    Patron,
    UnknownCard,
)
from tests.aio import run as aio_run

ADA = "21234000123456"


def test_right_pin_signs_in(ils: DemoLibrarySystem) -> None:
    patron = aio_run(ils.authenticate(ADA, "4821"))
    assert patron == Patron(
        patron_id="p1001",
        card_number=ADA,
        name="Ada Okafor",
        email="ada.okafor@example.org",
        home_branch="central",
    )
    assert patron.masked_card == "**********3456"
    assert patron.first_name == "Ada"


def test_spaces_in_card_number_are_ignored(ils: DemoLibrarySystem) -> None:
    patron = aio_run(ils.authenticate(" 2123 4000 2345 67 ", "1357"))
    assert (patron.patron_id, patron.name, patron.email) == (
        "p1002",
        "Tomás Silva",
        "tomas.silva@example.org",
    )


def test_every_required_demo_reader_signs_in(ils: DemoLibrarySystem) -> None:
    readers = {
        "21234000123456": ("4821", "Ada Okafor"),
        "21234000234567": ("1357", "Tomás Silva"),
        "21234000345678": ("2468", "Mei Lin"),
        "21234000456789": ("9753", "Jonah Fischer"),
        "21234000567890": ("1122", "Priya Raman"),
        "21234000789012": ("8642", "Samir Haddad"),
    }
    names = {card: aio_run(ils.authenticate(card, pin)).name for card, (pin, _) in readers.items()}
    assert names == {card: name for card, (_, name) in readers.items()}


def test_wrong_pin_says_how_many_attempts_are_left(ils: DemoLibrarySystem) -> None:
    with pytest.raises(AuthenticationFailed) as caught:
        aio_run(ils.authenticate(ADA, "0000"))
    assert caught.value.attempts_left == 4
    assert caught.value.card_last4 == "3456"


def test_unknown_card(ils: DemoLibrarySystem) -> None:
    with pytest.raises(UnknownCard) as caught:
        aio_run(ils.authenticate("21234000999999", "4821"))
    assert caught.value.card_last4 == "9999"


def test_fifth_wrong_pin_locks_the_card_until_staff_unlock_it(
    ils: DemoLibrarySystem, make_ils: Callable[..., DemoLibrarySystem]
) -> None:
    left = []
    for _ in range(4):
        with pytest.raises(AuthenticationFailed) as caught:
            aio_run(ils.authenticate(ADA, "1111"))
        left.append(caught.value.attempts_left)
    assert left == [4, 3, 2, 1]
    with pytest.raises(CardLocked):
        aio_run(ils.authenticate(ADA, "1111"))
    with pytest.raises(CardLocked):
        aio_run(ils.authenticate(ADA, "4821"))
    # The lock is state, not memory: a new instance on the same database sees it.
    with pytest.raises(CardLocked):
        aio_run(make_ils().authenticate(ADA, "4821"))

    ils.unlock_card(ADA)
    assert aio_run(ils.authenticate(ADA, "4821")).patron_id == "p1001"


def test_success_resets_the_wrong_pin_count(ils: DemoLibrarySystem) -> None:
    for _ in range(3):
        with pytest.raises(AuthenticationFailed):
            aio_run(ils.authenticate(ADA, "1111"))
    aio_run(ils.authenticate(ADA, "4821"))
    with pytest.raises(AuthenticationFailed) as caught:
        aio_run(ils.authenticate(ADA, "1111"))
    assert caught.value.attempts_left == 4


def test_demo_reader_with_a_locked_card(ils: DemoLibrarySystem) -> None:
    with pytest.raises(CardLocked) as caught:
        aio_run(ils.authenticate("21234000678901", "3690"))
    assert caught.value.card_last4 == "8901"


def test_reset_clears_locks(ils: DemoLibrarySystem) -> None:
    for _ in range(5):
        with pytest.raises((AuthenticationFailed, CardLocked)):
            aio_run(ils.authenticate(ADA, "1111"))
    ils.reset()
    assert aio_run(ils.authenticate(ADA, "4821")).patron_id == "p1001"
