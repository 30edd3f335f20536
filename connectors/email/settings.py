"""Settings of the email channel, read once from the environment.

Every value comes from a ``RIC_EMAIL_*`` variable (see ``docs/channels/email.md``);
constructor arguments override the environment. Passwords are never part of the
dataclass's ``repr`` and are never logged.

(Issue 14: moved here from ``connectors/email_settings.py``; it is imported as
``connectors.email.settings``.)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from messaging.text_safety import MAX_MESSAGE_CHARS
from ric_config import EmailConfig

__all__ = ["EmailSettings", "RateLimit", "parse_rate_limit"]

_WINDOWS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"^\s*(\d+)\s*(?:/\s*(?:(\d+)\s*s|(second|minute|hour|day)))?\s*$", re.I)


@dataclass(frozen=True)
class RateLimit:
    """At most ``count`` answered mails per sender within ``window_seconds``."""

    count: int
    window_seconds: int

    def __str__(self) -> str:
        return f"{self.count}/{self.window_seconds}s"


def parse_rate_limit(value: str) -> RateLimit:
    """Parse ``RIC_EMAIL_RATE_LIMIT``: ``20`` (per hour), ``20/hour``, ``5/minute``, ``3/600s``.

    Raises:
        ValueError: the value is not in one of these forms.
    """
    match = _RATE.match(value)
    if match is None:
        raise ValueError(f"RIC_EMAIL_RATE_LIMIT must look like '20/hour', not {value!r}")
    count, seconds, unit = match.groups()
    window = int(seconds) if seconds else _WINDOWS[(unit or "hour").lower()]
    if window <= 0:
        raise ValueError("RIC_EMAIL_RATE_LIMIT needs a window longer than zero seconds")
    return RateLimit(int(count), window)


@dataclass(frozen=True)
class EmailSettings:
    """Where the library's mailbox is and how the channel behaves.

    Attributes:
        imap_host: IMAP server; empty means the inbound side is off.
        imap_port: IMAP port (993 with SSL, 143 without, unless set).
        imap_user: IMAP login, usually the library's address.
        imap_password: IMAP password or app password (never logged).
        imap_mailbox: folder to read, ``INBOX`` by default.
        imap_ssl: connect with implicit TLS (IMAPS).
        smtp_host: SMTP server; empty means the outbound side is off.
        smtp_port: SMTP port (587 with STARTTLS, 25 without, unless set).
        smtp_user: SMTP login; empty means no authentication.
        smtp_password: SMTP password (never logged).
        smtp_starttls: upgrade the SMTP connection with STARTTLS.
        from_address: the library mailbox's address, used as ``From``.
        poll_seconds: how often the mailbox is checked for new mail.
        rate_limit: answered mails allowed per sender and window.
        max_message_chars: longest reader text passed to the assistant.
        max_mail_bytes: largest mail that is downloaded and read at all.
    """

    imap_host: str = ""
    imap_port: int = 993
    imap_user: str = ""
    imap_password: str = field(default="", repr=False)
    imap_mailbox: str = "INBOX"
    imap_ssl: bool = True
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_starttls: bool = True
    from_address: str = ""
    poll_seconds: float = 30.0
    rate_limit: RateLimit = RateLimit(20, 3600)
    max_message_chars: int = MAX_MESSAGE_CHARS
    max_mail_bytes: int = 10 * 1024 * 1024

    @property
    def inbound_configured(self) -> bool:
        """Whether an IMAP mailbox is configured."""
        return bool(self.imap_host and self.imap_user)

    @property
    def outbound_configured(self) -> bool:
        """Whether an SMTP server and a From address are configured."""
        return bool(self.smtp_host and self.from_address)

    @property
    def configured(self) -> bool:
        """Whether both directions are configured, so the channel can run."""
        return self.inbound_configured and self.outbound_configured

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> EmailSettings:
        """Read the ``RIC_EMAIL_*`` variables; keyword arguments override them.

        Raises:
            ValueError: a number, flag or rate limit is malformed.
        """
        config = EmailConfig.load(env)
        imap_port, smtp_port = config.imap_port, config.smtp_port
        values: dict[str, object] = {
            "imap_host": config.imap_host,
            "imap_port": (993 if config.imap_ssl else 143) if imap_port is None else imap_port,
            "imap_user": config.imap_user,
            "imap_password": config.imap_password.get_secret_value(),
            "imap_mailbox": config.imap_mailbox,
            "imap_ssl": config.imap_ssl,
            "smtp_host": config.smtp_host,
            "smtp_port": (587 if config.smtp_starttls else 25) if smtp_port is None else smtp_port,
            "smtp_user": config.smtp_user,
            "smtp_password": config.smtp_password.get_secret_value(),
            "smtp_starttls": config.smtp_starttls,
            "from_address": config.from_address or config.imap_user,
            "poll_seconds": config.poll_seconds,
            "rate_limit": parse_rate_limit(config.rate_limit),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
