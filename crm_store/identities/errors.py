"""The errors of linking, merging and splitting readers.

The tree (all are :class:`crm_store.errors.CrmStoreError`)::

    IdentityError
    ├── ReaderNotFoundError   no reader has that id
    ├── CardConflictError     both readers are verified with different cards
    └── InvalidRequestError   the merge, split or undo asked for is not possible
"""

from __future__ import annotations

from crm_store.errors import CrmStoreError
from crm_store.redaction import mask_card

__all__ = [
    "CardConflictError",
    "IdentityError",
    "InvalidRequestError",
    "ReaderNotFoundError",
    "mask_card",
]


class IdentityError(CrmStoreError):
    """Base class of the errors raised while linking, merging or splitting readers."""


class ReaderNotFoundError(IdentityError):
    """No reader has the given id."""

    def __init__(self, reader_id: int) -> None:
        super().__init__(f"No reader has the id {reader_id}.")
        self.reader_id = reader_id


class CardConflictError(IdentityError):
    """Both readers were verified with different library cards."""

    def __init__(self, keep_card: str, merge_card: str) -> None:
        super().__init__(
            f"These readers were verified with different library cards ({mask_card(keep_card)} "
            f"and {mask_card(merge_card)}); they are probably two people. Merge with force "
            "only if you are sure."
        )


class InvalidRequestError(IdentityError):
    """The merge, split or undo asked for is not possible."""
