"""Settings of the dashboard's reader intelligence: the key-reader (RFM) rules."""

from __future__ import annotations

from ric_config._base import RicSettings, trimmed

__all__ = ["ReaderValueConfig"]


class ReaderValueConfig(RicSettings):
    """Thresholds of the key-reader segmentation (docs/analytics.md, "Key readers").

    Each reader gets 1 to 3 points on recency, frequency (conversations plus loan and
    hold transactions) and breadth (distinct services used) over the window; every
    number is at least 1.

    Attributes:
        value_window_days: the segmentation looks at this many days before today
        value_recent_days: recency 3 points: last contact at most this many days ago
        value_lapsed_days: recency 1 point: last contact more than this many days ago
            (2 points in between)
        value_frequent: frequency 3 points: at least this many conversations and loan
            transactions in the window
        value_occasional: frequency 2 points: at least this many (1 point below)
        value_broad: breadth 3 points: at least this many distinct services used
        value_some: breadth 2 points: at least this many services (1 point below)
        value_key_score: a key reader has at least this many points of 9, with 3 on
            frequency
    """

    area = "Dashboard reader intelligence"

    value_window_days: int = trimmed(365, "RIC_VALUE_WINDOW_DAYS", ge=1)
    value_recent_days: int = trimmed(30, "RIC_VALUE_RECENT_DAYS", ge=1)
    value_lapsed_days: int = trimmed(90, "RIC_VALUE_LAPSED_DAYS", ge=1)
    value_frequent: int = trimmed(6, "RIC_VALUE_FREQUENT", ge=1)
    value_occasional: int = trimmed(2, "RIC_VALUE_OCCASIONAL", ge=1)
    value_broad: int = trimmed(3, "RIC_VALUE_BROAD", ge=1)
    value_some: int = trimmed(2, "RIC_VALUE_SOME", ge=1)
    value_key_score: int = trimmed(8, "RIC_VALUE_KEY_SCORE", ge=3)
