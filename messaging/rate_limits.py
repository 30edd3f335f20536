"""Rate limits per client for the reader channels, on the ``limits`` package.

One :class:`RateLimits` per process holds a ``limits`` storage (``memory://`` by default,
a Redis URL when several Rasa servers share the load, ``RIC_RATE_LIMIT_STORAGE``) and a
moving-window limiter. A channel asks :meth:`RateLimits.admit` with one key per scope
(the widget: its conversation and its client address; Telegram: the chat; Slack: the
user).

**Admission is one atomic step per limit.** ``limits``' moving-window ``hit`` checks and
counts in one operation (a Lua script on Redis, a synchronous call in memory), so however
many messages arrive at once, from however many Rasa servers, no more than the limit are
admitted. A message is hit against each scope's limits in turn; when one refuses, the hits
already made for that message are taken back (:meth:`RateLimits.refund_now`), so a
refused message costs nothing. A message the channel then refuses for another reason (its
conversation's line is full) is refunded the same way. Between a hit and its refund the
count is one higher than what was admitted, so a concurrent message may be refused that a
moment later would have fitted: the limits err on the side of refusing, never of letting
one more through.

Only the ``memory://`` and Redis storages (``redis://``, ``rediss://``, ``redis+unix://``,
``redis+sentinel://``, ``redis+cluster://``) are accepted: a refund removes the newest
entry of the moving window, which these storages keep newest first (a list in memory,
``LPUSH`` on Redis).

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
from limits.storage import MemoryStorage, RedisStorage, Storage, storage_from_string
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
        if not isinstance(self.storage, MemoryStorage | RedisStorage):
            raise ValueError(
                f"RIC_RATE_LIMIT_STORAGE: cannot use {storage!r}: write memory:// or a Redis URL"
            )
        self.limiter = MovingWindowRateLimiter(self.storage)
        # Memory storage answers at once; Redis goes over the network, so off the loop.
        self.in_memory = isinstance(self.storage, MemoryStorage)

    def _hit(self, scope: str, key: str) -> Admission:
        """Count one message against each limit of one scope, atomically per limit."""
        made: list[RateLimitItem] = []
        for item in self.scopes[scope]:
            if not self.limiter.hit(item, scope, key):
                for done in made:
                    self._take_back(done, scope, key)
                reset, _ = self.limiter.get_window_stats(item, scope, key)
                return Admission(False, scope, max(1, math.ceil(reset - time.time())))
            made.append(item)
        return Admission(True)

    def _take_back(self, item: RateLimitItem, scope: str, key: str) -> None:
        """Remove the newest entry of one moving window (the one a refused message made)."""
        window = item.key_for(scope, key)
        if isinstance(self.storage, MemoryStorage):
            entries = self.storage.events.get(window)
            if entries:
                del entries[0]  # newest first, like Redis's LPUSH
        else:
            assert isinstance(self.storage, RedisStorage)
            self.storage.storage.lpop(window)

    def admit_now(self, keys: Mapping[str, str]) -> Admission:
        """Count one message against every scope's limits for its key, if all allow it.

        Each limit is hit atomically; when one refuses, the message's earlier hits are
        taken back, so a refused message is not counted anywhere.

        Args:
            keys: the key of each scope (a scope not named is not counted).

        Returns:
            The decision, naming the first scope whose limit is full.
        """
        admitted: list[tuple[str, str]] = []
        for scope, key in keys.items():
            admission = self._hit(scope, key)
            if not admission.allowed:
                self.refund_now(dict(admitted))
                return admission
            admitted.append((scope, key))
        return Admission(True)

    def refund_now(self, keys: Mapping[str, str]) -> None:
        """Take back one admitted message from every scope's limits for its key.

        For a message :meth:`admit_now` admitted that the channel then refused for
        another reason (a full line), so that it does not use up the reader's allowance.
        """
        for scope, key in keys.items():
            for item in self.scopes[scope]:
                self._take_back(item, scope, key)

    async def admit(self, keys: Mapping[str, str]) -> Admission:
        """:meth:`admit_now` for async code: a Redis storage is asked from a thread."""
        if self.in_memory:  # no await: nothing else runs in between
            return self.admit_now(keys)
        return await asyncio.to_thread(self.admit_now, keys)

    async def refund(self, keys: Mapping[str, str]) -> None:
        """:meth:`refund_now` for async code: a Redis storage is asked from a thread."""
        if self.in_memory:
            self.refund_now(keys)
        else:
            await asyncio.to_thread(self.refund_now, keys)

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
