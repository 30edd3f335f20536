"""Settings of the worker: outreach, handoff checks, leader election, nightly analysis."""

from __future__ import annotations

from ric_config._base import (
    RicSettings,
    exactly_one,
    integer_literal,
    not_off,
    setting,
    truthy,
)

__all__ = ["AnalyticsConfig", "WorkerConfig"]


def _count(default: int, env: str, description: str) -> int:
    """A whole number where a wrong value is logged and the default used (the worker's way)."""
    result: int = setting(default, env, description, blank="unset", strip=True, lenient=True)
    return result


def _check(default: int, env: str, description: str) -> int:
    """A job interval in seconds; a wrong value is logged and the default used."""
    result: int = setting(default, env, description, lenient=True)
    return result


class WorkerConfig(RicSettings):
    """When the worker's jobs run and how long they wait."""

    area = "Worker"

    survey_delay_minutes: int = _count(
        60,
        "RIC_SURVEY_DELAY_MINUTES",
        "a satisfaction survey goes out this long after a conversation is resolved "
        "(docs/worker.md)",
    )
    survey_lookback_hours: int = _count(
        72, "RIC_SURVEY_LOOKBACK_HOURS", "only resolutions this recent get a survey"
    )
    survey_bot_resolved: bool = setting(
        True,
        "RIC_SURVEY_BOT_RESOLVED",
        "survey conversations the bot resolved (`1/true/yes/on`; anything else is off)",
        blank="unset",
        strip=True,
        parse=truthy,
    )
    survey_bot_idle_minutes: int = _count(
        30,
        "RIC_SURVEY_BOT_IDLE_MINUTES",
        "a conversation counts as resolved by the bot when idle this long after its answer",
    )
    ticket_reminder_hours: int = _count(
        24,
        "RIC_TICKET_REMINDER_HOURS",
        "staff are notified of an open ticket with no reply for this long: in the console, "
        "and by email through the `RIC_EMAIL_SMTP_*` settings when set",
    )
    queue_wait_limit_seconds: int = _check(
        600,
        "RIC_QUEUE_WAIT_LIMIT_SECONDS",
        "a handoff waiting longer than this for a librarian becomes a ticket",
    )
    abandon_seconds: int = _check(
        300,
        "RIC_ABANDON_SECONDS",
        "a reader silent this long after asking for a librarian has abandoned the handoff",
    )
    auto_assign: bool = setting(
        False,
        "RIC_AUTO_ASSIGN",
        "`1`: waiting handoffs are given to online librarians with room",
        parse=exactly_one,
    )
    quiet_hours: str = setting(
        "21:00-08:00",
        "RIC_QUIET_HOURS",
        "no surveys, follow-ups or reminders to readers in this window (library time); "
        "`off` disables",
    )
    worker_lock_key: int | None = setting(
        None,
        "RIC_WORKER_LOCK_KEY",
        "leader election of the workers: PostgreSQL advisory lock key (any base, `0x…`)",
        blank="unset",
        parse=integer_literal,
        lenient=True,
        shown_default="`0x5249435F574B52`",
    )
    worker_lock_file: str | None = setting(
        None,
        "RIC_WORKER_LOCK_FILE",
        "leader election without PostgreSQL: the lock file",
        shown_default="`<sqlite db>.worker.lock`",
    )
    receipt_keep_days: int = _check(
        30,
        "RIC_RECEIPT_KEEP_DAYS",
        "platform delivery ids (Telegram updates, Slack events, email Message-IDs) kept for "
        "deduplication; older ones are pruned nightly (at least 1)",
    )
    survey_check_seconds: int = _check(
        60, "RIC_SURVEY_CHECK_SECONDS", "how often the worker looks for surveys to send"
    )
    ticket_reminder_check_seconds: int = _check(
        300,
        "RIC_TICKET_REMINDER_CHECK_SECONDS",
        "how often the worker looks for tickets to remind staff of",
    )
    follow_up_check_seconds: int = _check(
        300, "RIC_FOLLOW_UP_CHECK_SECONDS", "how often the worker looks for follow-ups to send"
    )
    reader_care_check_seconds: int = _check(
        3600,
        "RIC_READER_CARE_CHECK_SECONDS",
        "how often the worker looks for reader-care reminders to send",
    )
    tail_interval_seconds: float = setting(
        0.1,
        "RIC_TAIL_INTERVAL_SECONDS",
        "how often the worker tails the tracker store (a pass with no new row costs one "
        "`max(id)` query)",
    )


def _days(default: int, env: str, description: str, minimum: int = 1) -> int:
    """A number of days (or items), at least ``minimum``; a wrong value fails."""
    result: int = setting(default, env, description, blank="unset", strip=True, ge=minimum)
    return result


class AnalyticsConfig(RicSettings):
    """Windows and limits of the nightly analysis and of retention (docs/analytics.md)."""

    area = "Nightly analysis and retention"

    recompute_days: int = _days(
        8,
        "RIC_ANALYTICS_RECOMPUTE_DAYS",
        "days before today the nightly analysis recomputes (docs/analytics.md)",
    )
    churn_active_days: int = _days(
        90, "RIC_CHURN_ACTIVE_DAYS", "churn list: readers active within this many days ..."
    )
    churn_quiet_days: int = _days(
        30,
        "RIC_CHURN_QUIET_DAYS",
        "... but not within this many days (smaller than `RIC_CHURN_ACTIVE_DAYS`)",
    )
    loyalty_window_days: int = _days(
        90, "RIC_LOYALTY_WINDOW_DAYS", "window of the repeat-reader loyalty figures"
    )
    cluster_window_days: int = _days(
        30, "RIC_CLUSTER_WINDOW_DAYS", "unanswered questions of this many days are clustered"
    )
    cluster_max_questions: int = _days(
        2000,
        "RIC_CLUSTER_MAX_QUESTIONS",
        "at most this many of the newest unanswered questions are embedded",
        minimum=2,
    )
    cluster_distance: float = setting(
        0.6,
        "RIC_CLUSTER_DISTANCE",
        "cosine distance under which questions join one cluster",
        blank="unset",
        strip=True,
    )
    cluster_min_size: int = _days(2, "RIC_CLUSTER_MIN_SIZE", "smaller groups are not stored")
    clustering: bool = setting(
        True,
        "RIC_CLUSTERING",
        "`off` (or `0`, `no`) skips clustering, which needs the sentence encoder",
        parse=not_off,
    )
    retention_days: int = _days(
        365,
        "RIC_RETENTION_DAYS",
        "transcripts older than this are anonymised nightly (docs/analytics.md)",
    )
