"""The address of the client behind a request, trusting ``X-Forwarded-For`` only from proxies.

Anyone can send ``X-Forwarded-For``, so the header is read only when the peer that
connected (to the console, or to a widget socket) is a configured trusted proxy
(``RIC_TRUSTED_PROXIES``).
Then the header's entries are read from the right (the nearest hop first), skipping
trusted proxies, and the first one that is not a trusted proxy is the client. What a
client wrote further left is never believed. With no trusted proxies (the default)
the client is the socket peer.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

__all__ = ["Network", "client_address", "parse_trusted_proxies"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_trusted_proxies(text: str) -> tuple[Network, ...]:
    """Parse ``RIC_TRUSTED_PROXIES``: addresses or CIDR networks, comma- or space-separated.

    Args:
        text: For example ``"127.0.0.1, 10.0.0.0/8, ::1"``; empty for none.

    Returns:
        The networks (a single address is a /32 or /128 network).

    Raises:
        ValueError: An entry is not an IP address or network; the message names it.
    """
    networks: list[Network] = []
    for entry in text.replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as error:
            raise ValueError(
                f"RIC_TRUSTED_PROXIES: {entry!r} is not an IP address or network"
            ) from error
    return tuple(networks)


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    candidate = text.strip()
    if candidate.startswith("[") and "]" in candidate:  # "[::1]:8080" or "[::1]"
        candidate = candidate[1 : candidate.index("]")]
    try:
        return ipaddress.ip_address(candidate)
    except ValueError:
        return None


def _trusted(text: str, proxies: Sequence[Network]) -> bool:
    address = _ip(text)
    if address is None:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in proxies)


def client_address(peer: str, forwarded_for: Iterable[str], proxies: Sequence[Network]) -> str:
    """The client's address.

    Args:
        peer: The address of the socket peer.
        forwarded_for: Every ``X-Forwarded-For`` header value, in order received.
        proxies: The trusted proxies; empty means the header is ignored.

    Returns:
        ``peer`` unless it is a trusted proxy; then the rightmost entry of
        ``X-Forwarded-For`` that is not a trusted proxy (the leftmost entry when all
        are trusted), or ``peer`` when the header is absent or empty.
    """
    if not proxies or not _trusted(peer, proxies):
        return peer
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",") if hop.strip()]
    if not hops:
        return peer
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            parsed = _ip(hop)
            return str(parsed) if parsed is not None else hop
    return hops[0]
