"""Put the conversation id on every log line of a Rasa HTTP request about one conversation.

Rasa's HTTP API names the conversation in its path (``/conversations/<id>/tracker/events``,
``…/trigger_intent``, ``…/tracker``), and that id is Rasa's sender id, the same id the
channels put on their lines. :func:`install` wraps ``rasa.core.run.configure_app``,
which makes the Rasa server's Sanic app (with or without the HTTP API) and mounts the
channels' webhooks, so that every app it makes goes through
:func:`messaging.logs.scope_requests`: each request starts about no conversation (an id a
webhook set for one request does not stay on the next request of the same keep-alive
connection), and one whose route has a ``conversation_id`` parameter is about that
conversation, from routing through Rasa's own lines to Sanic's access line.

Importing this module changes nothing; :func:`install` does, once, and is called at the
Rasa process's start-up by :func:`rasa_plugins.install` (before Rasa makes its app).
"""

from __future__ import annotations

from typing import Any

import rasa.core.run as rasa_run

from messaging.logs import scope_requests

__all__ = ["install", "scoped_configure_app"]

_original_configure_app = rasa_run.configure_app
_installed = False


def scoped_configure_app(*args: Any, **kwargs: Any) -> Any:
    """Rasa's ``configure_app``, whose app then scopes each request to its conversation."""
    app = _original_configure_app(*args, **kwargs)
    scope_requests(app)
    return app


def install() -> None:
    """Make Rasa's ``configure_app`` scope requests, once (see :func:`rasa_plugins.install`)."""
    global _installed
    if _installed:
        return
    rasa_run.configure_app = scoped_configure_app
    _installed = True
