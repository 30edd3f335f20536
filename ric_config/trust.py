"""Settings of readers' data rights and the email outbox (issue 18 part 2, docs/privacy.md)."""

from __future__ import annotations

from ric_config._base import RicSettings, trimmed

__all__ = ["MailOutboxConfig", "PrivacyConfig"]


class PrivacyConfig(RicSettings):
    """How long each store keeps a reader's data (docs/privacy.md).

    The reader store's own period is `RIC_RETENTION_DAYS`; the worker's nightly
    retention applies them all. Every period is at least one day.

    Attributes:
        tracker_retention_days: Rasa's tracker store: events of conversations with no
            event for this many days are deleted
        identity_retention_days: channel identities (Telegram, Slack, email and widget
            ids) not seen for this many days are deleted; the reader record stays
        email_thread_retention_days: the email thread map and the email outbox's sent
            or expired mails older than this are deleted
        log_retention_days: rotated log files (`var/log/*.log.N`) older than this are
            deleted
    """

    area = "Data rights and retention"

    tracker_retention_days: int = trimmed(90, "RIC_RETENTION_TRACKER_DAYS", ge=1)
    identity_retention_days: int = trimmed(365, "RIC_RETENTION_IDENTITY_DAYS", ge=1)
    email_thread_retention_days: int = trimmed(90, "RIC_RETENTION_EMAIL_THREAD_DAYS", ge=1)
    log_retention_days: int = trimmed(30, "RIC_RETENTION_LOG_DAYS", ge=1)


class MailOutboxConfig(RicSettings):
    """How the email channel retries a mail the SMTP server did not accept.

    Attributes:
        retry_first_seconds: wait before the first retry; each later wait doubles
        retry_max_seconds: the longest wait between two tries
        expire_hours: a mail not delivered within this many hours is given up
            (`expired`) and shown as such in the console
        retry_check_seconds: how often the email channel looks for mails due a retry
    """

    area = "Email outbox"

    retry_first_seconds: float = trimmed(30.0, "RIC_EMAIL_RETRY_FIRST_SECONDS", gt=0)
    retry_max_seconds: float = trimmed(3600.0, "RIC_EMAIL_RETRY_MAX_SECONDS", gt=0)
    expire_hours: float = trimmed(72.0, "RIC_EMAIL_EXPIRE_HOURS", gt=0)
    retry_check_seconds: float = trimmed(5.0, "RIC_EMAIL_RETRY_CHECK_SECONDS", gt=0)
