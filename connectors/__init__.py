"""Reader channels, a package each; connectors only translate payloads.

Rasa loads the input channels named in ``credentials.yml``:
``connectors.webchat.WebchatInput``, ``connectors.telegram.TelegramInput``,
``connectors.slack.SlackInput`` and ``connectors.email.EmailInput``. A platform's payload
becomes a Rasa ``UserMessage`` and a bot message becomes a platform call; the facts a
channel learns (delivery receipts, reachability, email threads and the reader behind
an address) are written by the store (:mod:`crm_store.channels`), never here.

Shared by the channels: :mod:`~connectors.shared` (names, outputs, tracker look-ups,
buttons) and :mod:`~connectors.platform_input` (the webhook channels' base).
"""

from __future__ import annotations

__all__: list[str] = []
