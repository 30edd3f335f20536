"""A reader history with known reader-intelligence figures, and a demo crowd for screenshots.

:func:`build_history` writes five readers relative to ``now`` (days ago):

========  ==============================================  ==========================
reader    conversations (days ago, channel: intents)      expected
========  ==============================================  ==========================
ada       156 webchat greet+renew_loans, 130 place_hold,  key (R3 F3 B3 = 9); rated 5
          106 search_catalog, 26 telegram check_fines+
          renew_item, 5 library_hours (rating 5)
ben       104 telegram library_hours                      occasional (3)
cleo      87 webchat check_fines, 74 renew_loans          loyal (R2 F2 B3 = 7);
          (rating 2)                                      churn: silence 33 + low 20
dev       14 email greet+search_catalog                   new (R3 F1 B1 = 5)
eve       41 webchat request_human, handoff abandoned     occasional (R2 F1 B1 = 4);
                                                          churn: silence 18 + left 20
========  ==============================================  ==========================

then runs the real nightly analysis as of ``now`` (churn window 90 days, quiet 30), so
the churn list is cleo and eve. :func:`add_demo_crowd` adds seeded random readers so the
charts of the screenshots have something to show.
"""

from __future__ import annotations

import dataclasses
import random
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from crm_store.models import Feedback, Handoff, HandoffStatus, Reader
from crm_store.sessions import resplit
from tests.crm_store.test_analytics_metrics import HOURS, conversation, message
from worker.analytics.run import run_analysis
from worker.analytics.settings import AnalyticsSettings

NAMES = {
    "ada": "Ada Okafor",
    "ben": "Ben Adeyemi",
    "cleo": "Cleo <b>Marsh</b>",
    "dev": "Dev Patel",
    "eve": "Eve Novak",
}
# (reader, days ago, channel, intents, rating)
VISITS: list[tuple[str, int, str, tuple[str, ...], int | None]] = [
    ("ada", 156, "webchat", ("greet", "renew_loans"), None),
    ("ada", 130, "webchat", ("place_hold",), None),
    ("ada", 106, "webchat", ("search_catalog",), None),
    ("ada", 26, "telegram", ("check_fines", "renew_item"), None),
    ("ada", 5, "webchat", ("library_hours",), 5),
    ("ben", 104, "telegram", ("library_hours",), None),
    ("cleo", 87, "webchat", ("check_fines",), None),
    ("cleo", 74, "webchat", ("renew_loans",), 2),
    ("dev", 14, "email", ("greet", "search_catalog"), None),
    ("eve", 41, "webchat", ("request_human",), None),
]
CHURN_SETTINGS = AnalyticsSettings(
    churn_active_days=90, churn_quiet_days=30, clustering=False, recompute_days=1
)


def _visit(
    session: Session,
    reader: Reader,
    started: datetime,
    channel: str,
    intents: tuple[str, ...],
    rating: int | None,
    name: str,
) -> None:
    conv = conversation(session, channel, reader, started, name)
    for n, intent in enumerate(intents):
        message(session, conv, started + timedelta(minutes=10 * n), f"asking: {intent}", intent)
    resplit(session, [conv.id])  # its channel sessions, as ingestion opens them
    if rating is not None:
        session.add(
            Feedback(
                conversation_id=conv.id,
                reader_id=reader.id,
                rating=rating,
                created_at=started + timedelta(minutes=30),
            )
        )
    if intents == ("request_human",):
        session.add(
            Handoff(
                conversation_id=conv.id,
                reason="reader asked",
                status=HandoffStatus.ABANDONED,
                requested_at=started + timedelta(minutes=1),
            )
        )


def build_history(sessions: sessionmaker[Session], now: datetime) -> dict[str, int]:
    """Write the five readers and run the nightly analysis; returns reader ids by key."""
    ids: dict[str, int] = {}
    with sessions.begin() as session:
        readers = {}
        for key, name in NAMES.items():
            reader = Reader(display_name=name, email=f"{key}@example.org", created_at=now)
            session.add(reader)
            session.flush()
            readers[key], ids[key] = reader, int(reader.id)
        for n, (key, days, channel, intents, rating) in enumerate(VISITS):
            # Two hours before the day mark, so "days since" is exactly ``days``.
            started = now - timedelta(days=days, hours=2)
            _visit(session, readers[key], started, channel, intents, rating, f"hist-{key}-{n}")
    run_analysis(sessions, now, HOURS, CHURN_SETTINGS)
    return ids


CROWD_INTENTS = (
    "renew_loans", "place_hold", "search_catalog", "library_hours", "check_fines",
    "book_room", "research_help", "access_eresources", "get_library_card", "faq",
)  # fmt: skip


def add_demo_crowd(sessions: sessionmaker[Session], now: datetime, readers: int = 60) -> None:
    """Seeded random readers over the last year, so the screenshots' charts are full."""
    rng = random.Random(17)
    with sessions.begin() as session:
        for n in range(readers):
            reader = Reader(display_name=f"Demo Reader {n}", created_at=now)
            session.add(reader)
            session.flush()
            first = rng.randint(1, 360)
            visits = sorted({first, *(rng.randint(1, first) for _ in range(rng.randint(0, 7)))})
            for k, days in enumerate(sorted(visits, reverse=True)):
                channel = rng.choice(("webchat", "webchat", "telegram", "email", "slack"))
                intents = tuple(rng.sample(CROWD_INTENTS, rng.randint(1, 3)))
                rating = rng.choice((None, None, 5, 4, 3, 2)) if k else None
                started = now - timedelta(days=days, hours=3)
                _visit(session, reader, started, channel, intents, rating, f"crowd-{n}-{k}")
    # Three weeks of daily figures, so the weekly report has this week and the last.
    settings = AnalyticsSettings(churn_active_days=90, churn_quiet_days=30, clustering=False)
    run_analysis(sessions, now, HOURS, dataclasses.replace(settings, recompute_days=21))
