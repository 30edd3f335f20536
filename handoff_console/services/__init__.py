"""The console's service layer: what the API does, independent of HTTP.

Store functions take a ``session`` (the caller owns the transaction); functions that
talk to Rasa are coroutines taking a `RasaClient`.
"""

from __future__ import annotations

from handoff_console.services.conversations import on_resolved, resolved_hooks
from handoff_console.services.errors import (
    ApiError,
    BadRequest,
    Conflict,
    NotFound,
    UpstreamUnavailable,
)
from handoff_console.services.events import EventHub

__all__ = [
    "ApiError",
    "BadRequest",
    "Conflict",
    "EventHub",
    "NotFound",
    "UpstreamUnavailable",
    "on_resolved",
    "resolved_hooks",
]
