"""Make Sanic 21.12's WebSocket implementation work on Python 3.11.

Sanic 21.12 calls ``asyncio.wait()`` with a bare coroutine, which Python 3.11
forbids (``TypeError: Passing coroutines is forbidden``), so every ``recv()`` fails.
Rasa pins Sanic 21.12, so we give its websocket module an ``asyncio`` whose
``wait`` wraps coroutines in tasks first. Futures pass through unchanged, so the
module's identity checks on ``recv_cancel`` still hold.
"""

from __future__ import annotations

import asyncio
import types
from collections.abc import Iterable
from typing import Any

_real_wait = asyncio.wait
_patched = False


async def _wait(aws: Iterable[Any], *args: Any, **kwargs: Any) -> Any:
    return await _real_wait([asyncio.ensure_future(a) for a in aws], *args, **kwargs)


def patch_sanic_websockets() -> None:
    """Install the shim once; safe to call from every module that needs it."""
    global _patched
    if _patched:
        return
    from sanic.server.websockets import impl

    shim = types.SimpleNamespace(**vars(asyncio))
    shim.wait = _wait
    impl.asyncio = shim  # type: ignore[assignment]
    _patched = True
