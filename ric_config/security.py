"""Settings of the locks on every door: security headers, rate limits and logs (issue 18)."""

from __future__ import annotations

from collections.abc import Callable

from ric_config._base import RicSettings, trimmed

__all__ = ["LogConfig", "RateLimitConfig", "SecurityConfig"]


def _one_of(*choices: str, upper: bool = False) -> Callable[[str], str]:
    """A parser that accepts only ``choices`` (upper-cased first when ``upper``)."""

    def parse(text: str) -> str:
        value = text.upper() if upper else text.lower()
        if value not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}, not {text!r}")
        return value

    return parse


class SecurityConfig(RicSettings):
    """Where the console is reached from, and which sites may embed the widget.

    Attributes:
        console_public_url: the console as librarians' browsers reach it
            (`https://desk.example-library.org`). When it starts with `https://` the
            session cookie is always `Secure`; its origin is also the widget's default
            allowed origin (the demo page). Default: `http://$RIC_PUBLIC_HOST:$RIC_CONSOLE_PORT`
        widget_frame_ancestors: sites that may show the widget's files in a frame
            (CSP `frame-ancestors`), space- or comma-separated origins. Console pages
            are never framed by other sites. Default: the widget's allowed origins
    """

    area = "Security headers"

    console_public_url: str | None = trimmed(None, "RIC_CONSOLE_PUBLIC_URL")
    widget_frame_ancestors: str | None = trimmed(None, "RIC_WIDGET_FRAME_ANCESTORS")


class RateLimitConfig(RicSettings):
    """Rate limits per client on the widget and the channel webhooks (`limits` syntax).

    Each value is one or more limits separated by `;`, such as `20/minute` or
    `5/10 seconds; 30/minute`; a message over any of them is refused politely and not
    processed (docs/security.md, *Rate limits*).

    Attributes:
        storage: where the counters live: `memory://` (one process) or a Redis URL
            (`redis://host:6379/0`) when several Rasa servers share the load
        webchat_session: widget messages accepted per conversation (all its tabs)
        webchat_ip: widget messages accepted per client address (all its
            conversations); behind a proxy set `RIC_TRUSTED_PROXIES`, or every reader
            shares the proxy's address
        telegram: Telegram messages answered per chat
        slack: Slack messages answered per user
    """

    area = "Rate limits"

    storage: str = trimmed("memory://", "RIC_RATE_LIMIT_STORAGE")
    webchat_session: str = trimmed("20/minute", "RIC_RATE_LIMIT_WEBCHAT_SESSION")
    webchat_ip: str = trimmed("300/minute", "RIC_RATE_LIMIT_WEBCHAT_IP")
    telegram: str = trimmed("20/minute", "RIC_RATE_LIMIT_TELEGRAM")
    slack: str = trimmed("20/minute", "RIC_RATE_LIMIT_SLACK")


class LogConfig(RicSettings):
    """How every process logs: format, level, file size and rotation.

    Attributes:
        log_format: `text` (one readable line per record) or `json` (one JSON object
            per line: time, level, logger, process, message, conversation_id)
        log_level: the level of the project's own loggers and the root logger
        log_max_bytes: a process's log file is rotated when it would grow past this
            size (`var/log/<process>.log` → `.1` … )
        log_backup_count: how many rotated files of each log are kept
    """

    area = "Logs"

    log_format: str = trimmed("text", "RIC_LOG_FORMAT", parse=_one_of("text", "json"))
    log_level: str = trimmed(
        "INFO", "RIC_LOG_LEVEL", parse=_one_of("DEBUG", "INFO", "WARNING", "ERROR", upper=True)
    )
    log_max_bytes: int = trimmed(10_000_000, "RIC_LOG_MAX_BYTES", ge=1024)
    log_backup_count: int = trimmed(5, "RIC_LOG_BACKUP_COUNT", ge=0)
