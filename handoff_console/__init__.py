"""The handoff console: librarian, admin and manager web UI and JSON API."""

from __future__ import annotations

from handoff_console.app import create_app
from handoff_console.settings import ConsoleSettings

__all__ = ["ConsoleSettings", "create_app"]
