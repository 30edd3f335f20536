"""One reader across channels: linking, merging, splitting and reachability.

A reader (``readers``) owns channel identities (``channel_identities``: a widget session,
a Telegram chat, a Slack user, an email address). Every other row that belongs to a
reader points at it through a ``reader_id`` foreign key; merge and split find those
columns in the metadata, so tables added by later modules move with the reader too.

Rules:

- **Verification links.** Verifying a card on a channel moves that identity to the
  reader who owns the card (``repositories.link_verified_reader`` calls `absorb_previous`).
  An anonymous previous reader is folded in completely; a previous reader verified
  with another card keeps everything except the identity and its conversation.
- **Merge** moves every row of one reader to another, fills the kept reader's empty
  profile fields, deletes the merged reader and writes a ``reader.merge`` audit entry
  whose detail lists every moved row, so `undo_merge` can put them back. A row that
  would break a unique constraint once moved (the kept reader already has its
  counterpart, such as a preferences row) is deleted and kept in full in the audit
  detail (``dropped``); the kept reader's row wins. Two readers verified with
  different cards are merged only when forced.
- **Split** moves chosen identities, their conversations and the rows of those
  conversations to a new reader (``reader.split`` audit entry).

Modules: :mod:`~crm_store.identities.merge` (merge, undo, verification links),
:mod:`~crm_store.identities.split`, :mod:`~crm_store.identities.reach` (reachability),
:mod:`~crm_store.identities.rows` (moving a reader's rows) and
:mod:`~crm_store.identities.errors`. The console's views of readers (search, profile)
are in :mod:`handoff_console.services.identities`.

Errors (all are `crm_store.errors.CrmStoreError`)::

    IdentityError
    ├── ReaderNotFoundError   no reader has that id
    ├── CardConflictError     both readers are verified with different cards
    └── InvalidRequestError   the merge, split or undo asked for is not possible
"""

from __future__ import annotations

from crm_store.identities.errors import (
    CardConflictError,
    IdentityError,
    InvalidRequestError,
    ReaderNotFoundError,
    mask_card,
)
from crm_store.identities.merge import absorb_previous, merge_readers, undo_merge
from crm_store.identities.reach import mark_reachable, mark_unreachable
from crm_store.identities.rows import (
    LINK,
    MERGE,
    PROFILE_FIELDS,
    SPLIT,
    UNMERGE,
    reader_columns,
)
from crm_store.identities.split import split_reader

__all__ = [
    "LINK",
    "MERGE",
    "PROFILE_FIELDS",
    "SPLIT",
    "UNMERGE",
    "CardConflictError",
    "IdentityError",
    "InvalidRequestError",
    "ReaderNotFoundError",
    "absorb_previous",
    "mark_reachable",
    "mark_unreachable",
    "mask_card",
    "merge_readers",
    "reader_columns",
    "split_reader",
    "undo_merge",
]
