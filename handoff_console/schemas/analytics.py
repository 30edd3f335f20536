"""The shapes of the analytics API: the stored daily figures, their rates and the runs.

The count columns and the rates are listed here once; the analytics views compute
the rates from these pairs and the daily row's model is built from the same lists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from pydantic import Field, create_model

from handoff_console.schemas.base import ApiModel, Day, Timestamp

__all__ = ["COUNT_COLUMNS", "RATES", "DailyReply", "DailyRow", "Number", "Rate", "SummaryReply"]

COUNT_COLUMNS = (
    "conversations", "contained_conversations", "handoff_conversations", "handoffs",
    "abandoned_handoffs", "responded_handoffs", "first_response_seconds_sum",
    "resolved_handoffs", "resolution_seconds_sum", "ratings", "positive_ratings",
    "rating_sum", "surveys_sent", "surveys_answered", "reader_messages",
    "fallback_messages", "comments", "positive_comments", "negative_comments",
    "sentiment_sum",
)  # fmt: skip
"""The summed columns of ``daily_metrics``, in the order of the JSON and the CSV."""


class Rate(NamedTuple):
    """A rate of two count columns; null when the denominator is 0."""

    numerator: str
    denominator: str


RATES = {
    "containment_rate": Rate("contained_conversations", "conversations"),
    "handoff_rate": Rate("handoff_conversations", "conversations"),
    "first_response_mean_seconds": Rate("first_response_seconds_sum", "responded_handoffs"),
    "resolution_mean_seconds": Rate("resolution_seconds_sum", "resolved_handoffs"),
    "csat": Rate("positive_ratings", "ratings"),
    "mean_rating": Rate("rating_sum", "ratings"),
    "response_rate": Rate("surveys_answered", "surveys_sent"),
    "fallback_rate": Rate("fallback_messages", "reader_messages"),
    "abandonment_rate": Rate("abandoned_handoffs", "handoffs"),
    "sentiment_mean": Rate("sentiment_sum", "comments"),
}
"""The rates of the daily rows and the summary, by name."""


class Number(float):
    """An integer or a decimal, answered as it was stored (3 stays 3)."""

    @classmethod
    def __get_validators__(cls) -> Iterator[Callable[[object], int | float]]:
        yield cls.validate

    @classmethod
    def validate(cls, value: object) -> int | float:
        """The number itself; booleans and text are refused."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError("expected a number")
        return value

    @classmethod
    def __modify_schema__(cls, field_schema: dict[str, Any]) -> None:
        field_schema.update(type="number")


_COUNTS: dict[str, Any] = {name: (Number, ...) for name in COUNT_COLUMNS}
_RATES: dict[str, Any] = {name: (Number | None, None) for name in RATES}

DailyRow = create_model(
    "DailyRow",
    __base__=ApiModel,
    day=(Day, ...),
    channel=(str, ...),
    complete=(bool, Field(..., description="the 7-day return window has closed")),
    **_COUNTS,
    first_response_median_seconds=(Number | None, None),
    resolution_median_seconds=(Number | None, None),
    **_RATES,
    computed_at=(Timestamp | None, None),
)
DailyRow.__doc__ = "One day's figures of one channel."


class DailyReply(ApiModel):
    """The daily rows of a range, and the channels that have rows in it."""

    from_: Day = Field(alias="from")
    to: Day
    channel: str
    channels: list[str]
    items: list[DailyRow]  # type: ignore[valid-type]


SummaryReply = create_model("SummaryReply", __base__=ApiModel, **_COUNTS, **_RATES)
SummaryReply.__doc__ = "Totals and rates over a range (more fields: see the endpoint)."
