"""One log format for every process, with the conversation id on each line about one.

Every process (Rasa with the channels, the action server, the console, the worker)
calls :func:`configure_logging` once at start-up. It writes to standard error, which
the launcher's supervisor copies into ``var/log/<process>.log`` and rotates by size
(``launcher.supervisor``). The format is ``RIC_LOG_FORMAT`` (:class:`ric_config.LogConfig`):

- ``text``: ``2026-12-06 14:03:38,123 INFO worker.process [conv=abc123] message``;
- ``json``: one JSON object per line with ``time`` (UTC, ISO 8601), ``level``,
  ``logger``, ``process``, ``message``, ``conversation_id``, ``conversation_row`` when
  the line came from a console request about one stored conversation, and, for an
  exception, ``exception`` (the traceback as text).

**The conversation id** is always Rasa's sender id, the same id in every process, so
one search for it finds the widget's, Rasa's, the actions', the console's and the
worker's lines about that conversation. Code that works on one conversation runs
inside :func:`conversation_scope` or calls :func:`set_conversation`: the widget's
socket and line, the Telegram and Slack webhooks, the action server's webhook, the
email channel for each mail, and the worker for each follow-up, survey, reminder,
handoff and retried librarian message it handles. A filter on every handler copies the
id from a context variable onto each record, so the lines of Rasa, the actions and our
own code logged while answering that conversation all carry it, with no change to their
calls. asyncio copies context variables into the tasks a request starts (and
``asyncio.to_thread`` into its thread), so the id follows the turn. A record that names
its conversation itself (``extra={"conversation_id": …}``) keeps that id.

**HTTP requests** (:func:`scope_requests`, installed on the Rasa server by
:mod:`rasa_plugins.request_scope` and on the console by its ``create_app``): every
request starts about no conversation, so an id set by one request never leaks onto the
next request of the same keep-alive connection, and a request whose route has a
``conversation_id`` parameter is about that conversation from routing to its access
line. In Rasa's HTTP API (``/conversations/<id>/tracker/events``, ``…/trigger_intent``)
that parameter is the sender id. In the console (``/api/conversations/<id>/…``,
``/conversations/<id>``) it is the reader store's row id: the line gets it as
``conversation_row`` at once, and the sender id is looked up (one query) only when the
request logs its first line, then kept for the request's other lines; a request that
logs nothing costs nothing.

**No per-job noise.** APScheduler logs every run of every job at INFO ("Running job …
executed successfully"), which is about a hundred lines a minute for the worker's
5-second jobs; its loggers are set to WARNING, and a job logs one summary line itself
when it did some work.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
import threading
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from ric_config import LogConfig

if TYPE_CHECKING:
    from sanic import Sanic
    from sanic.request import Request

__all__ = [
    "CONVERSATION_ID",
    "CONVERSATION_ROW",
    "ConversationFilter",
    "DeferredConversation",
    "JsonFormatter",
    "configure_logging",
    "conversation_scope",
    "current_conversation",
    "scope_requests",
    "set_conversation",
]

CONVERSATION_ID: ContextVar[str | None] = ContextVar("ric_conversation_id", default=None)
"""The conversation the current code works on (Rasa's sender id), if known."""

CONVERSATION_ROW: ContextVar[int | None] = ContextVar("ric_conversation_row", default=None)
"""The reader store's row id of that conversation, when the code knows only that."""

QUIET_LOGGERS = ("apscheduler",)
"""Loggers held at WARNING: their INFO lines say nothing an operator needs."""

SANIC_LOGGERS = ("sanic.root", "sanic.error", "sanic.access")
"""Sanic's loggers, which get handlers of their own when an app is made; they would print
each line twice (theirs and the root's), so they hand their lines to the root logger."""

ROUTE_PARAMETER = "conversation_id"
"""The route parameter that names a conversation, in Rasa's HTTP API and the console."""

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(conversation)s %(message)s"


class DeferredConversation:
    """A sender id looked up the first time a log line needs it, then remembered.

    Thread-safe (a request's lines may come from ``asyncio.to_thread`` workers too). A
    line logged while the lookup itself runs (the database's own logging) gets no id
    rather than recursing; a lookup that fails gives no id, once, not a failed line.
    """

    def __init__(self, lookup: Callable[[], str | None]) -> None:
        self._lookup = lookup
        self._lock = threading.RLock()
        self._looking = False
        self._done = False
        self._value: str | None = None

    def value(self) -> str | None:
        """The sender id; runs the lookup on the first call only."""
        with self._lock:
            if self._done or self._looking:
                return self._value
            self._looking = True
            try:
                self._value = self._lookup() or None
            except Exception:  # a log line must not fail over its id
                self._value = None
            finally:
                self._looking = False
                self._done = True
            return self._value


_DEFERRED: ContextVar[DeferredConversation | None] = ContextVar(
    "ric_conversation_deferred", default=None
)


def current_conversation() -> str | None:
    """The sender id of the conversation the current code works on, if any."""
    known = CONVERSATION_ID.get()
    if known is not None:
        return known
    deferred = _DEFERRED.get()
    return deferred.value() if deferred is not None else None


def set_conversation(
    conversation_id: str | None,
    *,
    row: int | None = None,
    lookup: Callable[[], str | None] | None = None,
) -> None:
    """Mark the rest of the current task (and the tasks it starts) as about one conversation.

    Args:
        conversation_id: its sender id, or None for "no conversation" (or not known yet).
        row: its row id in the reader store, when the caller has that instead.
        lookup: finds the sender id when a line first needs it (with ``row``).
    """
    CONVERSATION_ID.set(conversation_id or None)
    CONVERSATION_ROW.set(row)
    _DEFERRED.set(DeferredConversation(lookup) if lookup is not None else None)


@contextlib.contextmanager
def conversation_scope(conversation_id: str | None) -> Iterator[None]:
    """Log lines written inside the block carry ``conversation_id`` (a sender id)."""
    tokens = (
        CONVERSATION_ID.set(conversation_id or None),
        CONVERSATION_ROW.set(None),
        _DEFERRED.set(None),
    )
    try:
        yield
    finally:
        _DEFERRED.reset(tokens[2])
        CONVERSATION_ROW.reset(tokens[1])
        CONVERSATION_ID.reset(tokens[0])


def scope_requests(app: Sanic, lookup: Callable[[int], str | None] | None = None) -> None:
    """Make each request of ``app`` about the conversation its route names, or about none.

    Two of Sanic's inline request signals, which run in the request's own task: at
    ``http.lifecycle.handle`` (before routing) the conversation is cleared; at
    ``http.routing.after`` a ``conversation_id`` route parameter sets it, so the
    middleware, the handler and the access line all carry it.

    Args:
        app: the Sanic app; call before it starts serving.
        lookup: None when the parameter is the sender id (Rasa's HTTP API); else the
            parameter is a reader-store row id (an ``int``) and ``lookup(row)`` gives its
            sender id, called only when the request logs a line (the console).
    """

    async def clear(request: Request) -> None:
        set_conversation(None)

    async def routed(request: Request, **_: Any) -> None:
        named = request.match_info.get(ROUTE_PARAMETER)
        if named is None or named == "":
            return
        if lookup is None:
            # Sanic hands Rasa the segment still percent-encoded; the channels log it
            # decoded (``email:…``, not ``email%3A…``).
            set_conversation(unquote(str(named)))
        elif isinstance(named, int):
            set_conversation(None, row=named, lookup=lambda: lookup(named))

    app.signal("http.lifecycle.handle")(clear)
    app.signal("http.routing.after")(routed)


class ConversationFilter(logging.Filter):
    """Puts the current conversation on every record (``conversation_id``, ``conversation_row``).

    Sanic's access lines carry their request only in attributes, which our formats do
    not print; the filter gives them the message ``<method> <url> <status> <bytes>``.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Add the attributes; never drops a record."""
        current = getattr(record, "conversation_id", None) or current_conversation()
        row = getattr(record, "conversation_row", None) or CONVERSATION_ROW.get()
        record.conversation_id = current
        record.conversation_row = row
        marks = [f"conv={current}"] if current else []
        marks += [f"row={row}"] if row is not None else []
        record.conversation = f" [{' '.join(marks)}]" if marks else ""
        if record.name == "sanic.access" and not record.msg and hasattr(record, "request"):
            record.msg = "%s %s %s"
            record.args = (
                record.request,
                getattr(record, "status", ""),
                getattr(record, "byte", ""),
            )
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def __init__(self, process: str) -> None:
        super().__init__()
        self.process = process

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line (the message is formatted with its arguments)."""
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "process": self.process,
            "message": record.getMessage(),
            "conversation_id": getattr(record, "conversation_id", None) or current_conversation(),
        }
        row = getattr(record, "conversation_row", None) or CONVERSATION_ROW.get()
        if row is not None:
            entry["conversation_row"] = row
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(process: str, config: LogConfig | None = None) -> None:
    """Give the root logger our format, level and conversation filter.

    Handlers already on the root logger (Rasa and rasa-sdk install their own) keep
    their streams and get the format and filter; without any, one writing to standard
    error is added. Sanic's loggers lose the handlers a Sanic app gave them and pass
    their lines to the root logger, so call this after making the app. Safe to call
    more than once.

    Args:
        process: the process's name in JSON lines (``rasa``, ``actions``, ``console``,
            ``worker``).
        config: the settings; read from the environment when omitted.
    """
    config = config or LogConfig()
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler(sys.stderr))
    formatter: logging.Formatter = (
        JsonFormatter(process) if config.log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    for handler in root.handlers:
        handler.setFormatter(formatter)
        if not any(isinstance(f, ConversationFilter) for f in handler.filters):
            handler.addFilter(ConversationFilter())
    for name in SANIC_LOGGERS:
        sanic_logger = logging.getLogger(name)
        sanic_logger.handlers.clear()
        sanic_logger.propagate = True
    root.setLevel(config.log_level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
