"""Settings of the channels: the web widget, Telegram, Slack and email."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from ric_config._base import RicSettings, setting, yes_no

__all__ = ["EmailConfig", "SlackConfig", "TelegramConfig", "WebchatConfig"]


def _text(env: str, description: str, default: str = "", **options: Any) -> str:
    """A piece of text with surrounding whitespace stripped."""
    result: str = setting(default, env, description, strip=True, **options)
    return result


def _secret(env: str, description: str, *, strip: bool = True) -> SecretStr:
    """A token or password: never shown in a ``repr`` or in logs."""
    result: SecretStr = setting(SecretStr(""), env, description, strip=strip)
    return result


class WebchatConfig(RicSettings):
    """The widget channel; unset values fall back to ``credentials.yml``."""

    area = "Web widget"

    allowed_origins: str | None = setting(
        None,
        "RIC_WEBCHAT_ALLOWED_ORIGINS",
        "comma-separated page origins allowed to open widget sockets",
        blank="unset",
        strip=True,
        shown_default="`*`",
    )
    queue_size: int | None = setting(
        None,
        "RIC_WEBCHAT_QUEUE_SIZE",
        "widget messages of one conversation that may wait for the bot at once (all tabs "
        "together, each tab at most its share); the next gets a `busy` error frame and the "
        "widget keeps its text in the input box (docs/architecture.md, *Reader input rules*)",
        blank="unset",
        strip=True,
        shown_default="8",
    )
    send_timeout_seconds: float | None = setting(
        None,
        "RIC_WEBCHAT_SEND_TIMEOUT_SECONDS",
        "a widget tab that does not accept a frame within this time is closed (it reconnects "
        "and replays what it missed), so it cannot hold up the conversation's other tabs",
        blank="unset",
        strip=True,
        shown_default="10",
    )


class TelegramConfig(RicSettings):
    """The Telegram channel (docs/channels/telegram.md)."""

    area = "Telegram"

    bot_token: SecretStr = _secret(
        "TELEGRAM_BOT_TOKEN",
        "Telegram bot token (BotFather); without it and the secret the webhook answers 503",
    )
    secret_token: SecretStr = _secret(
        "TELEGRAM_SECRET_TOKEN", "the webhook's secret token, checked on every update"
    )
    api_base_url: str = _text(
        "TELEGRAM_API_BASE_URL",
        "another Bot API server",
        shown_default="`https://api.telegram.org`",
    )
    webhook_url: str = _text(
        "TELEGRAM_WEBHOOK_URL",
        "public webhook URL for `python -m connectors.telegram set-webhook`",
    )


class SlackConfig(RicSettings):
    """The Slack channel (docs/channels/slack.md)."""

    area = "Slack"

    bot_token: SecretStr = _secret(
        "SLACK_BOT_TOKEN",
        "Slack bot token (`xoxb-…`); without it and the signing secret the endpoint answers 503",
    )
    signing_secret: SecretStr = _secret(
        "SLACK_SIGNING_SECRET", "Slack's signing secret, checked on every request"
    )
    api_base_url: str = _text(
        "SLACK_API_BASE_URL",
        "another Slack Web API (the tests' stand-in)",
        shown_default="`https://slack.com/api/`",
    )


class EmailConfig(RicSettings):
    """The email channel and the worker's staff email (docs/channels/email.md)."""

    area = "Email"

    imap_host: str = _text(
        "RIC_EMAIL_IMAP_HOST",
        "the library mailbox's IMAP server; unset leaves the email channel idle",
    )
    imap_port: int | None = setting(
        None,
        "RIC_EMAIL_IMAP_PORT",
        "the IMAP port",
        blank="unset",
        strip=True,
        shown_default="993 (143 without SSL)",
    )
    imap_user: str = _text("RIC_EMAIL_IMAP_USER", "IMAP login, usually the library's address")
    imap_password: SecretStr = _secret(
        "RIC_EMAIL_IMAP_PASSWORD", "IMAP (app) password; never logged", strip=False
    )
    imap_mailbox: str = _text(
        "RIC_EMAIL_IMAP_MAILBOX", "folder the channel reads", "INBOX", blank="unset"
    )
    imap_ssl: bool = setting(
        True,
        "RIC_EMAIL_IMAP_SSL",
        "implicit TLS (IMAPS); `1/true/yes/on` or `0/false/no/off`",
        blank="unset",
        strip=True,
        parse=yes_no,
    )
    smtp_host: str = _text("RIC_EMAIL_SMTP_HOST", "SMTP server for the channel's answers")
    smtp_port: int | None = setting(
        None,
        "RIC_EMAIL_SMTP_PORT",
        "the SMTP port",
        blank="unset",
        strip=True,
        shown_default="587 (25 without STARTTLS; 465 = implicit TLS)",
    )
    smtp_user: str = _text("RIC_EMAIL_SMTP_USER", "SMTP login; none when unset")
    smtp_password: SecretStr = _secret(
        "RIC_EMAIL_SMTP_PASSWORD", "SMTP password; never logged", strip=False
    )
    smtp_starttls: bool = setting(
        True,
        "RIC_EMAIL_SMTP_STARTTLS",
        "upgrade the SMTP connection with STARTTLS; `1/true/yes/on` or `0/false/no/off`",
        blank="unset",
        strip=True,
        parse=yes_no,
    )
    from_address: str = _text(
        "RIC_EMAIL_FROM",
        "`From` of the library's mail, e.g. `Riverbend Library <ask@library.example.org>`",
        shown_default="`RIC_EMAIL_IMAP_USER`",
    )
    poll_seconds: float = setting(
        30.0,
        "RIC_EMAIL_POLL_SECONDS",
        "how often the mailbox is checked for unseen mail",
        blank="unset",
        strip=True,
    )
    rate_limit: str = _text(
        "RIC_EMAIL_RATE_LIMIT",
        "answered mails per sender and window (`20`, `5/minute`, `100/day`, `3/600s`); excess "
        "mail is logged, not answered",
        "20/hour",
        blank="unset",
    )
