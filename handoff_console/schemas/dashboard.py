"""The shapes of the dashboard's overview, chart and drill-down API (issue 17, part 1)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from handoff_console.schemas.analytics import Number
from handoff_console.schemas.base import ApiModel, Day, Timestamp

__all__ = [
    "ChartReply",
    "DashboardFilters",
    "DrillItem",
    "DrillReply",
    "OverviewFigure",
    "OverviewReply",
    "Period",
]


class DashboardFilters(ApiModel):
    """The filters a reply was computed with (echoed from the URL)."""

    from_: Day = Field(alias="from")
    to: Day
    preset: str | None = Field(None, description="7d, 30d, 90d or 365d; null for a custom period")
    channel: str | None = None
    branch: str | None = None
    language: str | None = None
    intent: str | None = None


class Period(ApiModel):
    """A period of days."""

    from_: Day = Field(alias="from")
    to: Day


class OverviewFigure(ApiModel):
    """One figure for the period, the previous period and its daily sparkline."""

    key: str
    label: str
    unit: str = Field(description="count, rate (0 to 1) or seconds")
    better: str = Field(description="up or down: which way is good news; none")
    value: Number | None = None
    previous: Number | None = None
    change: Number | None = Field(None, description="value minus previous")
    change_ratio: Number | None = Field(None, description="change / previous")
    spark: list[Number | None] = Field(description="one value per day of the period")


class OverviewReply(ApiModel):
    """Every overview figure, with the filter options that have data."""

    filters: DashboardFilters
    previous_period: Period
    days: list[Day]
    figures: list[OverviewFigure]
    options: dict[str, list[str]] = Field(
        description="channel, branch, language, intent: the values with data"
    )


class ChartReply(ApiModel):
    """One chart as a table: the same rows feed the chart, the table view and the exports."""

    chart: str
    title: str
    filters: DashboardFilters
    columns: list[str]
    rows: list[list[Any]]
    drill: list[dict[str, Any] | None] = Field(
        description="per row: the drill-down parameters of the conversations behind it"
    )
    note: str | None = None


class DrillItem(ApiModel):
    """One conversation (channel session) behind a figure, bar or cell."""

    conversation_id: int
    session: int = Field(description="1 for the chat's first session, 2 for the next, …")
    channel: str
    started_at: Timestamp
    ended_at: Timestamp
    intent: str | None = None
    branch: str | None = None
    language: str | None = None
    reader_messages: int
    handoff: bool
    handoff_reason: str | None = None
    rating: int | None = None
    contained: bool
    transcript_url: str


class DrillReply(ApiModel):
    """The newest conversations behind a drill-down, at most 200."""

    filters: DashboardFilters
    drill: dict[str, Any]
    total: int
    truncated: bool
    items: list[DrillItem]
