"""Readers' data rights across every store (issue 18; docs/privacy.md).

- :func:`find_reader`: the reader a request names (card number, email address,
  ``channel:id`` or ``reader:<id>``);
- :func:`export_reader`: right of access, everything held about one reader as JSON;
- :func:`erase_reader`: right to erasure, everywhere, the tracker store included,
  keeping the aggregate figures;
- :func:`apply_retention`: each store's retention period (tracker store, identities,
  email thread map and outbox, inbound receipts, rotated logs), run nightly by the worker.

The worker, the console and ``./ric reader`` call these; the caller owns the
reader-store session (and so the audit entry's transaction).

Exceptions::

    CrmStoreError
    └── DataRightsError        a request about one reader cannot be carried out
        └── ReaderNotFound     no reader matches the card, address or id given
"""

from __future__ import annotations

from crm_store.data_rights.erase import ERASED, ErasureResult, erase_reader
from crm_store.data_rights.errors import DataRightsError, ReaderNotFound
from crm_store.data_rights.export import EXPORT_FORMAT, export_reader
from crm_store.data_rights.lookup import describe_key, find_reader
from crm_store.data_rights.retention import StoreRetention, apply_retention

__all__ = [
    "ERASED",
    "EXPORT_FORMAT",
    "DataRightsError",
    "ErasureResult",
    "ReaderNotFound",
    "StoreRetention",
    "apply_retention",
    "describe_key",
    "erase_reader",
    "export_reader",
    "find_reader",
]
