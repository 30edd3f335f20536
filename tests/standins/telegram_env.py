"""Session fixture: environment that points the system's telegram connector at a local stand-in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.standins.telegram_api import TelegramApiStandIn

TELEGRAM_TOKEN = "123456:test-token-for-the-stand-in"
TELEGRAM_SECRET = "stand-in-secret_token-42"


@pytest.fixture(scope="session")
def telegram_api() -> Iterator[TelegramApiStandIn]:
    """The Bot API stand-in, running for the whole test session."""
    standin = TelegramApiStandIn(TELEGRAM_TOKEN).start()
    yield standin
    standin.stop()


@pytest.fixture(scope="session")
def telegram_system_env(telegram_api: TelegramApiStandIn) -> Iterator[dict[str, str]]:
    """Environment variables for the telegram connector of the system fixture."""
    yield {
        "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
        "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
        "TELEGRAM_API_BASE_URL": telegram_api.base_url,
    }
