"""Make Sanic 21.12's WebSocket implementation work on Python 3.11.

Sanic 21.12 calls ``asyncio.wait()`` with a bare coroutine, which Python 3.11
forbids (``TypeError: Passing coroutines is forbidden``), so every ``recv()`` fails.
Rasa pins Sanic 21.12, so we give its websocket module an ``asyncio`` whose
``wait`` wraps coroutines in tasks first. Futures pass through unchanged, so the
module's identity checks on ``recv_cancel`` still hold.

Importing this module changes nothing; :func:`install` does, once, and is called at the
Rasa process's start-up by :func:`rasa_plugins.install`.
"""

from __future__ import annotations

import asyncio
import types
from collections.abc import Iterable
from typing import Any

from sanic.server.websockets import impl

__all__ = ["install"]

_real_wait = asyncio.wait
_patched = False


async def _wait(aws: Iterable[Any], *args: Any, **kwargs: Any) -> Any:
    return await _real_wait([asyncio.ensure_future(a) for a in aws], *args, **kwargs)


def install() -> None:
    """Give Sanic's websocket module the shim, once (see :func:`rasa_plugins.install`)."""
    global _patched
    if _patched:
        return
    shim = types.SimpleNamespace(**vars(asyncio))
    shim.wait = _wait
    impl.asyncio = shim  # type: ignore[assignment,attr-defined,unused-ignore]
    _patched = True
