"""The drill-down: the conversations (channel sessions) behind a bar, a cell or a figure.

A chart row's ``drill`` (``day``, ``weekday`` + ``hour``, ``channel``, ``intent``,
``reason``, ``librarian``) and an overview figure (``figure=handoff`` …) narrow the
period's sessions on top of the page's filters. Each item links to the conversation's
transcript in the librarian view (``/conversations/<id>``); the list carries no reader
text and no reader names.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from crm_store.models.dashboard import ConversationSession
from handoff_console import api
from handoff_console.dashboard.filters import Filters
from handoff_console.services.common import iso
from handoff_console.services.errors import BadRequest

__all__ = ["DRILL_FIGURES", "DRILL_LIMIT", "DRILL_QUERY", "drill", "parse_drill"]

DRILL_LIMIT = 200
DRILL_FIGURES = ("handoff", "contained", "not_contained", "rated", "fallback")
"""``figure=`` values: the sessions that make up one overview figure."""
DRILL_QUERY = (
    api.Query("day", {"type": "string", "format": "date"}, "only sessions that started that day"),
    api.Query("weekday", {"type": "integer", "minimum": 0, "maximum": 6}, "0 = Monday"),
    api.Query("hour", {"type": "integer", "minimum": 0, "maximum": 23}, "local hour"),
    api.Query("reason", {"type": "string"}, "the handoff reason"),
    api.Query("librarian", {"type": "integer", "minimum": 1}, "the librarian's staff id"),
    api.Query("figure", {"type": "string", "enum": list(DRILL_FIGURES)}, "an overview figure"),
)


def _integer(args: Mapping[str, Any], name: str, low: int, high: int) -> int | None:
    raw = args.get(name)
    if raw in (None, ""):
        return None
    try:
        value = int(str(raw))
    except ValueError as error:
        raise BadRequest("bad_drill", f"{name} must be a whole number.") from error
    if not low <= value <= high:
        raise BadRequest("bad_drill", f"{name} must be between {low} and {high}.")
    return value


def parse_drill(args: Mapping[str, Any], filters: Filters) -> dict[str, Any]:
    """The drill-down's own parameters, checked against the period.

    Raises:
        BadRequest: ``bad_drill`` for a value out of range or a day outside the period.
    """
    found: dict[str, Any] = {}
    day = args.get("day")
    if day:
        try:
            found["day"] = date.fromisoformat(str(day))
        except ValueError as error:
            raise BadRequest("bad_drill", "day must be a date like 2026-03-10.") from error
        if not filters.first <= found["day"] <= filters.last:
            raise BadRequest("bad_drill", "day must be inside the period.")
    for name, low, high in (("weekday", 0, 6), ("hour", 0, 23), ("librarian", 1, 2**63 - 1)):
        value = _integer(args, name, low, high)
        if value is not None:
            found[name] = value
    reason = args.get("reason")
    if reason:
        found["reason"] = str(reason)[:200]
    figure = args.get("figure")
    if figure:
        if figure not in DRILL_FIGURES:
            raise BadRequest("bad_drill", f"figure must be one of {', '.join(DRILL_FIGURES)}.")
        found["figure"] = figure
    return found


def _conditions(filters: Filters, params: dict[str, Any]) -> list[ColumnElement[bool]]:
    s = ConversationSession.__table__.c
    found = filters.session_conditions()
    if "day" in params:
        found.append(s.day == params["day"])
    if "weekday" in params:
        days = [d for d in filters.day_list() if d.weekday() == params["weekday"]]
        found.append(s.day.in_(days))
    if "hour" in params:
        found.append(s.hour == params["hour"])
    if "reason" in params:
        found.append(s.handoff_reason == params["reason"])
    if "librarian" in params:
        found.append(s.librarian_id == params["librarian"])
    figure = params.get("figure")
    if figure == "handoff":
        found.append(s.handoff.is_(True))
    elif figure == "contained":
        found.append(s.contained.is_(True))
    elif figure == "not_contained":
        found.append(s.contained.is_(False))
    elif figure == "rated":
        found.append(s.rating.is_not(None))
    elif figure == "fallback":
        found.append(s.fallback_messages > 0)
    return found


def drill(session: Session, filters: Filters, params: dict[str, Any]) -> dict[str, Any]:
    """The newest :data:`DRILL_LIMIT` sessions matching the filters and the drill-down."""
    s = ConversationSession
    conditions = _conditions(filters, params)
    total = int(session.execute(select(func.count()).where(*conditions)).scalar_one())
    # The newest ids first (sorted inside a covering index when there is one, without
    # loading thousands of whole rows), then only those rows.
    c = ConversationSession.__table__.c
    newest = list(
        session.execute(
            select(c.id)
            .where(*conditions)
            .order_by(c.started_at.desc(), c.id.desc())
            .limit(DRILL_LIMIT)
        ).scalars()
    )
    loaded = {row.id: row for row in session.execute(select(s).where(s.id.in_(newest))).scalars()}
    rows = [loaded[key] for key in newest]
    items = [
        {
            "conversation_id": row.conversation_id,
            "session": row.seq + 1,
            "channel": row.channel,
            "started_at": iso(row.started_at),
            "ended_at": iso(row.ended_at),
            "intent": row.intent,
            "branch": row.branch,
            "language": row.language,
            "reader_messages": row.reader_messages or 0,
            "handoff": bool(row.handoff),
            "handoff_reason": row.handoff_reason,
            "rating": row.rating,
            "contained": bool(row.contained),
            "transcript_url": f"/conversations/{row.conversation_id}",
        }
        for row in rows
    ]
    echo = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in params.items()}
    return {
        "filters": filters.as_json(),
        "drill": echo,
        "total": total,
        "truncated": total > len(items),
        "items": items,
    }
