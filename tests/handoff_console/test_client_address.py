"""Which address a request comes from, with and without trusted proxies."""

from __future__ import annotations

import pytest

from handoff_console.client_address import Network, client_address, parse_trusted_proxies

PROXIES = parse_trusted_proxies("127.0.0.1, 10.0.0.0/8 ::1")


@pytest.mark.parametrize(
    ("peer", "forwarded", "proxies", "expected"),
    [
        ("127.0.0.1", ["198.51.100.1"], (), "127.0.0.1"),  # nothing trusted: the peer
        ("192.0.2.9", ["198.51.100.1"], PROXIES, "192.0.2.9"),  # peer is no proxy
        ("127.0.0.1", ["198.51.100.1"], PROXIES, "198.51.100.1"),
        ("127.0.0.1", ["6.6.6.6, 198.51.100.1"], PROXIES, "198.51.100.1"),  # forged left part
        ("127.0.0.1", ["198.51.100.1, 10.1.2.3"], PROXIES, "198.51.100.1"),  # two proxies
        ("127.0.0.1", ["6.6.6.6", "198.51.100.1"], PROXIES, "198.51.100.1"),  # two headers
        ("127.0.0.1", ["10.0.0.5, 10.0.0.6"], PROXIES, "10.0.0.5"),  # every hop trusted
        ("127.0.0.1", [], PROXIES, "127.0.0.1"),
        ("127.0.0.1", [" , "], PROXIES, "127.0.0.1"),
        ("::1", ["2001:db8::1"], PROXIES, "2001:db8::1"),
        ("::ffff:127.0.0.1", ["203.0.113.8"], PROXIES, "203.0.113.8"),  # IPv4-mapped peer
        ("127.0.0.1", ["[2001:db8::2]:443"], PROXIES, "2001:db8::2"),
        ("127.0.0.1", ["unknown"], PROXIES, "unknown"),
    ],
)
def test_client_address(
    peer: str, forwarded: list[str], proxies: tuple[Network, ...], expected: str
) -> None:
    assert client_address(peer, forwarded, proxies) == expected


def test_a_bad_trusted_proxy_setting_names_the_entry() -> None:
    with pytest.raises(ValueError, match=r"'proxy\.example' is not an IP address or network"):
        parse_trusted_proxies("127.0.0.1, proxy.example")
