"""Exceptions raised by the reader store.

The tree::

    CrmStoreError
    ├── StoreUnavailableError   the database cannot be reached
    └── IngestionError          an event could not be turned into rows
"""

from __future__ import annotations


class CrmStoreError(Exception):
    """Base class for every error the reader store raises."""


class StoreUnavailableError(CrmStoreError):
    """The reader store's database cannot be reached."""


class IngestionError(CrmStoreError):
    """A Rasa event could not be ingested."""
