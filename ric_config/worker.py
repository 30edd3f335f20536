"""Settings of the worker: outreach, handoff checks, leader election, nightly analysis."""

from __future__ import annotations

from ric_config._base import (
    RicSettings,
    integer_literal,
    not_off,
    setting,
    switch,
    tolerant,
    trimmed,
    truthy,
)

__all__ = ["AnalyticsConfig", "WorkerConfig"]


class WorkerConfig(RicSettings):
    """When the worker's jobs run and how long they wait.

    A wrong value of a timing is logged and its default used, as the worker always did.

    Attributes:
        survey_delay_minutes: a satisfaction survey goes out this long after a
            conversation is resolved (docs/worker.md)
        survey_lookback_hours: only resolutions this recent get a survey
        survey_bot_resolved: survey conversations the bot resolved (`1/true/yes/on`;
            anything else is off)
        survey_bot_idle_minutes: a conversation counts as resolved by the bot when idle
            this long after its answer
        ticket_reminder_hours: staff are notified of an open ticket with no reply for
            this long: in the console, and by email through the `RIC_EMAIL_SMTP_*`
            settings when set
        queue_wait_limit_seconds: a handoff waiting longer than this for a librarian
            becomes a ticket
        abandon_seconds: a reader silent this long after asking for a librarian has
            abandoned the handoff
        auto_assign: `1`: waiting handoffs are given to online librarians with room
        quiet_hours: no surveys, follow-ups or reminders to readers in this window
            (library time); `off` disables
        worker_lock_key: leader election of the workers: PostgreSQL advisory lock key
            (any base, `0x…`). Default: `0x5249435F574B52`
        worker_lock_file: leader election without PostgreSQL: the lock file.
            Default: `<sqlite db>.worker.lock`
        receipt_keep_days: platform delivery ids (Telegram updates, Slack events, email
            Message-IDs) kept for deduplication; older ones are pruned nightly (at
            least 1)
        survey_check_seconds: how often the worker looks for surveys to send
        ticket_reminder_check_seconds: how often the worker looks for tickets to remind
            staff of
        follow_up_check_seconds: how often the worker looks for follow-ups to send
        reader_care_check_seconds: how often the worker looks for reader-care reminders
            to send
        tail_interval_seconds: how often the worker tails the tracker store (a pass
            with no new row costs one `max(id)` query)
    """

    area = "Worker"

    survey_delay_minutes: int = trimmed(60, "RIC_SURVEY_DELAY_MINUTES", lenient=True)
    survey_lookback_hours: int = trimmed(72, "RIC_SURVEY_LOOKBACK_HOURS", lenient=True)
    survey_bot_resolved: bool = trimmed(True, "RIC_SURVEY_BOT_RESOLVED", parse=truthy)
    survey_bot_idle_minutes: int = trimmed(30, "RIC_SURVEY_BOT_IDLE_MINUTES", lenient=True)
    ticket_reminder_hours: int = trimmed(24, "RIC_TICKET_REMINDER_HOURS", lenient=True)
    queue_wait_limit_seconds: int = tolerant(600, "RIC_QUEUE_WAIT_LIMIT_SECONDS")
    abandon_seconds: int = tolerant(300, "RIC_ABANDON_SECONDS")
    auto_assign: bool = switch("RIC_AUTO_ASSIGN")
    quiet_hours: str = setting("21:00-08:00", "RIC_QUIET_HOURS")
    worker_lock_key: int | None = setting(
        None, "RIC_WORKER_LOCK_KEY", blank="unset", parse=integer_literal, lenient=True
    )
    worker_lock_file: str | None = setting(None, "RIC_WORKER_LOCK_FILE")
    receipt_keep_days: int = tolerant(30, "RIC_RECEIPT_KEEP_DAYS")
    survey_check_seconds: int = tolerant(60, "RIC_SURVEY_CHECK_SECONDS")
    ticket_reminder_check_seconds: int = tolerant(300, "RIC_TICKET_REMINDER_CHECK_SECONDS")
    follow_up_check_seconds: int = tolerant(300, "RIC_FOLLOW_UP_CHECK_SECONDS")
    reader_care_check_seconds: int = tolerant(3600, "RIC_READER_CARE_CHECK_SECONDS")
    tail_interval_seconds: float = setting(0.1, "RIC_TAIL_INTERVAL_SECONDS")


class AnalyticsConfig(RicSettings):
    """Windows and limits of the nightly analysis and of retention (docs/analytics.md).

    Each whole number is at least 1 (the question limit at least 2); a wrong value
    stops the analysis with a message naming the variable.

    Attributes:
        recompute_days: days before today the nightly analysis recomputes
        churn_active_days: churn list: readers active within this many days ...
        churn_quiet_days: ... but not within this many days (smaller than
            `RIC_CHURN_ACTIVE_DAYS`)
        loyalty_window_days: window of the repeat-reader loyalty figures
        cluster_window_days: unanswered questions of this many days are clustered
        cluster_max_questions: at most this many of the newest unanswered questions are
            embedded
        cluster_distance: cosine distance under which questions join one cluster
        cluster_min_size: smaller groups are not stored as clusters
        clustering: `off` (or `0`, `no`) skips clustering, which needs the sentence
            encoder
        retention_days: transcripts older than this are anonymised nightly
    """

    area = "Nightly analysis and retention"

    recompute_days: int = trimmed(8, "RIC_ANALYTICS_RECOMPUTE_DAYS", ge=1)
    churn_active_days: int = trimmed(90, "RIC_CHURN_ACTIVE_DAYS", ge=1)
    churn_quiet_days: int = trimmed(30, "RIC_CHURN_QUIET_DAYS", ge=1)
    loyalty_window_days: int = trimmed(90, "RIC_LOYALTY_WINDOW_DAYS", ge=1)
    cluster_window_days: int = trimmed(30, "RIC_CLUSTER_WINDOW_DAYS", ge=1)
    cluster_max_questions: int = trimmed(2000, "RIC_CLUSTER_MAX_QUESTIONS", ge=2)
    cluster_distance: float = trimmed(0.6, "RIC_CLUSTER_DISTANCE")
    cluster_min_size: int = trimmed(2, "RIC_CLUSTER_MIN_SIZE", ge=1)
    clustering: bool = setting(True, "RIC_CLUSTERING", parse=not_off)
    retention_days: int = trimmed(365, "RIC_RETENTION_DAYS", ge=1)
