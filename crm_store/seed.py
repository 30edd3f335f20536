"""Data for a first run: demo readers with their channel identities, and starter canned replies.

Idempotent: readers are matched by card number, identities by (channel, address),
starter canned replies by shortcut. Each starter reply is added once (an audit entry
``canned.seed`` remembers it), so one that staff edited or deleted stays that way.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.audit import audit
from crm_store.models import AuditEntry, CannedResponse, ChannelIdentity, Reader

SEEDED_CANNED = "canned.seed"

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


STARTER_CANNED: list[dict[str, str]] = [
    {"shortcut": "hello", "tag": "greeting", "title": "Greeting",
     "body": "Hi {first_name}, I'm {librarian_name} from {library_name}. How can I help?"},
    {"shortcut": "checking", "tag": "general", "title": "Checking that for you",
     "body": "Thanks, {first_name}. Let me check that for you; it will take a minute or two."},
    {"shortcut": "renew", "tag": "loans", "title": "Renewals",
     "body": "You can renew loans in your account online, or I can renew them for you now. "
     "Items with a hold from another reader can't be renewed."},
    {"shortcut": "pickup", "tag": "holds", "title": "Holds pickup",
     "body": "Your hold is waiting at the holds shelf of the branch you chose. Bring your "
     "library card; we keep it for 7 days."},
    {"shortcut": "fines", "tag": "charges", "title": "Fines policy",
     "body": "{library_name} charges for lost or damaged items; you'll find the details "
     "under \"Fees and charges\" on our website. I can look up your account if you like."},
    {"shortcut": "print", "tag": "services", "title": "Printing",
     "body": "You can print from the library computers, or send files from your own device "
     "to the print service and pick them up at the release station."},
    {"shortcut": "wifi", "tag": "services", "title": "Wi-Fi",
     "body": "Free Wi-Fi is available in every branch; pick the library network and accept "
     "the terms in your browser. No password is needed."},
    {"shortcut": "hours", "tag": "general", "title": "Opening hours",
     "body": "Our opening hours for every branch are on the website, and the assistant "
     "here can tell you today's hours: just ask \"when are you open?\""},
    {"shortcut": "ill", "tag": "loans", "title": "Interlibrary loan",
     "body": "We don't have that one, {first_name}, but we can borrow it from another "
     "library through interlibrary loan. Shall I start a request for you?"},
    {"shortcut": "email", "tag": "general", "title": "A colleague will email you",
     "body": "A colleague who knows this best will email you within two working days. "
     "Thanks for your patience, {first_name}."},
    {"shortcut": "outofscope", "tag": "general", "title": "Out of scope",
     "body": "I'm sorry, that's not something {library_name} can help with. Is there "
     "anything library-related I can do for you?"},
    {"shortcut": "bye", "tag": "closing", "title": "Closing",
     "body": "Glad I could help, {first_name}. I'll close this chat now; the assistant is "
     "here any time, and you can ask for a librarian again."},
]  # fmt: skip
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
