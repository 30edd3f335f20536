"""The Slack channel's settings, read once from the environment.

Environment: ``SLACK_BOT_TOKEN``, ``SLACK_SIGNING_SECRET``, ``SLACK_API_BASE_URL`` (a
Web API other than https://slack.com/api/, such as a test stand-in).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ric_config import SlackConfig

__all__ = ["CHANNEL", "DEFAULT_API_BASE_URL", "SlackSettings"]

CHANNEL = "slack"
DEFAULT_API_BASE_URL = "https://slack.com/api/"


@dataclass(frozen=True)
class SlackSettings:
    """The Slack channel's settings, read once from the environment."""

    bot_token: str = field(default="", repr=False)
    signing_secret: str = field(default="", repr=False)
    api_base_url: str = DEFAULT_API_BASE_URL

    @classmethod
    def from_env(cls) -> SlackSettings:
        """Read ``SLACK_*`` variables; missing secrets are empty strings."""
        config = SlackConfig()
        base = config.api_base_url or DEFAULT_API_BASE_URL
        return cls(
            bot_token=config.bot_token.get_secret_value(),
            signing_secret=config.signing_secret.get_secret_value(),
            api_base_url=base if base.endswith("/") else base + "/",
        )

    @property
    def missing(self) -> list[str]:
        """Names of the variables the endpoint needs and does not have."""
        needed = {"SLACK_BOT_TOKEN": self.bot_token, "SLACK_SIGNING_SECRET": self.signing_secret}
        return [name for name, value in needed.items() if not value]
