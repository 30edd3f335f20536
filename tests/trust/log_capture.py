"""Capture what reaches the root logger, formatted as one of the project's processes logs.

:func:`capture_logs` routes the root logger into a string for the length of a ``with``
block, in the format ``messaging.logs.configure_logging`` sets up for a process, and puts
the handlers and the level back afterwards.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from messaging.logs import configure_logging
from ric_config import LogConfig

__all__ = ["Captured", "capture_logs"]


@dataclass
class Captured:
    """The log lines written to the root logger while the capture is on."""

    stream: io.StringIO

    def lines(self) -> list[str]:
        """Every line written so far, in order."""
        return self.stream.getvalue().splitlines()

    def entries(self) -> list[dict[str, Any]]:
        """Every line written so far as a JSON object (the ``json`` format)."""
        return [json.loads(line) for line in self.lines() if line]


@contextlib.contextmanager
def capture_logs(process: str, log_format: str = "json") -> Iterator[Captured]:
    """Route the root logger into a string, as ``process`` logs in ``log_format``; undo after.

    Args:
        process: The process name the lines carry, such as ``worker`` or ``rasa``.
        log_format: ``json`` or ``text`` (``RIC_LOG_FORMAT``).
    """
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    root.handlers = [logging.StreamHandler(stream)]
    try:
        configure_logging(process, LogConfig.load({"RIC_LOG_FORMAT": log_format}))
        yield Captured(stream)
    finally:
        root.handlers, level = saved
        root.setLevel(level)
