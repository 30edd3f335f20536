"""The address of the client behind a console request (:mod:`messaging.client_address`).

The parsing lives in :mod:`messaging.client_address`, shared with the widget's rate
limits; this module reads the console's trusted proxies from its settings.
"""

from __future__ import annotations

from collections.abc import Sequence

from sanic.request import Request

from messaging.client_address import Network, client_address, parse_trusted_proxies

__all__ = ["Network", "client_address", "parse_trusted_proxies", "request_client_address"]


def request_client_address(request: Request) -> str:
    """The client's address for a console request (settings from ``app.ctx.settings``)."""
    proxies: Sequence[Network] = request.app.ctx.settings.trusted_proxies
    peer = str(request.ip or "unknown")
    return client_address(peer, request.headers.getall("x-forwarded-for", []), proxies)
