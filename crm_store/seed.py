"""Demo data for a first run: a handful of known readers with their channel identities.

Idempotent: readers are matched by card number, identities by (channel, address).
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.models import ChannelIdentity, Reader

DEMO_READERS: list[dict[str, str]] = [
    {
        "display_name": "Ada Okafor",
        "email": "ada.okafor@example.org",
        "card_number": "21234000123456",
    },
    {
        "display_name": "Tomás Silva",
        "email": "tomas.silva@example.org",
        "card_number": "21234000234567",
    },
    {"display_name": "Mei Lin", "email": "mei.lin@example.org", "card_number": "21234000345678"},
    {
        "display_name": "Jonah Fischer",
        "email": "jonah.fischer@example.org",
        "card_number": "21234000456789",
    },
]


def seed_demo(session: Session) -> int:
    """Create the demo readers that are missing; returns how many were created."""
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
