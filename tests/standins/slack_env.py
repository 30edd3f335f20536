"""Session fixture: environment that points the system's slack connector at a local stand-in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.standins.slack_api import SlackApiStandIn

SLACK_TOKEN = "xoxb-stand-in-token"
SLACK_SIGNING_SECRET = "stand-in-signing-secret-0123456789"


@pytest.fixture(scope="session")
def slack_api() -> Iterator[SlackApiStandIn]:
    """The Web API stand-in, running for the whole test session."""
    standin = SlackApiStandIn(SLACK_TOKEN).start()
    yield standin
    standin.stop()


@pytest.fixture(scope="session")
def slack_system_env(slack_api: SlackApiStandIn) -> Iterator[dict[str, str]]:
    """Environment variables for the slack connector of the system fixture."""
    yield {
        "SLACK_BOT_TOKEN": SLACK_TOKEN,
        "SLACK_SIGNING_SECRET": SLACK_SIGNING_SECRET,
        "SLACK_API_BASE_URL": slack_api.base_url,
    }
