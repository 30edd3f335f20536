"""One log format for every process, with the conversation id on each line about one.

Every process (Rasa with the channels, the action server, the console, the worker)
calls :func:`configure_logging` once at start-up. It writes to standard error, which
the launcher's supervisor copies into ``var/log/<process>.log`` and rotates by size
(``launcher.supervisor``). The format is ``RIC_LOG_FORMAT`` (:class:`ric_config.LogConfig`):

- ``text``: ``2026-12-06 14:03:38,123 INFO worker.process [conv=abc123] message``;
- ``json``: one JSON object per line with ``time`` (UTC, ISO 8601), ``level``,
  ``logger``, ``process``, ``message``, ``conversation_id`` and, for an exception,
  ``exception`` (the traceback as text).

**The conversation id.** Code that works on one conversation runs inside
:func:`conversation_scope` (the widget's socket and line, the Telegram and Slack
webhooks, the action server's webhook). A filter on every handler copies the id from a
context variable onto each record, so the lines of Rasa, the actions and our own code
logged while answering that conversation all carry it, with no change to their calls.
asyncio copies context variables into the tasks a request starts, so the id follows
the turn.

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
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime

from ric_config import LogConfig

__all__ = [
    "CONVERSATION_ID",
    "ConversationFilter",
    "JsonFormatter",
    "configure_logging",
    "conversation_scope",
    "set_conversation",
]

CONVERSATION_ID: ContextVar[str | None] = ContextVar("ric_conversation_id", default=None)
"""The conversation the current code works on (Rasa's sender id), if any."""

QUIET_LOGGERS = ("apscheduler",)
"""Loggers held at WARNING: their INFO lines say nothing an operator needs."""

SANIC_LOGGERS = ("sanic.root", "sanic.error", "sanic.access")
"""Sanic's loggers, which get handlers of their own when an app is made; they would print
each line twice (theirs and the root's), so they hand their lines to the root logger."""

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s%(conversation)s %(message)s"


def set_conversation(conversation_id: str | None) -> None:
    """Mark the rest of the current task (and the tasks it starts) as about one conversation."""
    CONVERSATION_ID.set(conversation_id or None)


@contextlib.contextmanager
def conversation_scope(conversation_id: str | None) -> Iterator[None]:
    """Log lines written inside the block carry ``conversation_id``."""
    token = CONVERSATION_ID.set(conversation_id or None)
    try:
        yield
    finally:
        CONVERSATION_ID.reset(token)


class ConversationFilter(logging.Filter):
    """Puts the current conversation id on every record (``record.conversation_id``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Add the attributes; never drops a record."""
        current = getattr(record, "conversation_id", None) or CONVERSATION_ID.get()
        record.conversation_id = current
        record.conversation = f" [conv={current}]" if current else ""
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
            "conversation_id": getattr(record, "conversation_id", None) or CONVERSATION_ID.get(),
        }
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
