"""Errors of readers' data-rights requests.

The tree::

    CrmStoreError
    └── DataRightsError        a request about one reader cannot be carried out
        └── ReaderNotFound     no reader matches the card, address or id given
"""

from __future__ import annotations

from crm_store.errors import CrmStoreError

__all__ = ["DataRightsError", "ReaderNotFound"]


class DataRightsError(CrmStoreError):
    """A request about one reader's data cannot be carried out; the message says why."""


class ReaderNotFound(DataRightsError):
    """No reader matches the card number, address or id given."""
