"""A small client for the parts of Rasa's HTTP API the console and the worker use.

The tree of errors::

    RasaError
    ├── RasaUnreachable   no answer (refused, timed out, DNS)
    └── RasaRejected      Rasa answered with an HTTP error
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import aiohttp

__all__ = [
    "RasaClient",
    "RasaError",
    "RasaRejected",
    "RasaUnreachable",
    "librarian_message",
    "system_message",
]


class RasaError(Exception):
    """Base class for every error the Rasa client raises."""


class RasaUnreachable(RasaError):
    """Rasa could not be reached."""


class RasaRejected(RasaError):
    """Rasa answered with an HTTP error status."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"Rasa answered HTTP {status}: {body[:200]}")
        self.status = status


class RasaClient:
    """Calls Rasa's conversation API with the server's auth token.

    One ``aiohttp.ClientSession`` is opened lazily per event loop and reused, so a
    relay costs one HTTP round trip on a kept-alive connection.
    """

    def __init__(self, base_url: str, token: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._client: aiohttp.ClientSession | None = None

    def _session(self) -> aiohttp.ClientSession:
        if self._client is None or self._client.closed:
            self._client = aiohttp.ClientSession(timeout=self.timeout)
        return self._client

    async def close(self) -> None:
        """Close the pooled HTTP connections."""
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def _post(self, path: str, params: Mapping[str, str], body: Any) -> Any:
        query = {**params, "token": self.token}
        try:
            async with self._session().post(
                f"{self.base_url}{path}", params=query, json=body
            ) as reply:
                text = await reply.text()
                if reply.status >= 400:
                    raise RasaRejected(reply.status, text)
                return text
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise RasaUnreachable(f"{type(error).__name__}: {error}") from error

    async def append_events(
        self,
        sender_id: str,
        events: list[dict[str, Any]],
        *,
        output_channel: str | None = None,
        execute_side_effects: bool = False,
    ) -> None:
        """Append events to a conversation's tracker.

        With ``execute_side_effects``, bot messages are delivered through
        ``output_channel``'s ``get_output_channel()``.
        """
        params: dict[str, str] = {}
        if execute_side_effects:
            params["execute_side_effects"] = "true"
        if output_channel:
            params["output_channel"] = output_channel
        await self._post(f"/conversations/{_quote(sender_id)}/tracker/events", params, events)

    async def trigger_intent(
        self,
        sender_id: str,
        intent: str,
        *,
        output_channel: str,
        entities: dict[str, Any] | None = None,
    ) -> None:
        """Make the bot act as if the reader had expressed ``intent``."""
        body: dict[str, Any] = {"name": intent}
        if entities:
            body["entities"] = entities
        await self._post(
            f"/conversations/{_quote(sender_id)}/trigger_intent",
            {"output_channel": output_channel},
            body,
        )

    async def get_tracker(self, sender_id: str) -> dict[str, Any]:
        """The conversation's tracker (current state, no event history)."""
        try:
            async with self._session().get(
                f"{self.base_url}/conversations/{_quote(sender_id)}/tracker",
                params={"token": self.token, "include_events": "NONE"},
            ) as reply:
                if reply.status >= 400:
                    raise RasaRejected(reply.status, await reply.text())
                body: dict[str, Any] = await reply.json(content_type=None)
                return body
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise RasaUnreachable(f"{type(error).__name__}: {error}") from error


def _quote(sender_id: str) -> str:
    return quote(sender_id, safe="")


def librarian_message(text: str, librarian_id: int, librarian_name: str) -> dict[str, Any]:
    """A ``bot`` event that names the librarian who wrote it."""
    return {
        "event": "bot",
        "text": text,
        "metadata": {"librarian_id": librarian_id, "librarian_name": librarian_name},
    }


def system_message(text: str) -> dict[str, Any]:
    """A ``bot`` event the store records as a system message (not the bot, not a person)."""
    return {"event": "bot", "text": text, "metadata": {"sender_kind": "system"}}
