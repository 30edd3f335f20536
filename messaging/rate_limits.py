"""Rate limits per client for the reader channels, on the ``limits`` package.

One :class:`RateLimits` per process holds a ``limits`` storage (``memory://`` by default,
a Redis URL when several Rasa servers share the load, ``RIC_RATE_LIMIT_STORAGE``) and a
moving-window limiter. A channel asks :meth:`RateLimits.admit` with one key per scope
(the widget: its conversation and its client address; Telegram: the chat; Slack: the
user). Every scope is tested first and counted only when all of them allow the message,
so a refused message costs nothing and never uses up the reader's allowance.

The limits are read from :class:`ric_config.RateLimitConfig` in the ``limits`` syntax
(``20/minute``, ``5/10 seconds; 30/minute``). A refused message is not processed; the
channel tells the reader politely (:func:`slow_down_text`) and how long to wait.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from ric_config import RateLimitConfig

__all__ = [
    "Admission",
    "RateLimits",
    "channel_limits",
    "parse_limits",
    "slow_down_text",
]


def parse_limits(text: str, variable: str) -> list[RateLimitItem]:
    """The limits written in ``text`` (``limits`` syntax, several separated by ``;``).

    Raises:
        ValueError: ``text`` is not a limit; the message names ``variable``.
    """
    try:
        items = list(parse_many(text))
    except ValueError:
        items = []
    if not items:
        raise ValueError(
            f"{variable}: {text!r} is not a rate limit (write e.g. '20/minute' or "
            "'5/10 seconds; 30/minute')"
        )
    return items


@dataclass(frozen=True)
class Admission:
    """Whether a message may go on, and if not, after how many seconds it may.

    Attributes:
        allowed: the message is counted and may be processed.
        scope: the scope whose limit refused it (``""`` when allowed).
        retry_after: whole seconds until the refusing limit has room again.
    """

    allowed: bool
    scope: str = ""
    retry_after: int = 0


class RateLimits:
    """Moving-window limits per scope, on one ``limits`` storage.

    Args:
        scopes: the limits of each scope, by name (``{"session": "20/minute"}``).
        storage: a ``limits`` storage URI: ``memory://`` or ``redis://host:port/db``.
        variables: the environment variable of each scope, for error messages.

    Raises:
        ValueError: a scope's limits or the storage URI cannot be read.
    """

    def __init__(
        self,
        scopes: Mapping[str, str],
        storage: str = "memory://",
        variables: Mapping[str, str] | None = None,
    ) -> None:
        variables = variables or {}
        self.scopes = {
            name: parse_limits(text, variables.get(name, name)) for name, text in scopes.items()
        }
        try:
            self.storage: Storage = storage_from_string(storage)
        except Exception as error:  # limits raises ConfigurationError or a driver's error
            raise ValueError(f"RIC_RATE_LIMIT_STORAGE: cannot use {storage!r}: {error}") from None
        self.limiter = MovingWindowRateLimiter(self.storage)
        # Memory storage answers at once; Redis goes over the network, so off the loop.
        self.in_memory = storage.startswith("memory://")

    def check_now(self, keys: Mapping[str, str]) -> Admission:
        """Whether one more message fits every scope's limits for its key; counts nothing.

        Args:
            keys: the key of each scope to check (a scope not named is not checked).

        Returns:
            The decision, naming the first scope whose limit is full.
        """
        for scope, key in keys.items():
            for item in self.scopes[scope]:
                if not self.limiter.test(item, scope, key):
                    reset, _ = self.limiter.get_window_stats(item, scope, key)
                    wait = max(1, math.ceil(reset - time.time()))
                    return Admission(False, scope, wait)
        return Admission(True)

    def count_now(self, keys: Mapping[str, str]) -> None:
        """Count one message against every scope's limits for its key."""
        for scope, key in keys.items():
            for item in self.scopes[scope]:
                self.limiter.hit(item, scope, key)

    def admit_now(self, keys: Mapping[str, str]) -> Admission:
        """:meth:`check_now`, then :meth:`count_now` when every limit allows the message.

        A refused message is not counted anywhere.
        """
        admission = self.check_now(keys)
        if admission.allowed:
            self.count_now(keys)
        return admission

    async def admit(self, keys: Mapping[str, str]) -> Admission:
        """:meth:`admit_now` for async code: a Redis storage is asked from a thread."""
        if self.in_memory:
            return self.admit_now(keys)
        return await asyncio.to_thread(self.admit_now, keys)

    def reset(self) -> None:
        """Forget every count (tests, and an operator lifting a limit)."""
        self.storage.reset()  # type: ignore[no-untyped-call]


def channel_limits(scope: str, config: RateLimitConfig | None = None) -> RateLimits:
    """The limits of one channel scope (``webchat``, ``telegram`` or ``slack``).

    ``webchat`` has two scopes, ``session`` and ``ip``; the others have one, named after
    the channel.

    Raises:
        ValueError: a limit or the storage in the environment cannot be read.
    """
    config = config or RateLimitConfig()
    variables = RateLimitConfig.variables()
    if scope == "webchat":
        scopes = {"session": config.webchat_session, "ip": config.webchat_ip}
        names = {"session": variables["webchat_session"], "ip": variables["webchat_ip"]}
    else:
        scopes = {scope: str(getattr(config, scope))}
        names = {scope: variables[scope]}
    return RateLimits(scopes, config.storage, names)


def slow_down_text(retry_after: int) -> str:
    """What a reader who sends too fast is told (the message was not processed)."""
    wait = "a minute" if retry_after >= 60 else f"{retry_after} seconds"
    if retry_after == 1:
        wait = "a second"
    return (
        "You're sending messages faster than I can answer them. "
        f"Please wait {wait}, then send that message again."
    )
