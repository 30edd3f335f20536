"""The assistant's window on the library management system.

Actions call `get_library_system()` and use the `LibrarySystem` interface; they
never know which adapter is behind it. ``RIC_LIBRARY_SYSTEM`` picks the adapter:
"demo" (the default, `DemoLibrarySystem`) or "package.module:Class" for a real
one, such as a Koha REST client.

Errors (all from `LibrarySystemError`)::

    LibrarySystemError
    ├── LibrarySystemUnavailable
    ├── LibrarySystemConfigurationError
    ├── SignInError
    │   ├── UnknownCard
    │   ├── AuthenticationFailed
    │   └── CardLocked
    ├── NotAuthenticated
    └── HoldRefused
"""

from __future__ import annotations

from library.ils._factory import clear_library_system_cache, get_library_system
from library.ils.base import LibrarySystem
from library.ils.demo import DemoLibrarySystem, DemoSettings
from library.ils.errors import (
    AuthenticationFailed,
    CardLocked,
    HoldRefusalReason,
    HoldRefused,
    LibrarySystemConfigurationError,
    LibrarySystemError,
    LibrarySystemUnavailable,
    NotAuthenticated,
    SignInError,
    UnknownCard,
)
from library.ils.records import (
    BranchAvailability,
    FineItem,
    FineSummary,
    Hold,
    HoldPlaced,
    HoldStatus,
    Loan,
    Patron,
    RenewalOutcome,
    RenewalReason,
    SearchResult,
)

__all__ = [
    "AuthenticationFailed",
    "BranchAvailability",
    "CardLocked",
    "DemoLibrarySystem",
    "DemoSettings",
    "FineItem",
    "FineSummary",
    "Hold",
    "HoldPlaced",
    "HoldRefusalReason",
    "HoldRefused",
    "HoldStatus",
    "LibrarySystem",
    "LibrarySystemConfigurationError",
    "LibrarySystemError",
    "LibrarySystemUnavailable",
    "Loan",
    "NotAuthenticated",
    "Patron",
    "RenewalOutcome",
    "RenewalReason",
    "SearchResult",
    "SignInError",
    "UnknownCard",
    "clear_library_system_cache",
    "get_library_system",
]
