"""The trust tests' own system: the README's run command with small rate limits and JSON logs.

Started once per session (about a minute) and shared by the rate-limit and log tests;
the channel stand-ins are the session's (``tests/standins``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.system import RunningSystem, start_system

SESSION_LIMIT = 4
IP_LIMIT = 6
CHAT_LIMIT = 3


@pytest.fixture(scope="session")
def limited(
    tmp_path_factory: pytest.TempPathFactory,
    telegram_system_env: dict[str, str],
    slack_system_env: dict[str, str],
) -> Iterator[RunningSystem]:
    """The whole system with small rate limits, logging JSON lines."""
    env = {
        **telegram_system_env,
        **slack_system_env,
        "RIC_RATE_LIMIT_WEBCHAT_SESSION": f"{SESSION_LIMIT}/minute",
        "RIC_RATE_LIMIT_WEBCHAT_IP": f"{IP_LIMIT}/minute",
        "RIC_RATE_LIMIT_TELEGRAM": f"{CHAT_LIMIT}/minute",
        "RIC_RATE_LIMIT_SLACK": f"{CHAT_LIMIT}/minute",
        "RIC_TRUSTED_PROXIES": "127.0.0.1",
        "RIC_LOG_FORMAT": "json",
    }
    running = start_system(tmp_path_factory.mktemp("limited"), extra_env=env)
    try:
        yield running
    finally:
        running.stop()
