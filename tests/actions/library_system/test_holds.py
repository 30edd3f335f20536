"""Holds: listing, queue positions, every refusal, concurrent placing."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from library.ils import DemoLibrarySystem, Hold, HoldRefused
from tests.aio import run as aio_run

PRIYA = "p1005"  # a reader with no loans, holds or charges


def test_ada_holds(ils: DemoLibrarySystem) -> None:
    assert aio_run(ils.holds("p1001")) == [
        Hold(
            "H000007",
            "b0067",
            "Animal Farm",
            "book",
            "central",
            "ready_for_pickup",
            1,
            dt.date(2026, 12, 5),
        ),
        Hold(
            "H000018",
            "b0751",
            "Harry Potter and the Philosopher's Stone",
            "book",
            "central",
            "waiting",
            3,
            None,
        ),
    ]


def test_mei_holds_show_queue_positions(ils: DemoLibrarySystem) -> None:
    holds = aio_run(ils.holds("p1003"))
    assert [(h.record_id, h.status, h.queue_position) for h in holds] == [
        ("b0613", "waiting", 1),
        ("b0759", "waiting", 2),
    ]


def test_place_hold_joins_the_end_of_the_queue(ils: DemoLibrarySystem) -> None:
    placed = aio_run(ils.place_hold(PRIYA, "b0751", "book", " Central "))
    # Two other readers and Ada are already waiting for it.
    assert placed.hold == Hold(
        "H000021",
        "b0751",
        "Harry Potter and the Philosopher's Stone",
        "book",
        "central",
        "waiting",
        4,
        None,
    )
    assert placed.queue_position == 4
    assert placed.message == (
        "You're number 4 in the queue for “Harry Potter and the Philosopher's Stone” (book); "
        "we'll keep it for you at Central Library."
    )
    assert aio_run(ils.holds(PRIYA)) == [placed.hold]
    nobody_waiting = aio_run(ils.place_hold(PRIYA, "b0531", "book", "riverside"))
    assert nobody_waiting.queue_position == 1


def test_place_hold_on_another_format_of_the_same_title(ils: DemoLibrarySystem) -> None:
    placed = aio_run(ils.place_hold(PRIYA, "b0751", "audiobook", "northside"))
    assert placed.hold == Hold(
        "H000021",
        "b0752",
        "Harry Potter and the Philosopher's Stone",
        "audiobook",
        "online",
        "waiting",
        1,
        None,
    )
    assert placed.message == (
        "You're number 1 in the queue for “Harry Potter and the Philosopher's Stone” "
        "(audiobook); it will be lent to you online when it's your turn."
    )


@pytest.mark.parametrize(
    ("patron_id", "record_id", "format", "branch", "reason", "message"),
    [
        (
            "p1001",
            "b0613",
            "book",
            "central",
            "already_on_loan",
            "You already have “The Hobbit” on loan.",
        ),
        (
            "p1001",
            "b0751",
            "book",
            "central",
            "already_on_hold",
            "You already have a hold on “Harry Potter and the Philosopher's Stone”.",
        ),
        (
            PRIYA,
            "b0001",
            "book",
            "Atlantis",
            "unknown_pickup_branch",
            "'Atlantis' is not one of our branches; choose Central, Northside or Riverside.",
        ),
        (
            PRIYA,
            "b0001",
            "book",
            "online",
            "unknown_pickup_branch",
            "'online' is not one of our branches; choose Central, Northside or Riverside.",
        ),
        (PRIYA, "b0531", "dvd", "central", "format_not_held", "We don't have “It” as a DVD."),
        (
            "p1007",
            "b0001",
            "book",
            "northside",
            "hold_limit_reached",
            "You already have 10 holds, the most allowed at once.",
        ),
        (
            PRIYA,
            "b9999",
            "book",
            "central",
            "unknown_record",
            "There is no catalogue record 'b9999'.",
        ),
    ],
)
def test_place_hold_refusals(
    ils: DemoLibrarySystem,
    patron_id: str,
    record_id: str,
    format: str,
    branch: str,
    reason: str,
    message: str,
) -> None:
    before = aio_run(ils.holds(patron_id))
    with pytest.raises(HoldRefused) as caught:
        aio_run(ils.place_hold(patron_id, record_id, format, branch))
    assert (caught.value.reason, str(caught.value)) == (reason, message)
    assert aio_run(ils.holds(patron_id)) == before


def test_new_hold_blocks_the_borrowers_renewal(ils: DemoLibrarySystem) -> None:
    pride = "31234000010011"
    assert [
        loan.blocked_by_hold for loan in aio_run(ils.loans("p1001")) if loan.item_id == pride
    ] == [False]
    aio_run(ils.place_hold(PRIYA, "b0001", "book", "riverside"))
    assert [
        loan.blocked_by_hold for loan in aio_run(ils.loans("p1001")) if loan.item_id == pride
    ] == [True]
    outcome = aio_run(ils.renew("p1001", [pride]))[0]
    assert outcome.reason == "on_hold_for_another_reader"


def test_concurrent_holds_respect_the_limit(ils: DemoLibrarySystem) -> None:
    records = [f"b{n:04d}" for n in range(1100, 1111)]  # eleven different records

    async def place_all() -> list[object]:
        return await asyncio.gather(
            *(ils.place_hold(PRIYA, record, "book", "central") for record in records),
            return_exceptions=True,
        )

    results = aio_run(place_all())
    refused = [r.reason for r in results if isinstance(r, HoldRefused)]
    assert refused == ["hold_limit_reached"]
    assert len(aio_run(ils.holds(PRIYA))) == 10
    assert sorted(h.hold_id for h in aio_run(ils.holds(PRIYA))) == [
        f"H{n:06d}" for n in range(21, 31)
    ]
