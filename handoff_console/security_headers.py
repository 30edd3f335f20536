"""Security headers on every console response: CSP, no sniffing, referrer and framing.

One response middleware (:func:`install`) adds them to every response of the console:
pages, the JSON API, static files and error pages alike.

- **Content-Security-Policy.** Scripts only from the console itself (``script-src
  'self'``): no inline ``<script>`` code, no ``onclick=``-style attributes, no
  ``javascript:`` URLs, no ``eval``. Pages pass data to their scripts in ``data-*``
  attributes or a ``<script type="application/json">`` block, which is data, not code.
  Styles too come only from the console's static files (``style-src 'self'``): no
  ``<style>`` blocks, no ``style="…"`` attributes, no injected ``<style>`` elements.
  Scripts may still set ``element.style`` (the CSSOM, which CSP does not restrict), as
  ECharts does; the widget styles its shadow root with a constructed stylesheet.
  ``frame-ancestors 'none'``: no site frames a console page, except a page that opted in
  to same-origin framing with ``X-Frame-Options: SAMEORIGIN`` (the conversation page,
  which the inbox shows in a frame) gets ``frame-ancestors 'self'``. The demo page
  (``/demo``) also loads the widget's script from the Rasa server and opens its
  WebSocket there (``RIC_RASA_PUBLIC_URL``), and shows pictures the bot sends from any
  https site.
- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin`` and
  ``X-Frame-Options: DENY`` (``SAMEORIGIN`` where a page opted in), for browsers
  without CSP level 2.

The session cookie's ``Secure`` flag is set by :mod:`handoff_console.auth` whenever the
console's public URL (``RIC_CONSOLE_PUBLIC_URL``) is https.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from sanic import Sanic
from sanic.request import Request
from sanic.response import BaseHTTPResponse

__all__ = ["BASE_HEADERS", "DEMO_PATH", "console_policy", "demo_policy", "install"]

BASE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
"""Headers every console response carries besides its Content-Security-Policy."""

DEMO_PATH = "/demo"

_COMMON = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "frame-src": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
    "base-uri": "'none'",
    "object-src": "'none'",
}


def _render(directives: dict[str, str]) -> str:
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def _origins(url: str) -> tuple[str, str]:
    """The http(s) origin of ``url`` and the ws(s) origin of the same host."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    socket = ("wss" if parts.scheme == "https" else "ws") + f"://{parts.netloc}"
    return origin, socket


def console_policy(*, framable: bool = False) -> str:
    """The Content-Security-Policy of every console response but the demo page.

    Args:
        framable: the page may be framed by the console's own pages.
    """
    return _render({**_COMMON, "frame-ancestors": "'self'" if framable else "'none'"})


def demo_policy(rasa_public_url: str) -> str:
    """The demo page's policy: the console's, plus the widget's script and socket."""
    origin, socket = _origins(rasa_public_url)
    return _render(
        {
            **_COMMON,
            "script-src": f"'self' {origin}",
            "connect-src": f"'self' {origin} {socket}",
            "img-src": "'self' data: https:",
        }
    )


def install(app: Sanic, rasa_public_url: str) -> None:
    """Add the headers to every response of ``app``."""
    policies = {
        "console": console_policy(),
        "framable": console_policy(framable=True),
        "demo": demo_policy(rasa_public_url),
    }

    async def add_headers(request: Request, response: BaseHTTPResponse) -> None:
        framable = response.headers.get("X-Frame-Options") == "SAMEORIGIN"
        for name, value in BASE_HEADERS.items():
            response.headers[name] = value
        if request.path == DEMO_PATH:
            kind = "demo"
        elif framable:
            kind = "framable"
            response.headers["X-Frame-Options"] = "SAMEORIGIN"
        else:
            kind = "console"
        response.headers["Content-Security-Policy"] = policies[kind]

    app.register_middleware(add_headers, "response")
