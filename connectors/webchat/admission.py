"""Which pages may open a widget socket, and how fast one reader may send (issue 18).

**Origins.** A browser sends its page's origin with every WebSocket upgrade. Only the
configured origins (``RIC_WEBCHAT_ALLOWED_ORIGINS``; by default the console's own
origin, which serves the demo page) may open a socket; any other page's socket is
closed at once with :data:`ORIGIN_REFUSED_CODE` and a reason the widget shows. A client
that sends no ``Origin`` is not a browser page and could claim any origin, so the check
does not apply to it; the rate limits do.

**Rate limits.** A reader's message is first tested against the limits of its
conversation and of its client address (:mod:`messaging.rate_limits`), then offered to
the conversation's line, and counted only once the line took it: a message refused as
``busy`` or ``slow_down`` is not processed and costs nothing, and everything already
accepted is answered as before. With the default memory storage the test and the count
happen without a pause in between; with Redis they are two round trips made from a
worker thread, so a burst may slip a message or two past the limit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from sanic.request import Request

from messaging.client_address import Network, client_address, parse_trusted_proxies
from messaging.rate_limits import Admission, RateLimits, channel_limits, slow_down_text
from ric_config import ConsoleConfig, NetworkConfig, SecurityConfig

__all__ = [
    "ORIGIN_REFUSED_CODE",
    "ORIGIN_REFUSED_REASON",
    "ReaderLimits",
    "default_origin",
    "origin_of",
    "parse_origins",
]

ORIGIN_REFUSED_CODE = 4403
"""The close code of a socket opened from a page whose origin is not allowed."""

ORIGIN_REFUSED_REASON = "This website may not use the library's chat (origin not allowed)."
"""The close reason: the widget shows it (a close reason holds at most 123 bytes)."""


def origin_of(url: str) -> str:
    """The origin (``scheme://host[:port]``) of a URL, lower-cased, default ports dropped."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is None or (scheme, port) in {("http", 80), ("https", 443)}:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def default_origin() -> str:
    """The console's public origin, where the demo page embeds the widget."""
    url = SecurityConfig().console_public_url
    if not url:
        url = f"http://{NetworkConfig().public_host}:{ConsoleConfig().console_port}"
    return origin_of(url)


def parse_origins(text: str) -> frozenset[str]:
    """The allowed origins in a comma- or space-separated list; ``*`` allows any page."""
    entries = text.replace(",", " ").split()
    return frozenset("*" if entry == "*" else origin_of(entry) for entry in entries)


@dataclass
class ReaderLimits:
    """The widget's rate limits per conversation and per client address.

    Attributes:
        limits: the ``session`` and ``ip`` limits (:func:`messaging.rate_limits.channel_limits`).
        proxies: reverse proxies whose ``X-Forwarded-For`` is believed
            (``RIC_TRUSTED_PROXIES``); without them every reader behind a proxy shares
            the proxy's address.
    """

    limits: RateLimits
    proxies: Sequence[Network] = ()

    @classmethod
    def from_env(cls) -> ReaderLimits:
        """The limits and trusted proxies from the environment.

        Raises:
            ValueError: a limit, the storage or a proxy address cannot be read.
        """
        proxies = parse_trusted_proxies(ConsoleConfig().trusted_proxies)
        return cls(channel_limits("webchat"), proxies)

    def keys(self, request: Request, session_id: str) -> dict[str, str]:
        """The counters one message of ``session_id`` on this socket counts against."""
        peer = str(request.ip or "unknown")
        address = client_address(peer, request.headers.getall("x-forwarded-for", []), self.proxies)
        return {"session": session_id, "ip": address}

    async def check(self, keys: dict[str, str]) -> Admission:
        """Whether one more message fits every limit, without counting it."""
        if self.limits.in_memory:  # no await: nothing can slip in before the count
            return self.limits.check_now(keys)
        return await asyncio.to_thread(self.limits.check_now, keys)

    async def count(self, keys: dict[str, str]) -> None:
        """Count a message the conversation's line accepted."""
        if self.limits.in_memory:
            self.limits.count_now(keys)
        else:
            await asyncio.to_thread(self.limits.count_now, keys)

    @staticmethod
    def refusal(message_id: str, admission: Admission) -> dict[str, object]:
        """The ``slow_down`` error frame for a message over a limit (not processed)."""
        return {
            "type": "error",
            "code": "slow_down",
            "id": message_id,
            "retry_after": admission.retry_after,
            "message": slow_down_text(admission.retry_after),
        }
