"""Session fixture: environment that points the system's email connector at a local stand-in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def email_system_env() -> Iterator[dict[str, str]]:
    """Environment variables for the email connector of the system fixture."""
    yield {}
