"""Satisfaction analysis of the reader store: daily figures, churn, loyalty, clusters.

Modules: ``metrics`` (daily figures per channel), ``staffed_time`` (first-response
time in staffed hours), ``sentiment`` (feedback comments), ``churn`` (churn list and
loyalty), ``clusters`` (unanswered questions), ``retention`` (anonymisation), and
``run`` (the nightly orchestration). docs/analytics.md defines every figure.
"""

from __future__ import annotations

from worker.analytics.run import analyse_days, run_analysis, run_retention
from worker.analytics.settings import AnalyticsSettings

__all__ = ["AnalyticsSettings", "analyse_days", "run_analysis", "run_retention"]
