"""Finding the one reader a data-rights request is about.

A request names the reader by what they would tell the library: their 14-digit card
number (spaces and dashes allowed), their email address, a channel address written
``channel:id`` (``telegram:5551234``, ``webchat:<session>``), or ``reader:<id>``.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_store.data_rights.errors import DataRightsError, ReaderNotFound
from crm_store.models import ChannelIdentity, Reader
from crm_store.redaction import CARD_DIGITS, mask_card

__all__ = ["describe_key", "find_reader"]

_CARD = re.compile(r"^[\d \-]+$")
_CHANNEL = re.compile(r"^([a-z_]{2,40}):(.+)$")


def describe_key(key: str) -> str:
    """How ``key`` may be shown in logs and the audit log (a card number masked)."""
    digits = re.sub(r"\D", "", key)
    if _CARD.match(key.strip()) and len(digits) == CARD_DIGITS:
        return mask_card(digits)
    return key.strip()[:200]


def find_reader(session: Session, key: str) -> Reader:
    """The reader that ``key`` names.

    Args:
        session: An open session on the reader store.
        key: A card number, an email address, ``channel:id`` or ``reader:<id>``.

    Raises:
        DataRightsError: ``key`` is empty or in none of these forms.
        ReaderNotFound: it is well-formed but no reader matches it.
    """
    text = key.strip()
    if not text:
        raise DataRightsError("give a card number, an email address, channel:id or reader:<id>")
    reader: Reader | None
    if _CARD.match(text):
        digits = re.sub(r"\D", "", text)
        if len(digits) != CARD_DIGITS:
            raise DataRightsError(
                f"a library card number has {CARD_DIGITS} digits; this has {len(digits)}"
            )
        reader = session.execute(select(Reader).where(Reader.card_number == digits)).scalar()
    elif text.lower().startswith("reader:"):
        number = text.split(":", 1)[1]
        if not number.isdigit():
            raise DataRightsError(f"reader:<id> takes a number, not {number[:40]!r}")
        reader = session.get(Reader, int(number))
    elif "@" in text and ":" not in text:
        reader = _by_email(session, text.lower())
    else:
        match = _CHANNEL.match(text)
        if match is None:
            raise DataRightsError("give a card number, an email address, channel:id or reader:<id>")
        channel, external_id = match.groups()
        reader = _by_identity(session, channel, external_id)
    if reader is None:
        raise ReaderNotFound(f"no reader matches {describe_key(text)}")
    return reader


def _by_email(session: Session, address: str) -> Reader | None:
    reader = session.execute(
        select(Reader).where(func.lower(Reader.email) == address).order_by(Reader.id)
    ).scalar()
    return reader if reader is not None else _by_identity(session, "email", address)


def _by_identity(session: Session, channel: str, external_id: str) -> Reader | None:
    identity = session.execute(
        select(ChannelIdentity).where(
            ChannelIdentity.channel == channel, ChannelIdentity.external_id == external_id
        )
    ).scalar()
    return session.get(Reader, identity.reader_id) if identity is not None else None
