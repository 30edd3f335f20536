"""The shapes of the dashboard's reader intelligence, report and report subscriptions API.

Readers appear by pseudonym (``R-`` and 12 hex digits); ``name`` is filled only when the
manager asked for names (``?names=true``, audited), and null otherwise.
"""

from __future__ import annotations

from pydantic import Field

from handoff_console.schemas.base import ApiModel, Day, Timestamp

__all__ = [
    "AcquisitionReply",
    "AcquisitionRow",
    "ChurnReply",
    "ChurnRow",
    "CohortReply",
    "CohortRow",
    "Factor",
    "IntentCount",
    "IntentsReply",
    "KeyReader",
    "KeyReadersReply",
    "LoyaltyPoint",
    "LoyaltyReply",
    "LoyaltySegment",
    "ReportFigure",
    "ReportReply",
    "SubscriptionBody",
    "SubscriptionReply",
]


class AcquisitionRow(ApiModel):
    """New readers of one month."""

    month: str = Field(..., description="YYYY-MM")
    new_readers: int
    by_channel: dict[str, int] = Field(..., description="new readers by first channel")
    returned: int = Field(..., description="of them, readers who started another conversation")
    returning_share: float | None


class AcquisitionReply(ApiModel):
    """New readers by month and channel."""

    as_of: Timestamp = Field(..., description="when the reader figures were computed")
    months: int
    channels: list[str]
    returning_share: float | None = Field(..., description="over every month of the reply")
    items: list[AcquisitionRow]


class IntentCount(ApiModel):
    """How many new readers came first with one intent."""

    intent: str
    readers: int


class IntentsReply(ApiModel):
    """First-contact intents of the period's new readers, most frequent first."""

    as_of: Timestamp = Field(..., description="when the reader figures were computed")
    months: int
    items: list[IntentCount]


class CohortRow(ApiModel):
    """One cohort: the month of first contact, its size, the share active later."""

    month: str
    readers: int
    retention: list[float | None] = Field(..., description="share active in month +0, +1, …")


class CohortReply(ApiModel):
    """The cohort retention table."""

    as_of: Timestamp = Field(..., description="when the reader figures were computed")
    months: int
    items: list[CohortRow]


class Factor(ApiModel):
    """One reason behind a churn-risk score."""

    factor: str
    points: int
    detail: str


class ChurnRow(ApiModel):
    """A reader at risk of drifting away."""

    pseudonym: str
    name: str | None
    profile: str = Field(..., description="the reader's profile page (librarians and up)")
    last_active_at: Timestamp
    conversations: int
    score: int = Field(..., description="0 to 100")
    factors: list[Factor]


class ChurnReply(ApiModel):
    """The latest nightly churn list, scored."""

    as_of: Timestamp = Field(..., description="when the reader figures were computed")
    run_day: Day | None
    names: bool
    total: int = Field(..., description="readers on the list; `items` holds up to `limit`")
    items: list[ChurnRow]


class LoyaltySegment(ApiModel):
    """One loyalty segment and its satisfaction."""

    segment: str
    readers: int
    ratings: int
    csat: float | None
    mean_rating: float | None


class LoyaltyPoint(ApiModel):
    """Rated readers with this many conversations in the window and this mean rating
    (rounded to the half star): one bubble of the satisfaction-vs-loyalty plot."""

    conversations: int
    mean_rating: float
    segment: str
    readers: int


class LoyaltyReply(ApiModel):
    """Loyalty segments, CSAT by segment, and the satisfaction-vs-loyalty points."""

    as_of: Timestamp = Field(..., description="when the reader figures were computed")
    window_days: int
    items: list[LoyaltySegment]
    points: list[LoyaltyPoint]


class KeyReader(ApiModel):
    """One reader's value figures and segment."""

    pseudonym: str
    name: str | None
    profile: str
    segment: str
    score: int
    recency: int
    frequency: int
    breadth: int
    recency_days: int
    conversations: int
    loans: int
    services: list[str]
    mean_rating: float | None


class KeyReadersReply(ApiModel):
    """The value segmentation: counts per segment, the rules, and the listed readers."""

    as_of: Timestamp = Field(..., description="when the reader figures were computed")
    segment: str = Field(..., description="the listed segment, or `all`")
    names: bool
    rules: dict[str, int]
    segments: dict[str, int]
    total: int = Field(..., description="readers in the segment; `items` holds up to `limit`")
    items: list[KeyReader]


class ReportFigure(ApiModel):
    """One key figure of the weekly report, with last week's value."""

    key: str
    label: str
    value: float | None
    previous: float | None
    unit: str


class ReportReply(ApiModel):
    """The weekly report's figures."""

    week_start: Day
    week_end: Day
    figures: list[ReportFigure]
    segments: dict[str, int]


class SubscriptionReply(ApiModel):
    """Whether the caller gets the weekly report by email, and where it goes."""

    subscribed: bool
    email: str | None


class SubscriptionBody(ApiModel):
    """Subscribe to (true) or leave (false) the weekly report."""

    subscribed: bool
