"""Loans and renewals: overdue from the injected clock, every refusal, persistence."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from library.ils import DemoLibrarySystem, Loan, NotAuthenticated, RenewalOutcome
from tests.aio import run as aio_run

from .conftest import TODAY


def test_ada_loans(ils: DemoLibrarySystem) -> None:
    assert aio_run(ils.loans("p1001")) == [
        Loan(
            "31234000010029",
            "b0545",
            "Dune",
            "Herbert, Frank",
            "book",
            dt.date(2026, 11, 25),
            1,
            3,
            False,
            TODAY,
        ),
        Loan(
            "31234000010045",
            "b0529",
            "Jurassic Park",
            "Crichton, Michael",
            "dvd",
            dt.date(2026, 12, 2),
            1,
            1,
            False,
            TODAY,
        ),
        Loan(
            "31234000010037",
            "b0613",
            "The Hobbit",
            "Tolkien, J. R. R.",
            "book",
            dt.date(2026, 12, 3),
            0,
            3,
            True,
            TODAY,
        ),
        Loan(
            "31234000010011",
            "b0001",
            "Pride and Prejudice",
            "Austen, Jane",
            "book",
            dt.date(2026, 12, 6),
            0,
            3,
            False,
            TODAY,
        ),
    ]


def test_overdue_follows_the_injected_clock(make_ils: Callable[..., DemoLibrarySystem]) -> None:
    today = [
        (loan.item_id, loan.overdue, loan.days_overdue)
        for loan in aio_run(make_ils().loans("p1001"))
    ]
    assert today == [
        ("31234000010029", True, 5),
        ("31234000010045", False, 0),
        ("31234000010037", False, 0),
        ("31234000010011", False, 0),
    ]
    a_week_later = make_ils(TODAY + dt.timedelta(days=7))
    later = [
        (loan.item_id, loan.overdue, loan.days_overdue)
        for loan in aio_run(a_week_later.loans("p1001"))
    ]
    assert later == [
        ("31234000010029", True, 12),
        ("31234000010045", True, 5),
        ("31234000010037", True, 4),
        ("31234000010011", True, 1),
    ]


def test_renew_all(ils: DemoLibrarySystem) -> None:
    outcomes = aio_run(ils.renew("p1001"))
    assert [(o.item_id, o.renewed, o.new_due_date, o.reason) for o in outcomes] == [
        # overdue: a renewal runs from today
        ("31234000010029", True, dt.date(2026, 12, 21), "renewed"),
        ("31234000010045", False, None, "max_renewals_reached"),
        ("31234000010037", False, None, "on_hold_for_another_reader"),
        # not yet due: a renewal runs from the due date
        ("31234000010011", True, dt.date(2026, 12, 27), "renewed"),
    ]
    assert outcomes[0].message == "“Dune” is renewed and now due Monday 21 December 2026."
    assert outcomes[1].message == (
        "“Jurassic Park” has been renewed the most times allowed (1). "
        "Please return it by Wednesday 2 December 2026."
    )
    assert outcomes[2].message == (
        "“The Hobbit” can't be renewed because another reader is waiting for it. "
        "Please return it by Thursday 3 December 2026."
    )


def test_renew_selected_items_in_the_order_asked(ils: DemoLibrarySystem) -> None:
    outcomes = aio_run(ils.renew("p1003", ["31234000030025", "31234000030017"]))
    assert outcomes == [
        RenewalOutcome(
            "31234000030025",
            "The Hobbit",
            True,
            dt.date(2027, 1, 2),
            "renewed",
            "“The Hobbit” is renewed and now due Saturday 2 January 2027.",
        ),
        RenewalOutcome(
            "31234000030017",
            "Dune",
            True,
            dt.date(2026, 12, 18),
            "renewed",
            "“Dune” is renewed and now due Friday 18 December 2026.",
        ),
    ]
    untouched = [loan.due_date for loan in aio_run(ils.loans("p1001"))]
    assert untouched == [
        dt.date(2026, 11, 25),
        dt.date(2026, 12, 2),
        dt.date(2026, 12, 3),
        dt.date(2026, 12, 6),
    ]


def test_renew_not_on_loan(ils: DemoLibrarySystem) -> None:
    # Someone else's item is as much "not on loan to you" as a made-up one.
    outcomes = aio_run(ils.renew("p1003", ["31234000010011", "nope"]))
    assert [(o.item_id, o.title, o.renewed, o.reason, o.message) for o in outcomes] == [
        ("31234000010011", None, False, "not_on_loan", "Item 31234000010011 isn't on loan to you."),
        ("nope", None, False, "not_on_loan", "Item nope isn't on loan to you."),
    ]


def test_renew_refused_when_charges_block_the_account(ils: DemoLibrarySystem) -> None:
    outcomes = aio_run(ils.renew("p1002"))
    assert [(o.item_id, o.renewed, o.reason) for o in outcomes] == [
        ("31234000020027", False, "account_blocked"),
        ("31234000020019", False, "account_blocked"),
    ]
    assert outcomes[0].message == (
        "“Project Hail Mary” can't be renewed while your account owes £12.50 (renewals stop at "
        "£10.00). It's due Saturday 28 November 2026; you can pay at any branch or ask a librarian."
    )


def test_renew_refused_when_too_overdue_or_at_the_limit(ils: DemoLibrarySystem) -> None:
    outcomes = aio_run(ils.renew("p1004"))
    assert [(o.item_id, o.renewed, o.reason) for o in outcomes] == [
        ("31234000040015", False, "too_overdue"),
        ("31234000040023", False, "max_renewals_reached"),
        ("31234000040031", False, "max_renewals_reached"),
    ]
    assert outcomes[0].message == (
        "“Frankenstein” is 38 days overdue, too late to renew online. "
        "Please return it, or ask a librarian."
    )


def test_thirty_days_overdue_can_still_be_renewed_but_not_thirty_one(
    make_ils: Callable[..., DemoLibrarySystem],
) -> None:
    aio_run(make_ils().loans("p1001"))  # seeds Dune due 25 November
    thirty_one_days_late = make_ils(dt.date(2026, 12, 26))
    outcome = aio_run(thirty_one_days_late.renew("p1001", ["31234000010029"]))[0]
    assert (outcome.reason, outcome.new_due_date) == ("too_overdue", None)
    thirty_days_late = make_ils(dt.date(2026, 12, 25))
    outcome = aio_run(thirty_days_late.renew("p1001", ["31234000010029"]))[0]
    assert (outcome.reason, outcome.new_due_date) == ("renewed", dt.date(2027, 1, 15))


def test_renewals_persist_in_a_new_instance(make_ils: Callable[..., DemoLibrarySystem]) -> None:
    aio_run(make_ils().renew("p1001", ["31234000010011"]))
    again = make_ils()
    loan = next(x for x in aio_run(again.loans("p1001")) if x.item_id == "31234000010011")
    assert (loan.due_date, loan.renewals_used) == (dt.date(2026, 12, 27), 1)
    for expected in ((dt.date(2027, 1, 17), 2), (dt.date(2027, 2, 7), 3)):
        aio_run(again.renew("p1001", ["31234000010011"]))
        loan = next(x for x in aio_run(make_ils().loans("p1001")) if x.item_id == "31234000010011")
        assert (loan.due_date, loan.renewals_used) == expected
    fourth = aio_run(make_ils().renew("p1001", ["31234000010011"]))[0]
    assert fourth.reason == "max_renewals_reached"


def test_reset_and_stale_state_start_again(make_ils: Callable[..., DemoLibrarySystem]) -> None:
    ils = make_ils()
    aio_run(ils.renew("p1001", ["31234000010011"]))
    ils.reset()
    loan = next(x for x in aio_run(ils.loans("p1001")) if x.item_id == "31234000010011")
    assert (loan.due_date, loan.renewals_used) == (dt.date(2026, 12, 6), 0)

    aio_run(ils.renew("p1001", ["31234000010011"]))
    much_later = make_ils(TODAY + dt.timedelta(days=31))
    loan = next(x for x in aio_run(much_later.loans("p1001")) if x.item_id == "31234000010011")
    assert (loan.due_date, loan.renewals_used) == (dt.date(2027, 1, 6), 0)


def test_unknown_patron_is_not_authenticated(ils: DemoLibrarySystem) -> None:
    with pytest.raises(NotAuthenticated):
        aio_run(ils.loans("p9999"))
    with pytest.raises(NotAuthenticated):
        aio_run(ils.renew("p9999"))
