"""Settings of the nightly analysis and retention, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass


def _int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from error
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return float(raw)
    except ValueError as error:
        raise ValueError(f"{name} must be a number, got {raw!r}") from error


@dataclass(frozen=True)
class AnalyticsSettings:
    """Windows and limits of the nightly analysis and of retention.

    Attributes:
        recompute_days: Each night recomputes this many days before today, so that a
            day's containment (which looks 7 days ahead) becomes final.
        return_days: A reader's next conversation within this many days is a return.
        churn_active_days: Churned readers were active within this many days ...
        churn_quiet_days: ... but not within this many days.
        loyalty_window_days: Loyalty looks at conversations started in this window.
        cluster_window_days: Unanswered questions of this many days are clustered.
        cluster_max_questions: At most this many of the newest of them are embedded.
        cluster_distance: Cosine distance under which questions join one cluster.
        cluster_min_size: Smaller groups are not stored as clusters.
        cluster_examples: Representative examples stored per cluster.
        clustering: Whether to cluster at all (needs the sentence encoder).
        retention_days: Transcripts older than this are anonymised.
    """

    recompute_days: int = 8
    return_days: int = 7
    churn_active_days: int = 90
    churn_quiet_days: int = 30
    loyalty_window_days: int = 90
    cluster_window_days: int = 30
    cluster_max_questions: int = 2000
    cluster_distance: float = 0.6
    cluster_min_size: int = 2
    cluster_examples: int = 3
    clustering: bool = True
    retention_days: int = 365

    @classmethod
    def from_env(cls) -> AnalyticsSettings:
        """Read the settings from the environment (docs/analytics.md lists the variables)."""
        settings = cls(
            recompute_days=_int("RIC_ANALYTICS_RECOMPUTE_DAYS", 8, 1),
            churn_active_days=_int("RIC_CHURN_ACTIVE_DAYS", 90, 1),
            churn_quiet_days=_int("RIC_CHURN_QUIET_DAYS", 30, 1),
            loyalty_window_days=_int("RIC_LOYALTY_WINDOW_DAYS", 90, 1),
            cluster_window_days=_int("RIC_CLUSTER_WINDOW_DAYS", 30, 1),
            cluster_max_questions=_int("RIC_CLUSTER_MAX_QUESTIONS", 2000, 2),
            cluster_distance=_float("RIC_CLUSTER_DISTANCE", 0.6),
            cluster_min_size=_int("RIC_CLUSTER_MIN_SIZE", 2, 1),
            clustering=os.environ.get("RIC_CLUSTERING", "on").lower() not in {"off", "0", "no"},
            retention_days=_int("RIC_RETENTION_DAYS", 365, 1),
        )
        if settings.churn_quiet_days >= settings.churn_active_days:
            raise ValueError("RIC_CHURN_QUIET_DAYS must be smaller than RIC_CHURN_ACTIVE_DAYS")
        return settings
