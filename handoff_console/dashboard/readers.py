"""Reader intelligence for the dashboard: each view's JSON and its exportable table.

Every function takes an open session and returns ``(payload, table)``: the JSON the
API answers with and the :class:`~handoff_console.dashboard.exports.Table` its
``?format=csv|xlsx`` export holds. The figures are read from the reader intelligence
rollup (:mod:`crm_store.reader_snapshot`: ``reader_snapshots`` and ``reader_values``,
refreshed nightly by the worker), never computed from the conversations per request;
every reply says ``as_of``, the time of that refresh. docs/analytics.md, "Reader
intelligence", defines the figures.

Readers are shown by pseudonym. With ``names`` (a manager's explicit
``?names=true``) the readers' names are added to the reply and to the export, and the
request is written to the audit log (``dashboard.reveal_names``: who, which list, how
many readers, in which format) before anything is answered.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store import clock
from crm_store.audit import audit
from crm_store.models import Reader
from crm_store.reader_snapshot import (
    VALUE_FIELDS,
    current,
    risk_rows,
    slice_acquisition,
    value_fields,
    value_rows,
)
from crm_store.reader_value import SEGMENTS, pseudonym, pseudonym_key
from handoff_console.dashboard.exports import Cell, Table
from handoff_console.schemas.dashboard_readers import (
    AcquisitionReply,
    ChurnReply,
    CohortReply,
    IntentsReply,
    KeyReadersReply,
    LoyaltyReply,
)
from handoff_console.services.errors import BadRequest

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "MAX_MONTHS",
    "View",
    "acquisition_view",
    "churn_view",
    "cohorts_view",
    "intents_view",
    "key_readers_view",
    "loyalty_view",
    "parse_limit",
    "parse_months",
    "parse_segment",
]

MAX_MONTHS = 36
DEFAULT_LIMIT, MAX_LIMIT = 100, 5000
View = tuple[dict[str, Any], Table]
"""A view's JSON reply and its export table."""


def _whole(value: str | None, name: str, default: int, high: int) -> int:
    if value in (None, ""):
        return default
    if not value.isdigit() or not 1 <= int(value) <= high:
        raise BadRequest(f"bad_{name}", f"{name} must be a whole number from 1 to {high}.")
    return int(value)


def parse_months(value: str | None) -> int:
    """``?months=``: 1 to 36, 12 by default; else a 400 ``bad_months``."""
    return _whole(value, "months", 12, MAX_MONTHS)


def parse_limit(value: str | None) -> int:
    """``?limit=``: 1 to 5000, 100 by default; else a 400 ``bad_limit``."""
    return _whole(value, "limit", DEFAULT_LIMIT, MAX_LIMIT)


def parse_segment(value: str | None) -> str:
    """``?segment=``: a value segment or ``all``; ``key`` by default."""
    segment = value or "key"
    if segment not in (*SEGMENTS, "all"):
        raise BadRequest("bad_segment", f"segment must be one of {', '.join(SEGMENTS)} or all.")
    return segment


def _names(session: Session, ids: list[int]) -> dict[int, str | None]:
    found: dict[int, str | None] = {}
    for start in range(0, len(ids), 500):  # bounded IN lists
        chunk = ids[start : start + 500]
        rows = session.execute(select(Reader.id, Reader.display_name).where(Reader.id.in_(chunk)))
        found.update({int(reader_id): name for reader_id, name in rows})
    return found


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


def _shown_as(
    session: Session, ids: list[int], names: bool, staff_id: int, listing: str, output: str
) -> Callable[[int], dict[str, Any]]:
    """How each reader of a listing is shown: ``pseudonym``, ``name`` and ``profile``.

    ``name`` is None unless ``names``; then the request is audited first (:func:`_reveal`).
    """
    named = _reveal(session, staff_id, listing, ids, output) if names else {}
    key = pseudonym_key(session)

    def shown(reader_id: int) -> dict[str, Any]:
        return {
            "pseudonym": pseudonym(key, reader_id),
            "name": named.get(reader_id),
            "profile": f"/readers/{reader_id}",
        }

    return shown


def _who(item: dict[str, Any], names: bool) -> list[Cell]:
    """A listed reader's first cells in an export: the pseudonym, and the name if shown."""
    return [item["pseudonym"], *([item["name"]] if names else [])]


def acquisition_view(session: Session, months: int, now: datetime | None = None) -> View:
    """New readers by month and channel, and who came back."""
    document = current(session, "acquisition", now or clock.now())
    found = slice_acquisition(document, months)
    channels = found["channels"]
    items = []
    for month in found["months"]:
        by_channel = {c: found["new_readers"][month].get(c, 0) for c in channels}
        total, back = sum(by_channel.values()), found["returned"][month]
        share = round(back / total, 4) if total else None
        items.append(
            {
                "month": month,
                "new_readers": total,
                "by_channel": by_channel,
                "returned": back,
                "returning_share": share,
            }
        )
    new = sum(i["new_readers"] for i in items)
    payload = AcquisitionReply.view(
        as_of=document["as_of"],
        months=months,
        channels=channels,
        returning_share=round(sum(i["returned"] for i in items) / new, 4) if new else None,
        items=items,
    )
    columns = ["Month", *channels, "New readers", "Came back", "Share who came back"]
    tail = ("new_readers", "returned", "returning_share")
    rows: list[list[Cell]] = [
        [i["month"], *i["by_channel"].values(), *(i[k] for k in tail)] for i in items
    ]
    return payload, Table("new-readers", columns, rows)


def intents_view(session: Session, months: int, now: datetime | None = None) -> View:
    """First-contact intents of the period's new readers."""
    document = current(session, "acquisition", now or clock.now())
    ranked = slice_acquisition(document, months)["first_intents"]
    items = [{"intent": intent, "readers": count} for intent, count in ranked]
    payload = IntentsReply.view(as_of=document["as_of"], months=months, items=items)
    rows: list[list[Cell]] = [[intent, count] for intent, count in ranked]
    return payload, Table("first-contact-intents", ["Intent", "New readers"], rows)


def cohorts_view(session: Session, months: int, now: datetime | None = None) -> View:
    """The cohort retention table by month of first contact."""
    document = current(session, "cohorts", now or clock.now())
    items = document["items"][-months:]
    payload = CohortReply.view(as_of=document["as_of"], months=months, items=items)
    width = max((len(i["retention"]) for i in items), default=0)
    columns = ["Cohort", "Readers", *(f"Month +{k}" for k in range(width))]
    rows: list[list[Cell]] = [
        [i["month"], i["readers"], *i["retention"], *([None] * (width - len(i["retention"])))]
        for i in items
    ]
    return payload, Table("cohort-retention", columns, rows)


def churn_view(
    session: Session,
    names: bool,
    staff_id: int,
    output: str,
    now: datetime | None = None,
    limit: int | None = DEFAULT_LIMIT,
) -> View:
    """Readers at risk (the latest churn list), scored, with the factors behind each score.

    ``limit`` caps the JSON list, highest scores first (``total`` says how many there
    are); exports pass None and hold the whole list.
    """
    document = current(session, "churn", now or clock.now())
    scored = risk_rows(session, limit)
    ids = [int(r.reader_id) for r in scored]
    shown = _shown_as(session, ids, names, staff_id, "readers/churn", output)
    items = [
        {
            **shown(r.reader_id),
            "last_active_at": r.last_active_at,
            "conversations": r.conversations,
            "score": r.score,
            "factors": r.factors,
        }
        for r in scored
    ]
    payload = ChurnReply.view(
        as_of=document["as_of"],
        run_day=document["run_day"],
        names=names,
        total=document["total"],
        items=items,
    )
    columns = ["Reader", *(["Name"] if names else []), "Risk score", "Last active"]
    columns += ["Conversations", "Factors"]
    rows: list[list[Cell]] = [
        [
            *_who(i, names),
            i["score"],
            i["last_active_at"],
            i["conversations"],
            "; ".join(f"{f['detail']} (+{f['points']})" for f in i["factors"]),
        ]
        for i in items
    ]
    return payload, Table("readers-at-risk", columns, rows, personal=names)


def loyalty_view(session: Session, now: datetime | None = None) -> View:
    """Loyalty segments, CSAT by segment, and each rated reader's point."""
    document = current(session, "loyalty", now or clock.now())
    items = document["items"]
    payload = LoyaltyReply.view(
        as_of=document["as_of"],
        window_days=document["window_days"],
        items=items,
        points=document["points"],
    )
    columns = ["Segment", "Readers", "Ratings", "CSAT", "Mean rating"]
    rows: list[list[Cell]] = [
        [i["segment"], i["readers"], i["ratings"], i["csat"], i["mean_rating"]] for i in items
    ]
    return payload, Table("loyalty-segments", columns, rows)


def key_readers_view(
    session: Session,
    segment: str,
    names: bool,
    staff_id: int,
    output: str,
    now: datetime | None = None,
    limit: int | None = DEFAULT_LIMIT,
) -> View:
    """The value segmentation: counts, rules, and the readers of one segment (best first).

    ``limit`` caps the JSON list (``total`` says how many there are); exports pass None
    and hold every reader of the segment.
    """
    document = current(session, "segments", now or clock.now())
    total, listed = value_rows(session, segment, limit)
    ids = [int(v.reader_id) for v in listed]
    shown = _shown_as(session, ids, names, staff_id, f"readers/key/{segment}", output)
    items = [{**shown(v.reader_id), **value_fields(v)} for v in listed]
    payload = KeyReadersReply.view(
        as_of=document["as_of"],
        segment=segment,
        names=names,
        rules=document["rules"],
        segments=document["counts"],
        total=total,
        items=items,
    )
    columns = ["Reader", *(["Name"] if names else []), "Segment", "Score", "Recency"]
    columns += ["Frequency", "Breadth", "Days since contact", "Conversations", "Loans"]
    columns += ["Services", "Mean rating"]
    rows: list[list[Cell]] = [
        [
            *_who(i, names),
            *(i[f] for f in VALUE_FIELDS),
            ", ".join(i["services"]),
            i["mean_rating"],
        ]
        for i in items
    ]
    stem = "key-readers" if segment == "key" else f"readers-{segment.replace('_', '-')}"
    return payload, Table(stem, columns, rows, personal=names)
