"""Fixtures of the dashboard's tests: the console's store, process and API clients."""

from __future__ import annotations

from tests.handoff_console.conftest import api_clients, console, console_store

__all__ = ["api_clients", "console", "console_store"]
