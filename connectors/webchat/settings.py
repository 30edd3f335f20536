"""The widget channel's settings, read once from the environment (``RIC_WEBCHAT_*``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors.webchat.admission import default_origin
from ric_config import WebchatConfig

__all__ = [
    "CHANNEL",
    "DEFAULT_HANDOFF_POLL_SECONDS",
    "DEFAULT_QUEUE_SIZE",
    "DEFAULT_SEND_TIMEOUT_SECONDS",
    "WebchatSettings",
]

CHANNEL = "webchat"
DEFAULT_QUEUE_SIZE = 8
DEFAULT_SEND_TIMEOUT_SECONDS = 10.0
DEFAULT_HANDOFF_POLL_SECONDS = 3.0


@dataclass(frozen=True)
class WebchatSettings:
    """The widget channel's settings, read once from the environment.

    Attributes:
        allowed_origins: comma-separated page origins allowed to open sockets, or ``*``;
            :meth:`from_env` defaults to the console's public origin (the demo page).
        queue_size: how many of a conversation's messages may wait for the bot at once
            (all tabs together); one more gets a ``busy`` error frame.
        send_timeout_seconds: how long a tab may take to accept a frame before the
            channel closes its socket (it reconnects and replays what it missed), so
            that one stalled tab cannot hold up the others.
        handoff_poll_seconds: how often the open conversations' handoffs and the
            librarians' availability are read from the reader store
            (:mod:`connectors.webchat.handoff`).
    """

    allowed_origins: str = "*"
    queue_size: int = DEFAULT_QUEUE_SIZE
    send_timeout_seconds: float = DEFAULT_SEND_TIMEOUT_SECONDS
    handoff_poll_seconds: float = DEFAULT_HANDOFF_POLL_SECONDS

    def __post_init__(self) -> None:
        if self.queue_size < 1:
            raise ValueError(f"RIC_WEBCHAT_QUEUE_SIZE must be at least 1, not {self.queue_size}")
        if not self.send_timeout_seconds > 0:
            raise ValueError(
                "RIC_WEBCHAT_SEND_TIMEOUT_SECONDS must be a positive number of seconds, "
                f"not {self.send_timeout_seconds}"
            )

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, credentials: Mapping[str, Any] | None = None
    ) -> WebchatSettings:
        """Read ``RIC_WEBCHAT_*`` variables; ``credentials.yml`` values are the fallback.

        Raises:
            ValueError: a variable is set to something that is not a valid value.
        """
        config = WebchatConfig.load(env)
        credentials = credentials or {}

        def number(
            name: str, key: str, value: float | None, default: float, kind: type[int] | type[float]
        ) -> Any:
            if value is not None:
                return value
            raw = credentials.get(key)
            if raw in (None, ""):
                return default
            try:
                return kind(raw)
            except (TypeError, ValueError):
                raise ValueError(f"{name} must be a number, not {raw!r}") from None

        return cls(
            # Default: only the console's own pages (the demo) may open sockets.
            allowed_origins=config.allowed_origins
            or str(credentials.get("allowed_origins") or default_origin()),
            queue_size=number(
                "RIC_WEBCHAT_QUEUE_SIZE", "queue_size", config.queue_size, DEFAULT_QUEUE_SIZE, int
            ),
            send_timeout_seconds=number(
                "RIC_WEBCHAT_SEND_TIMEOUT_SECONDS",
                "send_timeout_seconds",
                config.send_timeout_seconds,
                DEFAULT_SEND_TIMEOUT_SECONDS,
                float,
            ),
            handoff_poll_seconds=config.handoff_poll_seconds,
        )
