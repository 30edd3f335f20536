"""Settings of the nightly analysis and retention, read once from the environment."""

from __future__ import annotations

from dataclasses import dataclass

from ric_config import AnalyticsConfig


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
        """Read the settings from the environment (``ric_config.AnalyticsConfig``).

        Raises:
            ValueError: A variable is malformed, or the churn windows do not fit.
        """
        settings = cls(**AnalyticsConfig().dict())
        if settings.churn_quiet_days >= settings.churn_active_days:
            raise ValueError("RIC_CHURN_QUIET_DAYS must be smaller than RIC_CHURN_ACTIVE_DAYS")
        return settings
