"""Which pages may open a widget socket, and how fast one reader may send (issue 18).

**Origins.** A browser sends its page's origin with every WebSocket upgrade. Only the
configured origins (``RIC_WEBCHAT_ALLOWED_ORIGINS``; by default the console's own
origin, which serves the demo page) may open a socket; any other page's socket is
closed at once with :data:`ORIGIN_REFUSED_CODE` and a reason the widget shows. A client
that sends no ``Origin`` is not a browser page and could claim any origin, so the check
does not apply to it; the rate limits do.

**Sockets per client.** One client address may hold at most
``RIC_WEBCHAT_MAX_SOCKETS_PER_ADDRESS`` widget sockets open at once, and one conversation
at most ``RIC_WEBCHAT_MAX_SOCKETS_PER_SESSION`` (its tabs). One more is closed at once
with :data:`TOO_MANY_SOCKETS_CODE` and a reason the widget shows; the sockets already
open keep working, and a closed one frees its place (:class:`SocketCaps`). The counts
live in the Rasa process's memory, whatever ``RIC_RATE_LIMIT_STORAGE`` says: with
several Rasa servers behind a balancer each one allows the caps, so one address may
hold up to the cap times the number of servers. A count in the process cannot outlive
the socket it counts (a killed process takes its counts with it), which a shared count
in Redis could after a crash.

**Rate limits.** A reader's message is admitted against the limits of its conversation
and of its client address (:mod:`messaging.rate_limits`) in one atomic step per limit,
so concurrent messages never exceed a limit, with memory or Redis storage alike. A
message admitted but then refused as ``busy`` (its conversation's line is full) is
refunded, so a message refused as ``busy`` or ``slow_down`` is not processed and costs
nothing; everything already accepted is answered as before.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sanic.request import Request

from messaging.client_address import Network, client_address, parse_trusted_proxies
from messaging.rate_limits import Admission, RateLimits, channel_limits, slow_down_text
from ric_config import ConsoleConfig, NetworkConfig, SecurityConfig

__all__ = [
    "ADDRESS_FULL_REASON",
    "ORIGIN_REFUSED_CODE",
    "ORIGIN_REFUSED_REASON",
    "SESSION_FULL_REASON",
    "TOO_MANY_SOCKETS_CODE",
    "ReaderLimits",
    "SocketCaps",
    "default_origin",
    "origin_of",
    "parse_origins",
]

ORIGIN_REFUSED_CODE = 4403
"""The close code of a socket opened from a page whose origin is not allowed."""

ORIGIN_REFUSED_REASON = "This website may not use the library's chat (origin not allowed)."
"""The close reason: the widget shows it (a close reason holds at most 123 bytes)."""

TOO_MANY_SOCKETS_CODE = 4429
"""The close code of a socket one too many for its client address or its conversation."""

ADDRESS_FULL_REASON = (
    "Too many chats are open from your network. Close one, and this chat will connect."
)
"""The close reason when the client address holds its most sockets (the widget shows it)."""

SESSION_FULL_REASON = "This chat is open in too many tabs. Close one, and this tab will connect."
"""The close reason when the conversation holds its most sockets (the widget shows it)."""


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

    def address(self, request: Request) -> str:
        """The client address of a socket's upgrade request (``X-Forwarded-For`` only
        from a trusted proxy)."""
        peer = str(request.ip or "unknown")
        return client_address(peer, request.headers.getall("x-forwarded-for", []), self.proxies)

    def keys(self, request: Request, session_id: str) -> dict[str, str]:
        """The counters one message of ``session_id`` on this socket counts against."""
        return {"session": session_id, "ip": self.address(request)}

    async def admit(self, keys: dict[str, str]) -> Admission:
        """Count one message against every limit if all allow it (atomically per limit)."""
        return await self.limits.admit(keys)

    async def refund(self, keys: dict[str, str]) -> None:
        """Take back an admitted message the conversation's line then refused."""
        await self.limits.refund(keys)

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


@dataclass
class SocketCaps:
    """How many widget sockets one client address and one conversation may hold open.

    Counted in this process (see the module docstring). The address's place is taken
    when the socket opens and given back when it closes, in a ``finally``, so no way
    out of a socket leaks a place; a conversation's sockets are those registered in the
    channel's :class:`~connectors.webchat.hub.ConnectionHub`.

    Attributes:
        per_address: sockets one client address may hold open at once.
        per_session: sockets one conversation may hold open at once.
    """

    per_address: int
    per_session: int
    _open: Counter[str] = field(default_factory=Counter)

    def take(self, address: str) -> bool:
        """Take a place for a new socket of ``address``; False when it holds its most."""
        if self._open[address] >= self.per_address:
            return False
        self._open[address] += 1
        return True

    def give_back(self, address: str) -> None:
        """Give back the place of a closed socket of ``address``."""
        self._open[address] -= 1
        if self._open[address] <= 0:
            del self._open[address]

    def session_has_room(self, open_sockets: int) -> bool:
        """Whether a conversation with ``open_sockets`` open may open one more."""
        return open_sockets < self.per_session
