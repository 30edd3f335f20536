"""Reader intelligence for the dashboard: each view's JSON and its exportable table.

Every function takes an open session and returns ``(payload, table)``: the JSON the
API answers with and the :class:`~handoff_console.dashboard.exports.Table` its
``?format=csv|xlsx`` export holds. The figures come from :mod:`crm_store.reader_dynamics`
and :mod:`crm_store.reader_value` (docs/analytics.md, "Reader intelligence").

Readers are shown by pseudonym. With ``names`` (a manager's explicit
``?names=true``) the readers' names are added to the reply and to the export, and the
request is written to the audit log (``dashboard.reveal_names``: who, which list, how
many readers, in which format) before anything is answered.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store import clock
from crm_store.audit import audit
from crm_store.models import Reader
from crm_store.reader_dynamics import (
    LOYALTY_SEGMENTS,
    acquisition,
    churn_risk,
    cohort_retention,
    loyalty_segments,
)
from crm_store.reader_value import (
    SEGMENTS,
    ValueRules,
    pseudonym,
    pseudonym_key,
    reader_values,
    segment_counts,
)
from handoff_console.dashboard.exports import Cell, Table
from handoff_console.schemas.dashboard_readers import (
    AcquisitionReply,
    AcquisitionRow,
    ChurnReply,
    CohortReply,
    IntentsReply,
    KeyReader,
    KeyReadersReply,
    LoyaltyReply,
)
from handoff_console.services.errors import BadRequest
from ric_config import AnalyticsConfig

__all__ = [
    "MAX_MONTHS",
    "View",
    "acquisition_view",
    "churn_view",
    "cohorts_view",
    "intents_view",
    "key_readers_view",
    "loyalty_view",
    "parse_months",
    "parse_segment",
]

MAX_MONTHS = 36
View = tuple[dict[str, Any], Table]
"""A view's JSON reply and its export table."""


def parse_months(value: str | None) -> int:
    """``?months=``: 1 to 36, 12 by default; else a 400 ``bad_months``."""
    if value in (None, ""):
        return 12
    if not value.isdigit() or not 1 <= int(value) <= MAX_MONTHS:
        raise BadRequest("bad_months", f"months must be a whole number from 1 to {MAX_MONTHS}.")
    return int(value)


def parse_segment(value: str | None) -> str:
    """``?segment=``: a value segment or ``all``; ``key`` by default."""
    segment = value or "key"
    if segment not in (*SEGMENTS, "all"):
        raise BadRequest("bad_segment", f"segment must be one of {', '.join(SEGMENTS)} or all.")
    return segment


def _names(session: Session, ids: list[int]) -> dict[int, str | None]:
    if not ids:
        return {}
    rows = session.execute(select(Reader.id, Reader.display_name).where(Reader.id.in_(ids)))
    return {int(reader_id): name for reader_id, name in rows}


def _reveal(
    session: Session, staff_id: int, listing: str, ids: list[int], output: str
) -> dict[int, str | None]:
    """Audit a manager's request for names, then return them by reader id."""
    audit(
        session,
        staff_id,
        "dashboard.reveal_names",
        f"dashboard:{listing}",
        readers=len(ids),
        format=output,
    )
    return _names(session, ids)


def acquisition_view(session: Session, months: int, now: datetime | None = None) -> View:
    """New readers by month and channel, and who came back."""
    found = acquisition(session, now or clock.now(), months)
    items = []
    for month in found.months:
        total = found.total(month)
        back = found.returned[month]
        items.append(
            AcquisitionRow(
                month=month,
                new_readers=total,
                by_channel={c: found.new_readers[month].get(c, 0) for c in found.channels},
                returned=back,
                returning_share=round(back / total, 4) if total else None,
            )
        )
    payload = AcquisitionReply.view(
        months=months,
        channels=found.channels,
        returning_share=found.returning_share,
        items=items,
    )
    columns = ["Month", *found.channels, "New readers", "Came back", "Share who came back"]
    rows = [
        [i.month, *i.by_channel.values(), i.new_readers, i.returned, i.returning_share]
        for i in items
    ]
    return payload, Table("new-readers", columns, rows)


def intents_view(session: Session, months: int, now: datetime | None = None) -> View:
    """First-contact intents of the period's new readers."""
    found = acquisition(session, now or clock.now(), months)
    items = [{"intent": intent, "readers": count} for intent, count in found.first_intents]
    payload = IntentsReply.view(months=months, items=items)
    rows: list[list[Cell]] = [[intent, count] for intent, count in found.first_intents]
    return payload, Table("first-contact-intents", ["Intent", "New readers"], rows)


def cohorts_view(session: Session, months: int, now: datetime | None = None) -> View:
    """The cohort retention table by month of first contact."""
    items = cohort_retention(session, now or clock.now(), months)
    payload = CohortReply.view(months=months, items=items)
    width = max((len(i["retention"]) for i in items), default=0)
    columns = ["Cohort", "Readers", *(f"Month +{k}" for k in range(width))]
    rows: list[list[Cell]] = [
        [i["month"], i["readers"], *i["retention"], *([None] * (width - len(i["retention"])))]
        for i in items
    ]
    return payload, Table("cohort-retention", columns, rows)


def churn_view(
    session: Session, names: bool, staff_id: int, output: str, now: datetime | None = None
) -> View:
    """Readers at risk (the latest churn list), scored, with the factors behind each score."""
    day, scored = churn_risk(session, now or clock.now())
    key = pseudonym_key(session)
    ids = [r.reader_id for r in scored]
    named = _reveal(session, staff_id, "readers/churn", ids, output) if names else {}
    items = [
        {
            "pseudonym": pseudonym(key, r.reader_id),
            "name": named.get(r.reader_id),
            "profile": f"/readers/{r.reader_id}",
            "last_active_at": r.last_active_at,
            "conversations": r.conversations,
            "score": r.score,
            "factors": r.factors,
        }
        for r in scored
    ]
    payload = ChurnReply.view(run_day=day, names=names, items=items)
    columns = ["Reader", *(["Name"] if names else []), "Risk score", "Last active"]
    columns += ["Conversations", "Factors"]
    rows: list[list[Cell]] = [
        [
            pseudonym(key, r.reader_id),
            *([named.get(r.reader_id)] if names else []),
            r.score,
            r.last_active_at,
            r.conversations,
            "; ".join(f"{f['detail']} (+{f['points']})" for f in r.factors),
        ]
        for r in scored
    ]
    return payload, Table("readers-at-risk", columns, rows, personal=names)


def loyalty_view(session: Session, now: datetime | None = None) -> View:
    """Loyalty segments, CSAT by segment, and each rated reader's point."""
    window = AnalyticsConfig().loyalty_window_days
    found = loyalty_segments(session, now or clock.now(), window)
    key = pseudonym_key(session)
    items = [
        {
            "segment": s,
            "readers": found.readers[s],
            "ratings": found.ratings[s],
            "csat": found.csat(s),
            "mean_rating": found.mean_rating(s),
        }
        for s in LOYALTY_SEGMENTS
    ]
    points = [
        {
            **{k: v for k, v in p.items() if k != "reader_id"},
            "pseudonym": pseudonym(key, p["reader_id"]),
        }
        for p in found.points
    ]
    payload = LoyaltyReply.view(window_days=window, items=items, points=points)
    columns = ["Segment", "Readers", "Ratings", "CSAT", "Mean rating"]
    rows = [[i["segment"], i["readers"], i["ratings"], i["csat"], i["mean_rating"]] for i in items]
    return payload, Table("loyalty-segments", columns, rows)


def key_readers_view(
    session: Session,
    segment: str,
    names: bool,
    staff_id: int,
    output: str,
    now: datetime | None = None,
) -> View:
    """The value segmentation: counts, rules, and the readers of one segment (best first)."""
    rules = ValueRules.from_settings()
    values = reader_values(session, now or clock.now(), rules)
    listed = [v for v in values.values() if segment in ("all", v.segment)]
    listed.sort(key=lambda v: (-v.score, -(v.conversations + v.loans), v.reader_id))
    ids = [v.reader_id for v in listed]
    named = _reveal(session, staff_id, f"readers/key/{segment}", ids, output) if names else {}
    key = pseudonym_key(session)
    items = [
        KeyReader(
            pseudonym=pseudonym(key, v.reader_id),
            name=named.get(v.reader_id),
            profile=f"/readers/{v.reader_id}",
            segment=v.segment,
            score=v.score,
            recency=v.recency,
            frequency=v.frequency,
            breadth=v.breadth,
            recency_days=v.recency_days,
            conversations=v.conversations,
            loans=v.loans,
            services=sorted(v.services),
            mean_rating=v.mean_rating,
        )
        for v in listed
    ]
    payload = KeyReadersReply.view(
        segment=segment,
        names=names,
        rules=rules.as_dict(),
        segments=segment_counts(values),
        items=items,
    )
    columns = ["Reader", *(["Name"] if names else []), "Segment", "Score", "Recency"]
    columns += ["Frequency", "Breadth", "Days since contact", "Conversations", "Loans"]
    columns += ["Services", "Mean rating"]
    rows = [
        [
            i.pseudonym,
            *([i.name] if names else []),
            i.segment,
            i.score,
            i.recency,
            i.frequency,
            i.breadth,
            i.recency_days,
            i.conversations,
            i.loans,
            ", ".join(i.services),
            i.mean_rating,
        ]
        for i in items
    ]
    stem = "key-readers" if segment == "key" else f"readers-{segment.replace('_', '-')}"
    return payload, Table(stem, columns, rows, personal=names)
