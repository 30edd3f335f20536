"""Errors raised by library-system adapters.

Every adapter raises only these, so an action can catch one specific error, tell
the reader plainly what happened and return its events. None of them ever carries
a PIN; card numbers appear only as their last four digits.

Exception tree::

    LibrarySystemError
    ├── LibrarySystemUnavailable        the system is down, timing out or failing
    ├── LibrarySystemConfigurationError the adapter setting names no usable adapter
    ├── SignInError                     a card and PIN did not sign the reader in
    │   ├── UnknownCard                 no reader has this card number
    │   ├── AuthenticationFailed        wrong PIN; ``attempts_left`` before the lock
    │   └── CardLocked                  too many wrong PINs; staff must unlock it
    ├── NotAuthenticated                the patron id is not (or no longer) signed in
    └── HoldRefused                     a hold cannot be placed; ``reason`` says why
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "AuthenticationFailed",
    "CardLocked",
    "HoldRefusalReason",
    "HoldRefused",
    "LibrarySystemConfigurationError",
    "LibrarySystemError",
    "LibrarySystemUnavailable",
    "NotAuthenticated",
    "SignInError",
    "UnknownCard",
]

HoldRefusalReason = Literal[
    "already_on_loan",
    "already_on_hold",
    "unknown_pickup_branch",
    "format_not_held",
    "hold_limit_reached",
    "unknown_record",
]
"""Why a hold was refused; the values are stable and safe to branch on."""


class LibrarySystemError(Exception):
    """Base class of every error a library-system adapter raises."""


class LibrarySystemUnavailable(LibrarySystemError):
    """The library system is down, timing out or answering with errors.

    Actions tell the reader plainly that the catalogue and accounts cannot be
    reached right now and offer a librarian.
    """

    def __init__(self, message: str = "The library system is not available right now.") -> None:
        super().__init__(message)


class LibrarySystemConfigurationError(LibrarySystemError):
    """``RIC_LIBRARY_SYSTEM`` names no usable adapter."""


class SignInError(LibrarySystemError):
    """A card number and PIN did not sign the reader in.

    Attributes:
        card_last4: The last four digits of the card number tried (never the PIN).
    """

    def __init__(self, message: str, card_last4: str) -> None:
        super().__init__(message)
        self.card_last4 = card_last4


class UnknownCard(SignInError):
    """No reader has this card number."""

    def __init__(self, card_last4: str) -> None:
        super().__init__(f"No library card ends in {card_last4}.", card_last4)


class AuthenticationFailed(SignInError):
    """The PIN was wrong.

    Attributes:
        attempts_left: Wrong PINs still allowed before the card is locked.
    """

    def __init__(self, card_last4: str, attempts_left: int) -> None:
        super().__init__(
            f"Wrong PIN for the card ending {card_last4}; {attempts_left} attempt(s) left "
            "before the card is locked.",
            card_last4,
        )
        self.attempts_left = attempts_left


class CardLocked(SignInError):
    """The card is locked after too many wrong PINs and stays so until staff unlock it."""

    def __init__(self, card_last4: str) -> None:
        super().__init__(
            f"The card ending {card_last4} is locked after too many wrong PINs; "
            "library staff can unlock it.",
            card_last4,
        )


class NotAuthenticated(LibrarySystemError):
    """The patron id is not one the system knows as signed in."""

    def __init__(self, message: str = "The reader is not signed in.") -> None:
        super().__init__(message)


class HoldRefused(LibrarySystemError):
    """A hold could not be placed.

    Attributes:
        reason: A stable machine-readable reason, see `HoldRefusalReason`.
    """

    def __init__(self, reason: HoldRefusalReason, message: str) -> None:
        super().__init__(message)
        self.reason: HoldRefusalReason = reason
