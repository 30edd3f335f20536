"""Charges, and the limit at which they block borrowing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from library.ils import DemoLibrarySystem, FineItem, FineSummary
from tests.aio import run as aio_run


def test_charges_over_the_limit_block_borrowing(ils: DemoLibrarySystem) -> None:
    assert aio_run(ils.fines("p1002")) == FineSummary(
        total=Decimal("12.50"),
        currency="GBP",
        items=(
            FineItem("Lost item: The Nightingale", Decimal("9.99"), dt.date(2026, 10, 21)),
            FineItem("Late return: Circe", Decimal("2.51"), dt.date(2026, 11, 15)),
        ),
        blocks_borrowing=True,
    )


def test_small_charges_do_not_block(ils: DemoLibrarySystem) -> None:
    assert aio_run(ils.fines("p1001")) == FineSummary(
        total=Decimal("0.75"),
        currency="GBP",
        items=(FineItem("Late return: The Martian", Decimal("0.75"), dt.date(2026, 11, 10)),),
        blocks_borrowing=False,
    )


def test_no_charges(ils: DemoLibrarySystem) -> None:
    summary = aio_run(ils.fines("p1003"))
    assert summary == FineSummary(Decimal("0.00"), "GBP", (), False)
    assert str(summary.total) == "0.00"
