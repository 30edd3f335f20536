"""Data for a first run: demo readers with their channel identities, and starter canned replies.

The data is in ``crm_store/seed_data/`` (YAML, checked on loading).

Idempotent: readers are matched by card number, identities by (channel, address),
starter canned replies by shortcut. Each starter reply is added once (an audit entry
``canned.seed`` remembers it), so one that staff edited or deleted stays that way.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.audit import audit
from crm_store.models import AuditEntry, CannedResponse, ChannelIdentity, Reader

SEEDED_CANNED = "canned.seed"

SEED_DATA = Path(__file__).with_name("seed_data")
"""The seed data files: ``demo_readers.yml`` and ``canned_replies.yml``."""


def load_seed_data(name: str, fields: tuple[str, ...]) -> list[dict[str, str]]:
    """The entries of ``seed_data/<name>``, checked: a YAML list of mappings.

    Each entry has exactly ``fields``, all non-empty text, and the first field is unique.

    Raises:
        ValueError: the file does not hold such a list.
    """
    path = SEED_DATA / name
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(loaded, list):
        raise ValueError(f"{path}: expected a list of entries")
    entries: list[dict[str, str]] = []
    for number, entry in enumerate(loaded, 1):
        if not isinstance(entry, dict) or set(entry) != set(fields):
            raise ValueError(f"{path}: entry {number} must have exactly {', '.join(fields)}")
        if not all(isinstance(value, str) and value.strip() for value in entry.values()):
            raise ValueError(f"{path}: entry {number} has an empty or non-text field")
        if any(entry[fields[0]] == seen[fields[0]] for seen in entries):
            raise ValueError(f"{path}: entry {number} repeats {fields[0]} {entry[fields[0]]!r}")
        entries.append({field: str(entry[field]) for field in fields})
    return entries


DEMO_READERS = load_seed_data("demo_readers.yml", ("card_number", "display_name", "email"))
"""The demo readers of a first run, each with an email identity."""

STARTER_CANNED = load_seed_data("canned_replies.yml", ("shortcut", "tag", "title", "body"))
"""Useful shared replies every library starts with (English; placeholders filled per chat)."""


def seed_canned(session: Session) -> int:
    """Add the starter canned replies never added before; returns how many were added."""
    taken = set(session.execute(select(CannedResponse.shortcut)).scalars())
    taken |= set(
        session.execute(
            select(AuditEntry.subject).where(AuditEntry.action == SEEDED_CANNED)
        ).scalars()
    )
    created = 0
    for reply in STARTER_CANNED:
        if reply["shortcut"] in taken:
            continue
        session.add(CannedResponse(language="en", **reply))
        audit(session, None, SEEDED_CANNED, reply["shortcut"])
        created += 1
    session.flush()
    return created


def seed_demo(session: Session) -> int:
    """Create the demo readers that are missing, and the starter canned replies.

    Returns:
        How many demo readers were created.
    """
    seed_canned(session)
    created = 0
    now = datetime.now(timezone.utc)
    for demo in DEMO_READERS:
        reader = session.execute(
            select(Reader).where(Reader.card_number == demo["card_number"])
        ).scalar_one_or_none()
        if reader is None:
            reader = Reader(**demo, verified_at=now)
            session.add(reader)
            session.flush()
            created += 1
        identity = session.execute(
            select(ChannelIdentity).where(
                ChannelIdentity.channel == "email", ChannelIdentity.external_id == demo["email"]
            )
        ).scalar_one_or_none()
        if identity is None:
            session.add(
                ChannelIdentity(reader_id=reader.id, channel="email", external_id=demo["email"])
            )
    return created
