"""Job: keep the manager dashboard's channel sessions and rollups up to date.

Every ``RIC_DASHBOARD_ROLLUP_SECONDS`` the worker

1. splits the conversations that have messages but no sessions yet (data ingested
   before migration 0010) into sessions (:func:`crm_store.sessions.resplit`);
2. recomputes today and the ``RIC_DASHBOARD_RECOMPUTE_DAYS`` days before it
   (library-local days) with :func:`crm_store.rollups.refresh_days`.

Safe to run twice: a day's rollup rows are replaced in one transaction.

``python -m worker.jobs.rollups --resplit`` re-splits every conversation with the
configured inactivity period and rebuilds the rollups of every day with sessions, for
existing data or after ``RIC_SESSION_INACTIVITY_MINUTES`` changed; ``--days N``
rebuilds only the last N days.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, sessionmaker

from crm_store import clock
from crm_store.models import Conversation, Message
from crm_store.models.dashboard import ConversationSession
from crm_store.rollups import refresh_days
from crm_store.sessions import resplit, resplit_all, session_gap
from library.profile import library_zone
from library.staffed_time import StaffedHours, staffed_hours_from_profile, staffed_seconds
from ric_config.dashboard import DashboardConfig
from worker.analytics.metrics import fallback_action_messages
from worker.jobs._resources import store_sessions

__all__ = ["rebuild", "refresh_dashboard_rollups", "refresh_recent", "split_unsplit"]

logger = logging.getLogger("worker.rollups")

_BATCH = 500
_ACTION_GRACE = timedelta(hours=1)


def _staffed(hours: StaffedHours) -> Callable[[datetime, datetime], float]:
    def seconds(start: datetime, end: datetime) -> float:
        return staffed_seconds(hours, start, end)

    return seconds


def _fallbacks(session: Session) -> Callable[[datetime, datetime], set[int]]:
    def found(start: datetime, end: datetime) -> set[int]:
        return fallback_action_messages(session, start, end, _ACTION_GRACE)

    return found


def split_unsplit(sessions: sessionmaker[Session]) -> int:
    """Split the conversations with messages and no session yet; returns sessions made."""
    made = 0
    while True:
        with sessions.begin() as session:
            ids = list(
                session.execute(
                    select(Conversation.id)
                    .where(exists().where(Message.conversation_id == Conversation.id))
                    .where(~exists().where(ConversationSession.conversation_id == Conversation.id))
                    .order_by(Conversation.id)
                    .limit(_BATCH)
                ).scalars()
            )
            if not ids:
                return made
            made += resplit(session, ids, session_gap())


def refresh_recent(
    sessions: sessionmaker[Session],
    now: datetime,
    zone: tzinfo,
    hours: StaffedHours,
    days_before: int,
) -> int:
    """Recompute the rollups of ``now``'s local day and ``days_before`` days before it."""
    today = now.astimezone(zone).date()
    days = [today - timedelta(days=k) for k in range(days_before, -1, -1)]
    return _refresh(sessions, days, now, zone, hours)


def _refresh(
    sessions: sessionmaker[Session],
    days: list[date],
    now: datetime,
    zone: tzinfo,
    hours: StaffedHours,
) -> int:
    rows = 0
    for day in days:
        with sessions.begin() as session:
            rows += refresh_days(session, [day], zone, _staffed(hours), now, _fallbacks(session))
    return rows


def rebuild(
    sessions: sessionmaker[Session],
    now: datetime,
    zone: tzinfo,
    hours: StaffedHours,
    days: int | None = None,
    resplit_first: bool = True,
) -> dict[str, Any]:
    """Re-split every conversation, then rebuild the rollups of every day with sessions.

    Args:
        sessions: Sessions on the reader store.
        now: The current time.
        zone: The library's time zone.
        hours: Staffed chat hours.
        days: Only the last ``days`` days (local); every day with sessions when None.
        resplit_first: Re-split every conversation before rebuilding.
    """
    made = None
    if resplit_first:
        with sessions.begin() as session:
            made = resplit_all(session, session_gap())
    with sessions.begin() as session:
        first, last = session.execute(
            select(
                func.min(ConversationSession.started_at), func.max(ConversationSession.started_at)
            )
        ).one()
    today = now.astimezone(zone).date()
    if first is None:
        return {"sessions": made, "days": 0, "rollup_rows": 0}
    start = first.astimezone(zone).date()
    if days is not None:
        start = max(start, today - timedelta(days=days - 1))
    end = max(last.astimezone(zone).date(), today)
    span = [start + timedelta(days=k) for k in range((end - start).days + 1)]
    rows = _refresh(sessions, span, now, zone, hours)
    return {"sessions": made, "days": len(span), "rollup_rows": rows}


def refresh_dashboard_rollups() -> dict[str, int]:
    """The scheduled job: split new conversations, refresh the recent days' rollups."""
    config = DashboardConfig()
    sessions = store_sessions()
    made = split_unsplit(sessions)
    rows = refresh_recent(
        sessions,
        clock.now(),
        library_zone(),
        staffed_hours_from_profile(),
        config.rollup_recompute_days,
    )
    if made:
        logger.info("split older conversations into %d sessions", made)
    return {"sessions_split": made, "rollup_rows": rows}


def main(argv: list[str] | None = None) -> None:
    """``python -m worker.jobs.rollups [--resplit] [--days N]``: rebuild now."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resplit", action="store_true", help="re-split every conversation")
    parser.add_argument("--days", type=int, default=None, help="only the last N days")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    summary = rebuild(
        store_sessions(),
        clock.now(),
        library_zone(),
        staffed_hours_from_profile(),
        args.days,
        resplit_first=args.resplit,
    )
    print(summary)


if __name__ == "__main__":
    main()
