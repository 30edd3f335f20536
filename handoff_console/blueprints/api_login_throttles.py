"""Admins see and lift login throttles (`handoff_console.login_throttle`)."""

from __future__ import annotations

from typing import Any

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.orm import Session

from crm_store import clock
from handoff_console import login_throttle
from handoff_console.auth import require_staff
from handoff_console.blueprints._api import in_store, json_body, staff
from handoff_console.services.errors import BadRequest

bp = Blueprint("api_login_throttles")


def throttle_json(throttle: login_throttle.Throttle) -> dict[str, Any]:
    """One throttle as the API shows it."""
    return {
        "username": throttle.username,
        "address": throttle.address,
        "failures": throttle.failures,
        "last_failure_at": throttle.last_failure_at.isoformat(),
        "retry_at": throttle.retry_at.isoformat(),
        "retry_after": throttle.retry_after_seconds(clock.now()),
    }


@bp.get("/api/login-throttles")
@require_staff("admin")
async def list_throttles(request: Request) -> HTTPResponse:
    """Every (user name, address) pair with failed logins that count, longest wait first."""

    def _read(session: Session) -> list[dict[str, Any]]:
        return [throttle_json(t) for t in login_throttle.throttles(session)]

    return response.json({"items": await in_store(request, _read)})


def _text(body: dict[str, Any], field: str, *, required: bool, limit: int) -> str | None:
    value = body.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise BadRequest("bad_request", f"{field} must be text of 1 to {limit} characters.")
    return value.strip()


@bp.post("/api/login-throttles/clear")
@require_staff("admin")
async def clear_throttle(request: Request) -> HTTPResponse:
    """Lift a user name's throttle: ``{"username", "address"?}`` (no address: every address).

    Audited as ``login_throttle.clear`` with the admin, the address and the count.
    """
    body = json_body(request)
    username = _text(body, "username", required=True, limit=login_throttle.USERNAME_CHARS)
    address = _text(body, "address", required=False, limit=login_throttle.ADDRESS_CHARS)
    me = staff(request).id
    removed, audit_id = await in_store(
        request, lambda s: login_throttle.clear(s, str(username), address, actor_id=me, via="api")
    )
    return response.json(
        {
            "username": login_throttle.normalise_username(str(username)),
            "address": address,
            "failures_removed": removed,
            "audit_id": audit_id,
        }
    )
