"""The reader intelligence rollup: computed once by the worker, read by every request.

Counting first contacts, cohorts and value points scans every conversation and reader
message, which takes seconds on a large store, so the dashboard never does it per
request. :func:`refresh` (the worker's ``reader_intelligence`` job, nightly after the
analysis, or the first request on a store that has none yet) computes everything as of
one moment and replaces:

- ``reader_values``: one row per reader with a conversation in the value window (their
  points and segment; :mod:`crm_store.reader_value`), ranked best first;
- ``reader_risks``: the latest nightly churn list, scored (factors and points), ranked;
- ``reader_snapshots``: one JSON document per name: ``acquisition`` (the last
  :data:`SNAPSHOT_MONTHS` months, with first-contact intents per month and new readers
  per day of the last :data:`DAILY_NEW_DAYS` days), ``cohorts``, ``loyalty`` (rated readers
  counted per conversations and mean rating, no ids), ``churn`` (run day and list size)
  and ``segments`` (counts and the rules in force).

Readers appear by id only; the console turns ids into pseudonyms. A request for fewer
months slices the stored months (:func:`slice_acquisition`).
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from dataclasses import asdict
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_store.models.dashboard_reports import ReaderRisk, ReaderSnapshot, ReaderValueRow
from crm_store.reader_dynamics import (
    LOYALTY_SEGMENTS,
    acquisition,
    churn_risk,
    cohort_retention,
    loyalty_segments,
    new_readers_by_day,
)
from crm_store.reader_value import ReaderValue, ValueRules, reader_values, segment_counts
from ric_config import AnalyticsConfig

__all__ = [
    "DAILY_NEW_DAYS",
    "NAMES",
    "SNAPSHOT_MONTHS",
    "VALUE_FIELDS",
    "Snapshot",
    "current",
    "load",
    "new_readers_in",
    "refresh",
    "refresh_from_settings",
    "risk_rows",
    "slice_acquisition",
    "value_fields",
    "value_rows",
]

logger = logging.getLogger(__name__)
_FIRST_REFRESH = threading.Lock()

SNAPSHOT_MONTHS = 36
"""How many months of acquisition and cohorts a refresh keeps (the page asks for ≤ 36)."""
DAILY_NEW_DAYS = 120
"""New readers per day are kept for this many days (the weekly report's two weeks)."""
NAMES = ("acquisition", "cohorts", "loyalty", "churn", "segments")
Snapshot = dict[str, Any]
"""One stored document, with ``as_of`` (ISO time) added."""
VALUE_FIELDS = tuple(
    column.key
    for column in ReaderValueRow.__table__.columns
    if column.key not in ("reader_id", "rank", "services", "mean_rating")
)
"""The value figures ``reader_values`` stores as one number (or the segment name) each,
in its column order: segment, score, the three points, days since contact, conversations
and loans."""


def value_fields(value: ReaderValue | ReaderValueRow) -> dict[str, Any]:
    """A reader's value figures by name, as ``reader_values`` stores them and the API shows.

    Args:
        value: Freshly computed figures (:class:`~crm_store.reader_value.ReaderValue`) or a
            stored ``reader_values`` row: both carry the same figures.

    Returns:
        :data:`VALUE_FIELDS`, then ``services`` (sorted) and ``mean_rating``.
    """
    fields = {name: getattr(value, name) for name in VALUE_FIELDS}
    return {**fields, "services": sorted(value.services), "mean_rating": value.mean_rating}


def _acquisition(session: Session, now: datetime) -> dict[str, Any]:
    found = acquisition(session, now, SNAPSHOT_MONTHS)
    return {
        "months": found.months,
        "new_readers": found.new_readers,
        "returned": found.returned,
        "first_intents": found.first_intents_by_month,
        "new_by_day": {
            day.isoformat(): count
            for day, count in new_readers_by_day(
                session, now - timedelta(days=DAILY_NEW_DAYS), now
            ).items()
        },
    }


def _bubbles(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rated readers counted per (conversations, mean rating to the half star, segment)."""
    counted: Counter[tuple[int, float, str]] = Counter(
        (int(p["conversations"]), round(float(p["mean_rating"]) * 2) / 2, str(p["segment"]))
        for p in points
    )
    return [
        {"conversations": c, "mean_rating": r, "segment": s, "readers": n}
        for (c, r, s), n in sorted(counted.items())
    ]


def _loyalty(session: Session, now: datetime, window_days: int) -> dict[str, Any]:
    view = loyalty_segments(session, now, window_days)
    segments = [
        {
            "segment": s,
            "readers": view.readers[s],
            "ratings": view.ratings[s],
            "csat": view.csat(s),
            "mean_rating": view.mean_rating(s),
        }
        for s in LOYALTY_SEGMENTS
    ]
    return {"window_days": window_days, "items": segments, "points": _bubbles(view.points)}


def _churn(session: Session, now: datetime) -> dict[str, Any]:
    """Store the scored churn list in ``reader_risks``; returns its summary document."""
    day, scored = churn_risk(session, now)
    session.execute(delete(ReaderRisk))
    rows = [{**asdict(r), "rank": rank} for rank, r in enumerate(scored, start=1)]
    if rows:
        session.execute(insert(ReaderRisk), rows)
    return {"run_day": day.isoformat() if day else None, "total": len(rows)}


def refresh(
    session: Session, now: datetime, rules: ValueRules | None = None, loyalty_days: int = 90
) -> dict[str, int]:
    """Recompute the rollup as of ``now`` and replace the stored one; returns row counts."""
    rules = rules or ValueRules()
    values = reader_values(session, now, rules)
    session.execute(delete(ReaderValueRow))
    ordered = sorted(
        values.values(), key=lambda v: (-v.score, -(v.conversations + v.loans), v.reader_id)
    )
    rows = [
        {"reader_id": v.reader_id, "rank": rank, **value_fields(v)}
        for rank, v in enumerate(ordered, start=1)
    ]
    if rows:
        session.execute(insert(ReaderValueRow), rows)
    documents = {
        "acquisition": _acquisition(session, now),
        "cohorts": {"items": cohort_retention(session, now, SNAPSHOT_MONTHS)},
        "loyalty": _loyalty(session, now, loyalty_days),
        "churn": _churn(session, now),
        "segments": {"counts": segment_counts(values), "rules": rules.as_dict()},
    }
    session.execute(delete(ReaderSnapshot))
    session.execute(
        insert(ReaderSnapshot),
        [{"name": name, "as_of": now, "payload": payload} for name, payload in documents.items()],
    )
    return {"reader_values": len(rows), "documents": len(documents)}


def load(session: Session, name: str) -> Snapshot | None:
    """The stored document ``name`` with its ``as_of``, or None before the first refresh."""
    row = session.get(ReaderSnapshot, name)
    if row is None:
        return None
    return {**row.payload, "as_of": row.as_of.isoformat()}


def slice_acquisition(document: Snapshot, months: int) -> dict[str, Any]:
    """The last ``months`` months of a stored acquisition document.

    Returns:
        ``months``, ``channels`` (those with a new reader in the slice), ``new_readers``
        and ``returned`` by month, and ``first_intents`` ranked over the slice.
    """
    kept = document["months"][-months:]
    channels = sorted({c for m in kept for c in document["new_readers"].get(m, {})})
    intents: Counter[str] = Counter()
    for month in kept:
        intents.update(document["first_intents"].get(month, {}))
    return {
        "months": kept,
        "channels": channels,
        "new_readers": {m: document["new_readers"].get(m, {}) for m in kept},
        "returned": {m: document["returned"].get(m, 0) for m in kept},
        "first_intents": sorted(intents.items(), key=lambda item: (-item[1], item[0])),
    }


def new_readers_in(document: Snapshot, first: date, last: date) -> int | None:
    """New readers from ``first`` to ``last`` (inclusive) from a stored acquisition
    document; None when those days are older than the document keeps."""
    days = document["new_by_day"]
    start = (datetime.fromisoformat(document["as_of"]) - timedelta(days=DAILY_NEW_DAYS)).date()
    if first < start:
        return None
    total = 0
    day = first
    while day <= last:
        total += int(days.get(day.isoformat(), 0))
        day += timedelta(days=1)
    return total


def value_rows(
    session: Session, segment: str, limit: int | None = None
) -> tuple[int, list[ReaderValueRow]]:
    """The stored value rows of ``segment`` (or ``all``), best first, and how many there are."""
    query = select(ReaderValueRow)
    if segment != "all":
        query = query.where(ReaderValueRow.segment == segment)
    ordered = query.order_by(ReaderValueRow.rank)
    rows = list(session.execute(ordered.limit(limit) if limit else ordered).scalars())
    if limit is None or len(rows) < limit:
        return len(rows), rows
    counted = select(func.count(ReaderValueRow.reader_id))
    if segment != "all":
        counted = counted.where(ReaderValueRow.segment == segment)
    return int(session.execute(counted).scalar_one()), rows


def refresh_from_settings(session: Session, now: datetime) -> dict[str, int]:
    """:func:`refresh` with the thresholds and the loyalty window of the environment."""
    return refresh(session, now, ValueRules.from_settings(), AnalyticsConfig().loyalty_window_days)


def current(session: Session, name: str, now: datetime) -> Snapshot:
    """The stored document ``name``; on a store that has none yet, refresh first.

    The first refresh runs in its own transaction, committed at once, and one at a time
    in this process (:data:`_FIRST_REFRESH`), so the requests a page sends together do
    not all refresh; a refresh racing another process's fails on the primary keys inside
    its savepoint and the winner's rollup is read instead.
    """
    document = load(session, name)
    if document is not None:
        return document
    with _FIRST_REFRESH:
        own = Session(bind=session.get_bind())
        try:
            with own.begin():
                if load(own, name) is None:
                    try:
                        with own.begin_nested():
                            refresh_from_settings(own, now)
                    except IntegrityError:
                        logger.info("reader intelligence refreshed by another process")
        finally:
            own.close()
    document = load(session, name)
    if document is None:  # pragma: no cover (a refresh stores every name)
        raise LookupError(f"no reader snapshot called {name!r}")
    return document


def risk_rows(session: Session, limit: int | None = None) -> list[ReaderRisk]:
    """The stored churn list, highest risk first (at most ``limit`` rows)."""
    query = select(ReaderRisk).order_by(ReaderRisk.rank)
    return list(session.execute(query.limit(limit) if limit else query).scalars())
