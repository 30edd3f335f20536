"""Admins see and lift login throttles (`handoff_console.login_throttle`)."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.orm import Session

from crm_store import clock
from handoff_console import api, login_throttle
from handoff_console.schemas.auth import ClearThrottleBody, Throttle, ThrottleCleared
from handoff_console.services.errors import BadRequest

bp = Blueprint("api_login_throttles")

ADMINS = ("admin",)
LIST = api.Operation(
    "Login throttles (admins): each (user name, address) pair with failed logins "
    "that count, its failures and how long it must still wait",
    api.ItemList(Throttle),
    errors={403: "Admins only"},
    roles=ADMINS,
    tag="auth",
)
CLEAR = api.Operation(
    "Lift a user name's login throttle (admins), from one address or from every "
    "address; audited as login_throttle.clear",
    ThrottleCleared,
    errors={400: "bad_request", 403: "Admins only"},
    body=ClearThrottleBody,
    roles=ADMINS,
    tag="auth",
)


def throttle_json(throttle: login_throttle.Throttle) -> dict[str, Any]:
    """One throttle as the API shows it."""
    return Throttle.view_of(throttle, retry_after=throttle.retry_after_seconds(clock.now()))


@api.route(bp, "GET", "/api/login-throttles", LIST)
async def list_throttles(request: Request) -> HTTPResponse:
    """Every (user name, address) pair with failed logins that count, longest wait first."""

    def _read(session: Session) -> list[dict[str, Any]]:
        return [throttle_json(t) for t in login_throttle.throttles(session)]

    return response.json({"items": await api.in_store(request, _read)})


def _text(body: dict[str, Any], field: str, *, required: bool, limit: int) -> str | None:
    value = body.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise BadRequest("bad_request", f"{field} must be text of 1 to {limit} characters.")
    return value.strip()


@api.route(bp, "POST", "/api/login-throttles/clear", CLEAR)
async def clear_throttle(request: Request) -> HTTPResponse:
    """Lift a user name's throttle: ``{"username", "address"?}`` (no address: every address).

    Audited as ``login_throttle.clear`` with the admin, the address and the count.
    """
    body = api.json_body(request)
    username = _text(body, "username", required=True, limit=login_throttle.USERNAME_CHARS)
    address = _text(body, "address", required=False, limit=login_throttle.ADDRESS_CHARS)
    me = api.staff(request).id
    removed, audit_id = await api.in_store(
        request, lambda s: login_throttle.clear(s, str(username), address, actor_id=me, via="api")
    )
    return response.json(
        ThrottleCleared.view(
            username=login_throttle.normalise_username(str(username)),
            address=address,
            failures_removed=removed,
            audit_id=audit_id,
        )
    )
