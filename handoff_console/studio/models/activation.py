"""Make a model version live in the running Rasa server, with no downtime.

Rasa 3.6's ``PUT /model`` (``{"model_file": path}``, the server's ``?token=``) loads
the new model next to the old one and then swaps ``app.ctx.agent``; the lock store is
carried over, so a conversation mid-turn finishes on the old model and its next
message goes to the new one. Channels look the agent up per message, so no connection
drops. ``GET /status`` names the loaded ``model_file``, which is how the console knows
the live version.

The tree of errors::

    ActivationError
    ├── RegressionBlocked   the new version regresses and no override was given
    └── RasaModelError      Rasa could not be reached or refused the model
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from sqlalchemy.orm import Session

from crm_store.audit import audit
from handoff_console.studio.models.comparison import compare
from handoff_console.studio.models.registry import ActiveModel, ModelRegistry, ModelVersion

__all__ = [
    "ActivationError",
    "RasaModelError",
    "RegressionBlocked",
    "activate",
    "live_version",
    "load_into_rasa",
    "rasa_model_file",
    "record_activation",
]

LOAD_TIMEOUT_SECONDS = 300.0
"""Loading a model (the sentence encoder included) may take a while on a busy machine."""
STATUS_TIMEOUT_SECONDS = 20.0
"""``GET /status`` waits while Rasa loads a model (the load holds its event loop)."""


class ActivationError(Exception):
    """Base class of the activation errors."""


class RegressionBlocked(ActivationError):
    """The version regresses beyond the tolerance; ``comparison`` says where."""

    def __init__(self, comparison: dict[str, Any]) -> None:
        super().__init__("; ".join(comparison["regressions"]))
        self.comparison = comparison


class RasaModelError(ActivationError):
    """Rasa could not be reached, or refused to load the model."""


async def _call(
    method: str, url: str, token: str, body: Any = None, seconds: float = STATUS_TIMEOUT_SECONDS
) -> tuple[int, Any]:
    timeout = aiohttp.ClientTimeout(total=seconds)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as client,
            client.request(method, url, params={"token": token}, json=body) as reply,
        ):
            text = await reply.text()
            try:
                return reply.status, await reply.json(content_type=None) if text else None
            except ValueError:
                return reply.status, text
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        raise RasaModelError(
            f"the Rasa server could not be reached ({type(error).__name__})"
        ) from error


async def rasa_model_file(rasa_url: str, token: str) -> str | None:
    """The file name of the model Rasa is running (``GET /status``), or None if it has none.

    Raises:
        RasaModelError: Rasa could not be reached or refused the token.
    """
    status, body = await _call("GET", f"{rasa_url.rstrip('/')}/status", token)
    if status == 409:  # Rasa answers 409 while no model is loaded
        return None
    if status != 200 or not isinstance(body, dict):
        raise RasaModelError(f"Rasa's /status answered HTTP {status}")
    return str(body.get("model_file") or "") or None


async def live_version(
    registry: ModelRegistry, rasa_url: str, token: str
) -> tuple[ModelVersion | None, str | None]:
    """The registry version Rasa is running (None if it is not one), and its file name."""
    model_file = await rasa_model_file(rasa_url, token)
    return registry.by_file_name(model_file), model_file


async def load_into_rasa(rasa_url: str, token: str, version: ModelVersion) -> None:
    """``PUT /model`` with the version's file; returns once Rasa answers with it loaded.

    Raises:
        RasaModelError: Rasa could not be reached, or did not load the model.
    """
    url = f"{rasa_url.rstrip('/')}/model"
    status, body = await _call(
        "PUT", url, token, {"model_file": str(version.path.resolve())}, LOAD_TIMEOUT_SECONDS
    )
    if status != 204:
        message = body.get("message") if isinstance(body, dict) else body
        raise RasaModelError(f"Rasa did not load {version.label} (HTTP {status}): {message}")


async def activate(
    registry: ModelRegistry,
    number: int,
    *,
    rasa_url: str,
    token: str,
    activated_by: str,
    tolerance: float,
    override: bool = False,
    rollback: bool = False,
) -> tuple[ActiveModel, dict[str, Any]]:
    """Check the version against the live one, load it into Rasa, record it as active.

    Args:
        registry: The registry.
        number: The version to make live.
        rasa_url: The Rasa server.
        token: Its API token.
        activated_by: Who asked (recorded in ``active.json``).
        tolerance: ``RIC_STUDIO_REGRESSION_TOLERANCE``.
        override: Go live despite regressions.
        rollback: A roll back to an earlier live version: no regression check.

    Returns:
        The new active record and the comparison it was judged by.

    Raises:
        UnknownVersion: No such version.
        RegressionBlocked: It regresses and ``override`` is false.
        RasaModelError: Rasa could not load it (the live model is unchanged).
    """
    version = registry.get(number)
    live, _file = await live_version(registry, rasa_url, token)
    comparison = compare(version, live, tolerance)
    if comparison["blocked"] and not (override or rollback):
        raise RegressionBlocked(comparison)
    await load_into_rasa(rasa_url, token, version)
    how = "rollback" if rollback else "override" if comparison["blocked"] else "activate"
    return registry.set_active(number, activated_by, how), comparison


def record_activation(
    session: Session,
    staff_id: int | None,
    active: ActiveModel,
    comparison: dict[str, Any],
    reason: str = "",
) -> None:
    """Audit an activation; an override keeps the regressions it overrode and the reason."""
    detail: dict[str, Any] = {"previous": active.previous, "by": active.activated_by}
    if active.how == "override":
        detail.update(regressions=comparison["regressions"], reason=reason)
    audit(session, staff_id, f"studio.model.{active.how}", f"model:{active.label}", **detail)
