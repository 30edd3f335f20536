"""Settings of the channels: the web widget, Telegram, Slack and email."""

from __future__ import annotations

from pydantic import SecretStr

from ric_config._base import RicSettings, secret, trimmed, yes_no

__all__ = ["EmailConfig", "SlackConfig", "TelegramConfig", "WebchatConfig"]


class WebchatConfig(RicSettings):
    """The widget channel; unset values fall back to ``credentials.yml``.

    Attributes:
        allowed_origins: comma-separated page origins allowed to open widget sockets.
            Default: `*`
        queue_size: widget messages of one conversation that may wait for the bot at
            once (all tabs together, each tab at most its share); the next gets a `busy`
            error frame and the widget keeps its text in the input box
            (docs/architecture.md, *Reader input rules*). Default: `8`
        send_timeout_seconds: a widget tab that does not accept a frame within this time
            is closed (it reconnects and replays what it missed), so it cannot hold up
            the conversation's other tabs. Default: `10`
        handoff_poll_seconds: how often the widget channel reads the reader store for its
            open conversations' handoffs (queue position, a librarian joining or
            leaving) and whether librarians are available; per round, one indexed query
            per open conversation (one more for a librarian's name, two more while it
            waits) and one for availability. Default: `3`
        max_sockets_per_address: widget sockets one client address may hold open at
            once (all its tabs and conversations; behind a proxy set
            `RIC_TRUSTED_PROXIES`); one more is closed with code 4429 and the widget
            says so, while the open ones keep working. Room for a library's public
            computers behind one address; counted per Rasa process. Default: `50`
        max_sockets_per_session: widget sockets one conversation may hold open at once
            (its tabs); one more is closed with code 4429. Counted per Rasa process.
            Default: `10`
    """

    area = "Web widget"

    allowed_origins: str | None = trimmed(None, "RIC_WEBCHAT_ALLOWED_ORIGINS")
    queue_size: int | None = trimmed(None, "RIC_WEBCHAT_QUEUE_SIZE")
    send_timeout_seconds: float | None = trimmed(None, "RIC_WEBCHAT_SEND_TIMEOUT_SECONDS")
    handoff_poll_seconds: float = trimmed(3.0, "RIC_WEBCHAT_HANDOFF_POLL_SECONDS", gt=0)
    max_sockets_per_address: int = trimmed(50, "RIC_WEBCHAT_MAX_SOCKETS_PER_ADDRESS", ge=1)
    max_sockets_per_session: int = trimmed(10, "RIC_WEBCHAT_MAX_SOCKETS_PER_SESSION", ge=1)


class TelegramConfig(RicSettings):
    """The Telegram channel (docs/channels/telegram.md).

    Attributes:
        bot_token: Telegram bot token (BotFather); without it and the secret token the
            webhook answers 503
        secret_token: the webhook's secret token, checked on every update
        api_base_url: another Bot API server (a test stand-in).
            Default: `https://api.telegram.org`
        webhook_url: public webhook URL for `python -m connectors.telegram set-webhook`
    """

    area = "Telegram"

    bot_token: SecretStr = secret("TELEGRAM_BOT_TOKEN")
    secret_token: SecretStr = secret("TELEGRAM_SECRET_TOKEN")
    api_base_url: str = trimmed("", "TELEGRAM_API_BASE_URL")
    webhook_url: str = trimmed("", "TELEGRAM_WEBHOOK_URL")


class SlackConfig(RicSettings):
    """The Slack channel (docs/channels/slack.md).

    Attributes:
        bot_token: Slack bot token (`xoxb-…`); without it and the signing secret the
            endpoint answers 503
        signing_secret: Slack's signing secret, checked on every request
        api_base_url: another Slack Web API (the tests' stand-in).
            Default: `https://slack.com/api/`
    """

    area = "Slack"

    bot_token: SecretStr = secret("SLACK_BOT_TOKEN")
    signing_secret: SecretStr = secret("SLACK_SIGNING_SECRET")
    api_base_url: str = trimmed("", "SLACK_API_BASE_URL")


class EmailConfig(RicSettings):
    """The email channel and the worker's staff email (docs/channels/email.md).

    Attributes:
        imap_host: the library mailbox's IMAP server; unset leaves the email channel
            idle
        imap_port: the IMAP port. Default: 993 (143 without SSL)
        imap_user: IMAP login, usually the library's address
        imap_password: IMAP (app) password; never logged
        imap_mailbox: folder the channel reads
        imap_ssl: implicit TLS (IMAPS); `1/true/yes/on` or `0/false/no/off`
        smtp_host: SMTP server for the channel's answers
        smtp_port: the SMTP port. Default: 587 (25 without STARTTLS; 465 = implicit TLS)
        smtp_user: SMTP login; none when unset
        smtp_password: SMTP password; never logged
        smtp_starttls: upgrade the SMTP connection with STARTTLS; `1/true/yes/on` or
            `0/false/no/off`
        from_address: `From` of the library's mail, e.g.
            `Riverbend Library <ask@library.example.org>`. Default: `RIC_EMAIL_IMAP_USER`
        poll_seconds: how often the mailbox is checked for unseen mail
        rate_limit: answered mails per sender and window (`20`, `5/minute`, `100/day`,
            `3/600s`); excess mail is logged, not answered
    """

    area = "Email"

    imap_host: str = trimmed("", "RIC_EMAIL_IMAP_HOST")
    imap_port: int | None = trimmed(None, "RIC_EMAIL_IMAP_PORT")
    imap_user: str = trimmed("", "RIC_EMAIL_IMAP_USER")
    imap_password: SecretStr = secret("RIC_EMAIL_IMAP_PASSWORD", strip=False)
    imap_mailbox: str = trimmed("INBOX", "RIC_EMAIL_IMAP_MAILBOX")
    imap_ssl: bool = trimmed(True, "RIC_EMAIL_IMAP_SSL", parse=yes_no)
    smtp_host: str = trimmed("", "RIC_EMAIL_SMTP_HOST")
    smtp_port: int | None = trimmed(None, "RIC_EMAIL_SMTP_PORT")
    smtp_user: str = trimmed("", "RIC_EMAIL_SMTP_USER")
    smtp_password: SecretStr = secret("RIC_EMAIL_SMTP_PASSWORD", strip=False)
    smtp_starttls: bool = trimmed(True, "RIC_EMAIL_SMTP_STARTTLS", parse=yes_no)
    from_address: str = trimmed("", "RIC_EMAIL_FROM")
    poll_seconds: float = trimmed(30.0, "RIC_EMAIL_POLL_SECONDS")
    rate_limit: str = trimmed("20/hour", "RIC_EMAIL_RATE_LIMIT")
