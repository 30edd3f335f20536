"""The interface every library-system adapter implements.

A real adapter (for example one for Koha's REST API) talks HTTP, so every method
is a coroutine. Adapters raise only the errors in `library.ils.errors`;
in particular any outage, timeout or unexpected answer from the system becomes
`LibrarySystemUnavailable`, so an action can tell the reader plainly and offer a
librarian.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from library.ils.records import (
    FineSummary,
    Hold,
    HoldPlaced,
    Loan,
    Patron,
    RenewalOutcome,
    SearchResult,
)

__all__ = ["LibrarySystem"]


class LibrarySystem(ABC):
    """A library management system as the assistant sees it.

    Methods that take a ``patron_id`` expect the id from `authenticate`; an id
    the system does not recognise raises `NotAuthenticated`. Every method may
    raise `LibrarySystemUnavailable`.
    """

    @abstractmethod
    async def authenticate(self, card_number: str, pin: str) -> Patron:
        """Sign a reader in with their card number and PIN.

        A success resets the count of consecutive wrong PINs. The fifth wrong
        PIN in a row locks the card until staff unlock it.

        Args:
            card_number: The library card number; spaces are ignored.
            pin: The reader's PIN. Never logged, stored or put in an error.

        Returns:
            The signed-in reader.

        Raises:
            UnknownCard: No reader has this card number.
            AuthenticationFailed: The PIN was wrong; ``attempts_left`` says how
                many tries remain before the lock.
            CardLocked: The card is locked (including by this attempt).
        """

    @abstractmethod
    async def loans(self, patron_id: str) -> list[Loan]:
        """The loans of the reader ``patron_id`` (from `authenticate`), soonest due first."""

    @abstractmethod
    async def renew(
        self, patron_id: str, item_ids: list[str] | None = None
    ) -> list[RenewalOutcome]:
        """Renew some or all of the reader's loans.

        A renewal extends the loan by the material type's loan period. Each item
        is judged on its own; a refusal is an outcome, not an exception.

        Args:
            patron_id: The id from `authenticate`.
            item_ids: The items to renew, or None for every loan.

        Returns:
            One outcome per item, in the order asked (loan order for None).
        """

    @abstractmethod
    async def holds(self, patron_id: str) -> list[Hold]:
        """The reader's holds, oldest first, each with its place in the queue."""

    @abstractmethod
    async def place_hold(
        self, patron_id: str, record_id: str, format: str, pickup_branch: str
    ) -> HoldPlaced:
        """Place a hold for the reader.

        Args:
            patron_id: The id from `authenticate`.
            record_id: The catalogue record, as in `SearchResult.record_id`.
            format: The material type wanted, such as "book" or "audiobook".
            pickup_branch: The branch id to collect from.

        Returns:
            The new hold; its queue position is 1 + the holds already on the record.

        Raises:
            HoldRefused: The hold cannot be placed; ``reason`` says why.
        """

    @abstractmethod
    async def fines(self, patron_id: str) -> FineSummary:
        """Summarise the reader's outstanding charges.

        Args:
            patron_id: The id from `authenticate`.

        Returns:
            The charges and whether they block borrowing.
        """

    @abstractmethod
    async def search(
        self, query: str, limit: int = 5, format: str | None = None
    ) -> list[SearchResult]:
        """Search the catalogue by title, author and subject.

        Args:
            query: What the reader typed; typos are tolerated.
            limit: The most results to return.
            format: Only return records of this material type.

        Returns:
            The best matches, best first; empty when nothing is relevant.
        """

    async def patron_id_for_card(self, card_number: str) -> str | None:
        """Look a reader up by card number without their PIN (for the worker's reminders).

        Only the worker calls this, for readers who opted in to reminders after signing
        in. Adapters whose system cannot look readers up this way keep the default,
        and the worker then uses the id remembered at sign-in.

        Args:
            card_number: The library card number; spaces are ignored.

        Returns:
            The reader's ``patron_id``, or None when unknown or not supported.
        """
        return None

    async def close(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Release connections; adapters holding none need not override this."""
