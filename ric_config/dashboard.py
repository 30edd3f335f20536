"""Settings of the manager dashboard: channel sessions and the rollups the worker keeps."""

from __future__ import annotations

from ric_config._base import RicSettings, tolerant, trimmed

__all__ = ["DashboardConfig"]


class DashboardConfig(RicSettings):
    """How chats are split into conversations, and how fresh the dashboard's rollups are.

    Attributes:
        session_inactivity_minutes: a Telegram, Slack, email or widget chat silent this
            long starts a new conversation (a channel session) with the next message;
            the default matches `session_expiration_time` in `bot/domain/core.yml`
            (at least 1)
        rollup_check_seconds: how often the worker refreshes the dashboard's rollups of
            recent days (at least 1)
        rollup_recompute_days: each refresh recomputes today and this many days before
            it; a day's containment needs the next 24 hours (at least 1)
    """

    area = "Manager dashboard"

    session_inactivity_minutes: int = trimmed(60, "RIC_SESSION_INACTIVITY_MINUTES", ge=1)
    rollup_check_seconds: int = tolerant(300, "RIC_DASHBOARD_ROLLUP_SECONDS", ge=1)
    rollup_recompute_days: int = trimmed(2, "RIC_DASHBOARD_RECOMPUTE_DAYS", ge=1)
