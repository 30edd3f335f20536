"""The dashboard's rollups: each channel session's facts, summed per local hour and keys.

The worker refreshes recent days (``worker.jobs.rollups``); :func:`refresh_days`
recomputes the facts of every session that started on the given library-local days
(:func:`crm_store.session_facts.collect_facts`), stores them on the sessions and
replaces those days' ``dashboard_rollups`` (hourly) and ``dashboard_daily_rollups`` rows,
in the caller's transaction. A daily row also carries its conversations per local hour and
its handed-off sessions' first-response and resolution seconds (:func:`daily_extras`);
:func:`fill_daily_extras` derives them from the stored tables for rows written before
migration 0012.
Requests then aggregate a few thousand rollup rows instead of a million messages.

The time zone and the staffed-time function come from the caller (the worker passes
the library profile's), so that this module needs nothing above the reader store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from crm_store.models.dashboard import (
    DURATION_LISTS,
    HOUR_COLUMNS,
    ROLLUP_MEASURES,
    ConversationSession,
    DashboardDailyRollup,
    DashboardRollup,
)
from crm_store.session_facts import (
    POSITIVE_RATING,
    RETURN_WINDOW,
    SessionFacts,
    StaffedSeconds,
    collect_facts,
)

__all__ = [
    "DailyKey",
    "RollupKey",
    "daily_extras",
    "daily_rows",
    "fill_daily_extras",
    "refresh_days",
    "rollup_rows",
]

RollupKey = tuple[date, int, str, str, str, str]
"""(local day, hour, channel, branch, language, intent)."""
DailyKey = tuple[date, str, str, str, str]
"""(local day, channel, branch, language, intent)."""
KEY_NAMES = ("channel", "branch", "language", "intent")


def _local_midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def rollup_rows(facts: Iterable[SessionFacts], zone: tzinfo) -> dict[RollupKey, dict[str, float]]:
    """The sums of the counted sessions per (local day, hour, channel, branch, language, intent)."""
    sums: dict[RollupKey, dict[str, float]] = {}
    for item in facts:
        if not item.counted:
            continue
        local = item.row.started_at.astimezone(zone)
        key = (local.date(), local.hour, item.channel, item.branch, item.language, item.intent)
        row = sums.setdefault(key, dict.fromkeys(ROLLUP_MEASURES, 0))
        row["conversations"] += 1
        row["contained"] += int(item.contained)
        row["handoffs"] += int(item.handoff)
        row["reader_messages"] += item.reader_messages
        row["fallback_messages"] += item.fallback_messages
        if item.rating is not None:
            row["ratings"] += 1
            row["positive_ratings"] += int(item.rating >= POSITIVE_RATING)
            row["rating_sum"] += item.rating
        if item.first_response is not None:
            row["responded"] += 1
            row["first_response_sum"] += item.first_response
        if item.resolution is not None:
            row["resolved"] += 1
            row["resolution_sum"] += item.resolution
    return sums


def daily_rows(hourly: dict[RollupKey, dict[str, float]]) -> dict[DailyKey, dict[str, float]]:
    """The hourly sums added up per (day, channel, branch, language, intent)."""
    sums: dict[DailyKey, dict[str, float]] = {}
    for (day, _hour, *rest), values in hourly.items():
        key: DailyKey = (day, rest[0], rest[1], rest[2], rest[3])
        row = sums.setdefault(key, dict.fromkeys(ROLLUP_MEASURES, 0))
        for name, value in values.items():
            row[name] += value
    return sums


class _Extras:
    """One daily row's conversations per hour and its handed-off sessions' seconds."""

    __slots__ = ("first", "hours", "resolution")

    def __init__(self) -> None:
        self.hours = [0] * 24
        self.first: list[float] = []
        self.resolution: list[float] = []

    def add_durations(self, first: float | None, resolution: float | None) -> None:
        """Keep a handed-off session's seconds (None: not responded or not resolved)."""
        if first is not None:
            self.first.append(float(first))
        if resolution is not None:
            self.resolution.append(float(resolution))

    def columns(self) -> dict[str, Any]:
        """The columns of ``dashboard_daily_rollups`` (a list is null when empty).

        The seconds are written as ``repr`` writes a float (``600.0,1.5e-05``): valid JSON
        numbers that read back as the same floats.
        """
        lists = (self.first, self.resolution)
        return {
            **dict(zip(HOUR_COLUMNS, self.hours, strict=True)),
            **{
                name: ",".join(map(repr, values)) if values else None
                for name, values in zip(DURATION_LISTS, lists, strict=True)
            },
        }


def daily_extras(facts: Iterable[SessionFacts], zone: tzinfo) -> dict[DailyKey, dict[str, Any]]:
    """Per daily key: conversations per local hour and the handed-off sessions' seconds.

    The seconds are those the overview's medians take: of the counted sessions handed
    to a librarian, each first response and each resolution that happened.
    """
    found: dict[DailyKey, _Extras] = {}
    for item in facts:
        if not item.counted:
            continue
        local = item.row.started_at.astimezone(zone)
        key = (local.date(), item.channel, item.branch, item.language, item.intent)
        entry = found.setdefault(key, _Extras())
        entry.hours[local.hour] += 1
        if item.handoff:
            entry.add_durations(item.first_response, item.resolution)
    return {key: entry.columns() for key, entry in found.items()}


def fill_daily_extras(connection: Connection) -> int:
    """Derive every daily row's hour counts and duration lists from the stored tables.

    For rollups written before migration 0012 added the columns: the hours from the
    hourly rollups, the seconds from the sessions' stored facts, exactly as
    :func:`daily_extras` computes them when a day is refreshed. Returns the rows updated.
    """
    found: dict[tuple[Any, ...], _Extras] = {}
    h = DashboardRollup.__table__.c
    for day, hour, channel, branch, language, intent, conversations in connection.execute(
        select(h.day, h.hour, h.channel, h.branch, h.language, h.intent, h.conversations)
    ):
        key = (day, channel, branch, language, intent)
        found.setdefault(key, _Extras()).hours[int(hour)] += int(conversations)
    s = ConversationSession.__table__.c
    for day, channel, branch, language, intent, first, resolution in connection.execute(
        select(
            s.day,
            s.channel,
            s.branch,
            s.language,
            s.intent,
            s.first_response_seconds,
            s.resolution_seconds,
        )
        .where(s.handoff.is_(True), s.intent.is_not(None), s.day.is_not(None))
        .order_by(s.id)
    ):
        key = (day, channel, branch, language, intent)
        found.setdefault(key, _Extras()).add_durations(first, resolution)
    d = DashboardDailyRollup.__table__.c
    updates = []
    for row_id, *key in connection.execute(
        select(d.id, d.day, d.channel, d.branch, d.language, d.intent)
    ):
        entry = found.get(tuple(key))
        if entry is not None:
            columns = entry.columns().items()
            updates.append({"row_id": row_id, **{f"new_{k}": v for k, v in columns}})
    if updates:
        names = (*HOUR_COLUMNS, *DURATION_LISTS)
        connection.execute(
            update(DashboardDailyRollup.__table__)
            .where(d.id == bindparam("row_id"))
            .values({name: bindparam(f"new_{name}") for name in names}),
            updates,
        )
    return len(updates)


def _key_columns(key: RollupKey | DailyKey) -> dict[str, object]:
    names = ("day", "hour", *KEY_NAMES) if len(key) == 6 else ("day", *KEY_NAMES)
    return dict(zip(names, key, strict=True))


def _store_facts(facts: Iterable[SessionFacts], zone: tzinfo, now: datetime) -> None:
    for item in facts:
        row = item.row
        local = row.started_at.astimezone(zone)
        row.day = local.date()
        row.hour = local.hour
        row.channel = item.channel
        row.reader_id = item.reader_id
        row.language = item.language
        row.branch = item.branch
        row.intent = item.intent if item.counted else None
        row.reader_messages = item.reader_messages
        row.fallback_messages = item.fallback_messages
        row.handoff = item.handoff
        row.handoff_reason = item.handoff_reason
        row.librarian_id = item.librarian_id
        row.first_response_seconds = item.first_response
        row.resolution_seconds = item.resolution
        row.rating = item.rating
        row.returned = item.returned if item.counted else None
        row.contained = item.contained if item.counted else None
        row.computed_at = now


def refresh_days(
    session: Session,
    days: Iterable[date],
    zone: tzinfo,
    staffed: StaffedSeconds,
    now: datetime,
    fallback_ids: Callable[[datetime, datetime], set[int]] | None = None,
) -> int:
    """Recompute the facts and rollups of the sessions that started on ``days`` (local).

    Args:
        session: An open session; the caller owns the transaction.
        days: Library-local days.
        zone: The library's time zone.
        staffed: Staffed seconds between two instants.
        now: The time recorded on the rows.
        fallback_ids: Ids of reader messages in ``[start, end)`` a fallback action answered.

    Returns:
        How many rollup rows were written.
    """
    written = 0
    for day in sorted(set(days)):
        lo = _local_midnight(day, zone)
        hi = _local_midnight(day + timedelta(days=1), zone)
        # The next day's sessions decide this day's returns.
        facts = collect_facts(
            session,
            lo,
            hi + RETURN_WINDOW + timedelta(hours=1),
            staffed,
            fallback_ids(lo, hi + timedelta(days=1)) if fallback_ids else None,
        )
        own = [f for f in facts if f.row.started_at < hi]
        _store_facts(own, zone, now)
        hourly = rollup_rows(own, zone)
        session.execute(delete(DashboardRollup).where(DashboardRollup.day == day))
        session.execute(delete(DashboardDailyRollup).where(DashboardDailyRollup.day == day))
        rows = [
            {**_key_columns(key), "computed_at": now, **values} for key, values in hourly.items()
        ]
        if rows:
            session.execute(DashboardRollup.__table__.insert(), rows)
            extras = daily_extras(own, zone)
            daily = [
                {**_key_columns(key), "computed_at": now, **values, **extras[key]}
                for key, values in daily_rows(hourly).items()
            ]
            session.execute(DashboardDailyRollup.__table__.insert(), daily)
        session.flush()
        written += len(rows)
    return written
