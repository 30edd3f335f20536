"""The dashboard's filters: a period (preset or custom) and channel, branch, language, intent.

The filters live in the URL (``?preset=30d`` or ``?from=…&to=…``, ``&channel=…``), so a
view can be shared; every overview, chart and drill-down endpoint reads them the same
way (:func:`parse_filters`). Days are the library's local days; the previous period
is the same number of days just before.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from crm_store.models.dashboard import ConversationSession, DashboardDailyRollup
from handoff_console import api
from handoff_console.services.errors import BadRequest

__all__ = [
    "FILTER_KEYS",
    "FILTER_QUERY",
    "MAX_DAYS",
    "PRESETS",
    "Filters",
    "filter_options",
    "parse_filters",
]

PRESETS = {"7d": 7, "30d": 30, "90d": 90, "365d": 365}
"""Preset periods: the last N days up to today (library time)."""
DEFAULT_PRESET = "30d"
MAX_DAYS = 366
FILTER_KEYS = ("channel", "branch", "language", "intent")
"""The filters besides the period; each is one value (or absent for all)."""
_MAX_VALUE = 120

DAY = {"type": "string", "format": "date"}
FILTER_QUERY = (
    api.Query("preset", {"type": "string", "enum": list(PRESETS)}, "the last N days (30d)"),
    api.Query("from", DAY, "first day (inclusive, library time); with `to`, a custom period"),
    api.Query("to", DAY, "last day (inclusive)"),
    api.Query("channel", {"type": "string"}, "only this channel (webchat, telegram, …)"),
    api.Query("branch", {"type": "string"}, "only this branch (from the reader's slots)"),
    api.Query("language", {"type": "string"}, "only this language"),
    api.Query("intent", {"type": "string"}, "only conversations with this topic intent"),
)
"""The query parameters every dashboard endpoint accepts."""


@dataclass(frozen=True)
class Filters:
    """A period and the optional channel, branch, language and intent."""

    first: date
    last: date
    preset: str | None = None
    channel: str | None = None
    branch: str | None = None
    language: str | None = None
    intent: str | None = None

    @property
    def days(self) -> int:
        """How many days the period has."""
        return (self.last - self.first).days + 1

    def previous(self) -> Filters:
        """The same filters over the period of equal length just before."""
        last = self.first - timedelta(days=1)
        return replace(self, first=last - timedelta(days=self.days - 1), last=last, preset=None)

    def day_list(self) -> list[date]:
        """Every day of the period, oldest first."""
        return [self.first + timedelta(days=k) for k in range(self.days)]

    def values(self) -> dict[str, str]:
        """The set filters besides the period."""
        return {key: value for key in FILTER_KEYS if (value := getattr(self, key))}

    def rollup_conditions(self, table: Any = DashboardDailyRollup) -> list[ColumnElement[bool]]:
        """WHERE conditions on a rollup table (the daily one by default), as Core columns."""
        c = table.__table__.c
        found = [c.day >= self.first, c.day <= self.last]
        found += [_equals(c, key, value) for key, value in self.values().items()]
        return found

    def session_conditions(self) -> list[ColumnElement[bool]]:
        """WHERE conditions on ``conversation_sessions`` (conversations only)."""
        c = ConversationSession.__table__.c
        found = [c.day >= self.first, c.day <= self.last, c.intent.is_not(None)]
        found += [_equals(c, key, value) for key, value in self.values().items()]
        return found

    def as_json(self) -> dict[str, Any]:
        """The filters as the API echoes them."""
        return {
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "preset": self.preset,
            **{key: getattr(self, key) for key in FILTER_KEYS},
        }


def _equals(columns: Any, key: str, value: str) -> ColumnElement[bool]:
    """``key = value``; the intent ``faq`` also matches every FAQ topic (``faq/…``)."""
    column = columns[key]
    if key == "intent" and value == "faq":
        return or_(column == "faq", column.like("faq/%"))
    return column == value  # type: ignore[no-any-return]


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise BadRequest("bad_date", f"{name} must be a date like 2026-03-10.") from error


def _value(args: Mapping[str, Any], key: str) -> str | None:
    raw = args.get(key)
    value = raw.strip() if isinstance(raw, str) else None
    if not value or value == "all":
        return None
    if len(value) > _MAX_VALUE or any(ord(c) < 32 for c in value):
        raise BadRequest("bad_filter", f"{key} is not a valid value.")
    return value


def parse_filters(args: Mapping[str, Any], today: date) -> Filters:
    """Read the filters from a request's query (``request.args``, one value per key).

    Raises:
        BadRequest: ``bad_date``, ``bad_range``, ``bad_preset`` or ``bad_filter``.
    """
    first, last = _day(args.get("from"), "from"), _day(args.get("to"), "to")
    preset = args.get("preset") or None
    if first is not None or last is not None:
        if first is None or last is None:
            raise BadRequest("bad_range", "A custom period needs both from and to.")
        preset = None
    else:
        preset = preset or DEFAULT_PRESET
        if preset not in PRESETS:
            raise BadRequest("bad_preset", f"preset must be one of {', '.join(PRESETS)}.")
        last = today
        first = today - timedelta(days=PRESETS[preset] - 1)
    if first > last:
        raise BadRequest("bad_range", "from must not be after to.")
    if (last - first).days + 1 > MAX_DAYS:
        raise BadRequest("bad_range", f"At most {MAX_DAYS} days at a time.")
    values = {key: _value(args, key) for key in FILTER_KEYS}
    return Filters(first, last, preset, **values)


def filter_options(session: Session, filters: Filters) -> dict[str, list[str]]:
    """The channels, branches, languages and intents with data in the period (and before).

    Read from the daily rollups of the period and the previous one, so that a chosen value
    stays in its list when it has no data now.
    """
    earlier = filters.previous()
    c = DashboardDailyRollup.__table__.c
    # One scan for the four keys (their distinct combinations are a few hundred rows).
    combinations = session.execute(
        select(*(c[key] for key in FILTER_KEYS))
        .where(c.day >= earlier.first, c.day <= filters.last)
        .distinct()
    ).all()
    options: dict[str, list[str]] = {}
    for index, key in enumerate(FILTER_KEYS):
        values = {row[index] for row in combinations}
        chosen = getattr(filters, key)
        if chosen:
            values.add(chosen)
        options[key] = sorted(values)
    return options
