"""Web widget channel: a WebSocket per browser tab, served inside the Rasa server.

Mounted by Rasa at ``/webhooks/webchat/``:

- ``GET  /``           health
- ``GET  /widget.js``  the embeddable script (one ``<script>`` tag)
- ``WS   /ws``         the live conversation (see :mod:`connectors.webchat.protocol`)

Replies, librarian messages and proactive messages all reach every open tab of a
conversation through :class:`WebchatOutput`. A tab that was offline asks for what
it missed (``since`` its newest timestamp) and the channel replays it from the
tracker store, so nothing depends on the socket having been open.

**One conversation, one line.** A socket only reads and validates frames; the reader's
messages go into the conversation's :class:`SessionLine`, a bounded queue served by one
task, so a conversation's messages reach Rasa one at a time and in order, whichever
tab sent them. The socket therefore keeps reading while Rasa works: Sanic's
WebSocket answers the keepalive ping only when the handler reads (a handler that
awaited each turn inline left pongs unread behind queued frames, and the server
closed every socket with 1011 after 20 + 20 s), and Rasa never sees two messages of
one conversation at once (its ticket lock polls once a second, which is what slowed
8 concurrent tabs to about one message a second). Messages are served in the order
they arrived, and each socket may hold at most its share of the line (``queue_size``
divided by the open sockets, at least one), so one busy tab cannot crowd out another.
A message that does not fit is refused with a ``busy`` error frame that carries the
message's id: it is never dropped silently.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.shared import ChannelNamed, OnNewMessage
from connectors.webchat.admission import (
    ADDRESS_FULL_REASON,
    ORIGIN_REFUSED_CODE,
    ORIGIN_REFUSED_REASON,
    TOO_MANY_SOCKETS_CODE,
    ReaderLimits,
    SocketCaps,
    origin_of,
    parse_origins,
)
from connectors.webchat.handoff import HandoffWatcher
from connectors.webchat.hub import ConnectionHub, WebchatOutput
from connectors.webchat.lines import SessionLines
from connectors.webchat.session import SocketSession
from connectors.webchat.settings import CHANNEL, WebchatSettings
from messaging.text_safety import MAX_MESSAGE_CHARS
from rasa_plugins import sanic_compat
from ric_config import SecurityConfig

__all__ = ["STATIC_DIR", "WebchatInput", "widget_file_headers"]

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def widget_file_headers(allowed_origins: frozenset[str]) -> dict[str, str]:
    """Security headers of the widget's files: no sniffing, no referrer, framing only
    by the library's sites (``RIC_WIDGET_FRAME_ANCESTORS``, else the allowed origins)."""
    configured = SecurityConfig().widget_frame_ancestors
    origins = parse_origins(configured) if configured else allowed_origins
    ancestors = " ".join(sorted(origins)) or "'none'"
    return {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Content-Security-Policy": f"default-src 'none'; frame-ancestors {ancestors}",
        "Cross-Origin-Resource-Policy": "cross-origin",
    }


class WebchatInput(ChannelNamed, InputChannel):  # type: ignore[misc]
    """The web widget's input channel."""

    channel_name = CHANNEL

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WebchatInput:
        """Build the channel from its ``credentials.yml`` entry and the environment."""
        credentials = credentials or {}
        return cls(
            max_message_chars=int(credentials.get("max_message_chars") or MAX_MESSAGE_CHARS),
            settings=WebchatSettings.from_env(credentials=credentials),
        )

    def __init__(
        self,
        max_message_chars: int = MAX_MESSAGE_CHARS,
        allowed_origins: str | None = None,
        settings: WebchatSettings | None = None,
    ) -> None:
        settings = settings if settings is not None else WebchatSettings.from_env()
        if allowed_origins is not None:
            settings = dataclasses.replace(settings, allowed_origins=allowed_origins)
        self.settings = settings
        self.max_message_chars = max_message_chars
        self.allowed_origins = parse_origins(settings.allowed_origins)
        self.reader_limits = ReaderLimits.from_env()
        self.socket_caps = SocketCaps(
            settings.max_sockets_per_address, settings.max_sockets_per_session
        )
        self.file_headers = widget_file_headers(self.allowed_origins)
        self.hub = ConnectionHub(send_timeout_seconds=settings.send_timeout_seconds)
        self.lines = SessionLines(settings.queue_size)
        self.handoffs = HandoffWatcher(self.hub, settings.handoff_poll_seconds)
        # The launcher installs the Rasa patches at start-up; a Rasa started another
        # way gets the one the sockets need here (installing twice changes nothing).
        sanic_compat.install()

    def get_output_channel(self) -> OutputChannel:
        """Channel used for proactive messages (console replies, worker surveys)."""
        return WebchatOutput(self.hub)

    def origin_allowed(self, origin: str | None) -> bool:
        """Whether a browser page from ``origin`` may open a socket.

        A client without an ``Origin`` header is not a browser page (which always sends
        one) and could send any origin it liked, so only the rate limits apply to it.
        """
        if origin is None or "*" in self.allowed_origins:
            return True
        return origin_of(origin) in self.allowed_origins

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        """The Sanic blueprint with the health route, the script and the socket."""
        bp = Blueprint("webchat_webhook", __name__)

        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok", "channel": CHANNEL}, headers=self.file_headers)

        async def widget(_: Request) -> HTTPResponse:
            return await response.file(
                str(STATIC_DIR / "widget.js"),
                headers={
                    "Cache-Control": "no-cache",
                    "Access-Control-Allow-Origin": "*",
                    **self.file_headers,
                },
                mime_type="application/javascript",
            )

        async def socket(request: Request, ws: Any) -> None:
            origin = request.headers.get("origin")
            if not self.origin_allowed(origin):
                logger.warning("refused a widget socket from origin %r", origin)
                await ws.close(code=ORIGIN_REFUSED_CODE, reason=ORIGIN_REFUSED_REASON)
                return
            address = self.reader_limits.address(request)
            if not self.socket_caps.take(address):
                logger.warning("refused a widget socket: its client address holds the most")
                await ws.close(code=TOO_MANY_SOCKETS_CODE, reason=ADDRESS_FULL_REASON)
                return
            try:
                session = SocketSession(
                    self.hub,
                    self.lines,
                    self.max_message_chars,
                    request,
                    ws,
                    on_new_message,
                    handoffs=self.handoffs,
                    limits=self.reader_limits,
                    caps=self.socket_caps,
                )
                await session.run()
            finally:
                self.socket_caps.give_back(address)

        bp.add_route(health, "/", methods=["GET"])
        bp.add_route(widget, "/widget.js", methods=["GET"])
        bp.add_websocket_route(socket, "/ws")
        return bp
