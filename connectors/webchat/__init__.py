"""The web widget channel: a WebSocket per browser tab, served inside the Rasa server.

Rasa loads :class:`WebchatInput` from ``credentials.yml`` (``connectors.webchat.WebchatInput``).
Modules: :mod:`~connectors.webchat.channel` (routes and the script),
:mod:`~connectors.webchat.session` (one socket), :mod:`~connectors.webchat.lines` (one
conversation's messages in order), :mod:`~connectors.webchat.hub` (open sockets and
the output channel), :mod:`~connectors.webchat.protocol` (the frames),
:mod:`~connectors.webchat.handoff` (the reader's side of a handoff: availability, queue
position, a librarian joining) and
:mod:`~connectors.webchat.settings`. The script itself is ``connectors/static/widget.js``.
"""

from __future__ import annotations

from connectors.webchat.channel import WebchatInput
from connectors.webchat.hub import ConnectionHub, WebchatOutput
from connectors.webchat.settings import WebchatSettings

__all__ = ["ConnectionHub", "WebchatInput", "WebchatOutput", "WebchatSettings"]
