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
    "DEFAULT_MAX_SOCKETS_PER_ADDRESS",
    "DEFAULT_MAX_SOCKETS_PER_SESSION",
    "DEFAULT_QUEUE_SIZE",
    "DEFAULT_SEND_TIMEOUT_SECONDS",
    "WebchatSettings",
]

CHANNEL = "webchat"
DEFAULT_QUEUE_SIZE = 8
DEFAULT_SEND_TIMEOUT_SECONDS = 10.0
DEFAULT_HANDOFF_POLL_SECONDS = 3.0
DEFAULT_MAX_SOCKETS_PER_ADDRESS = 50
DEFAULT_MAX_SOCKETS_PER_SESSION = 10


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
        max_sockets_per_address: widget sockets one client address may hold open at
            once; one more is closed with code 4429 (:mod:`connectors.webchat.admission`).
        max_sockets_per_session: widget sockets one conversation may hold open at once.
    """

    allowed_origins: str = "*"
    queue_size: int = DEFAULT_QUEUE_SIZE
    send_timeout_seconds: float = DEFAULT_SEND_TIMEOUT_SECONDS
    handoff_poll_seconds: float = DEFAULT_HANDOFF_POLL_SECONDS
    max_sockets_per_address: int = DEFAULT_MAX_SOCKETS_PER_ADDRESS
    max_sockets_per_session: int = DEFAULT_MAX_SOCKETS_PER_SESSION

    def __post_init__(self) -> None:
        if self.queue_size < 1:
            raise ValueError(f"RIC_WEBCHAT_QUEUE_SIZE must be at least 1, not {self.queue_size}")
        if not self.send_timeout_seconds > 0:
            raise ValueError(
                "RIC_WEBCHAT_SEND_TIMEOUT_SECONDS must be a positive number of seconds, "
                f"not {self.send_timeout_seconds}"
            )
        for name, value in (
            ("RIC_WEBCHAT_MAX_SOCKETS_PER_ADDRESS", self.max_sockets_per_address),
            ("RIC_WEBCHAT_MAX_SOCKETS_PER_SESSION", self.max_sockets_per_session),
        ):
            if value < 1:
                raise ValueError(f"{name} must be at least 1, not {value}")

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
            max_sockets_per_address=config.max_sockets_per_address,
            max_sockets_per_session=config.max_sockets_per_session,
        )
