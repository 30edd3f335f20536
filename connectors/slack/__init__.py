"""The Slack channel: a slack_bolt ``AsyncApp`` behind the Sanic adapter, inside the Rasa server.

Rasa loads :class:`SlackInput` from ``credentials.yml`` (``connectors.slack.SlackInput``).
Modules: :mod:`~connectors.slack.channel` (the endpoint), :mod:`~connectors.slack.listeners`
(Bolt listeners: messages, mentions, buttons, retries), :mod:`~connectors.slack.output`
(``chat.postMessage``), :mod:`~connectors.slack.render` (pure translation to Block Kit)
and :mod:`~connectors.slack.settings`.
"""

from __future__ import annotations

from connectors.slack.channel import SlackInput
from connectors.slack.output import SlackAddress, SlackOutput
from connectors.slack.settings import SlackSettings

__all__ = ["SlackAddress", "SlackInput", "SlackOutput", "SlackSettings"]
