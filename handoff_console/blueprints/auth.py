"""Signing in and out of the console (HTML form and JSON), the caller's identity, API tokens."""

from __future__ import annotations

import asyncio
import json
import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_store.models import ApiToken, StaffUser
from handoff_console import api
from handoff_console.accounts import (
    AccountError,
    LoginRateLimited,
    authenticate,
    hash_token,
    issue_api_token,
    revoke_api_token,
)
from handoff_console.auth import (
    SESSION_COOKIE,
    StaffIdentity,
    auth_error,
    clear_session_cookie,
    end_session,
    identity_for,
    is_cross_site,
    require_staff,
    set_session_cookie,
    start_session,
)
from handoff_console.blueprints._render import render
from handoff_console.client_address import request_client_address
from handoff_console.schemas.auth import (
    LoginBody,
    LoginReply,
    Me,
    SignedOut,
    Token,
    TokenBody,
    TokenRevoked,
)

bp = Blueprint("auth")

DEFAULT_NEXT = "/queue"
WRONG_CREDENTIALS = "Wrong user name or password."
NO_STORE = {"Cache-Control": "no-store"}

ADMINS = ("admin",)


def _auth_operation(summary: str, ok: type[BaseModel], **details: Any) -> api.Operation:
    """An operation of signing in and API tokens (the ``auth`` tag of the document)."""
    return api.Operation(summary, ok, tag="auth", **details)


API_LOGIN = _auth_operation(
    "Sign in; sets the ric_session cookie and returns the CSRF token",
    LoginReply,
    errors={
        400: "bad_request: not the JSON object expected",
        401: "Wrong user name or password",
        429: "rate_limited: this user name must wait before trying again from this "
        "address (retry_after seconds, also in Retry-After)",
    },
    body=LoginBody,
    roles=api.PUBLIC,
)
API_LOGOUT = _auth_operation("Sign out (ends the session)", SignedOut)
ME = _auth_operation("The signed-in staff member", Me)
CREATE_TOKEN = _auth_operation(
    "Issue an API token (shown once)",
    Token,
    status=201,
    errors={400: "bad_request", 403: "Admins only"},
    body=TokenBody,
    roles=ADMINS,
)
DELETE_TOKEN = _auth_operation(
    "Revoke an API token",
    TokenRevoked,
    errors={403: "Admins only", 404: "No such token"},
    roles=ADMINS,
)


@dataclass(frozen=True)
class LoginOutcome:
    """What a login attempt came to: a session, a refusal, or a rate limit."""

    identity: StaffIdentity | None = None
    cookie_token: str | None = None
    retry_after: int | None = None


def safe_next(candidate: str | None) -> str:
    """Return ``candidate`` if it is a local path on this site, else ``/queue``.

    Absolute URLs, scheme-relative ``//host`` and backslash tricks (browsers read
    ``/\\host`` as ``//host``) are refused, so a login link cannot redirect off-site.
    """
    if not candidate or not candidate.startswith("/") or candidate.startswith("//"):
        return DEFAULT_NEXT
    if "\\" in candidate or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in candidate):
        return DEFAULT_NEXT
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc:
        return DEFAULT_NEXT
    return candidate


def _login(
    sessions: sessionmaker[Session], username: str, password: str, address: str
) -> LoginOutcome:
    # Runs in a worker thread: argon2 is deliberately slow and must not stall the loop.
    try:
        with sessions.begin() as session:
            user = authenticate(session, username, password, address)
            if user is None:
                return LoginOutcome()
            cookie_token, csrf_token = start_session(session, int(user.id))
            return LoginOutcome(identity_for(user, csrf_token), cookie_token)
    except LoginRateLimited as limited:
        return LoginOutcome(retry_after=limited.retry_after_seconds)


def _user_json(identity: StaffIdentity, presence: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": identity.id,
        "username": identity.username,
        "display_name": identity.display_name,
        "role": identity.role,
    }
    if presence is not None:
        data["presence"] = presence
    return data


def _login_page(
    request: Request, *, next_url: str, username: str = "", error: str | None = None, status: int
) -> HTTPResponse:
    page = render(request, "login.html", next=next_url, username=username, error=error)
    page.status = status
    page.headers.update(NO_STORE)
    return page


def _bad_request(detail: str) -> HTTPResponse:
    return response.json({"error": "bad_request", "detail": detail}, status=400)


def _json_body(request: Request) -> tuple[Any, str | None]:
    """The decoded JSON body and None, or None and why it is refused (not JSON, lone surrogates).

    These two routes answer ``{"error": "bad_request", "detail": ...}``, as they always
    have, not the ``{"error", "message"}`` of the API blueprints' ``json_body``.
    """
    try:
        body = json.loads(request.body or b"")
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None, "body is not JSON"
    if api.has_lone_surrogate(body):
        return None, api.INVALID_UNICODE
    return body, None


def _wait_text(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{math.ceil(seconds / 60)} minutes"


@bp.get("/login")
async def login_form(request: Request) -> HTTPResponse:
    """The sign-in form; works without JavaScript."""
    return _login_page(request, next_url=safe_next(request.args.get("next")), status=200)


@bp.post("/login")
async def login_submit(request: Request) -> HTTPResponse:
    """Check the form; on success set the session cookie and go to a local ``next``."""
    form = request.form
    username = (form.get("username") or "").strip()
    password = form.get("password") or ""
    next_url = safe_next(form.get("next"))
    # Refusing cross-site login posts stops "login CSRF" (signing a victim into our account).
    if is_cross_site(request):
        return _login_page(
            request,
            next_url=next_url,
            username=username,
            error="This sign-in form was sent from another site.",
            status=403,
        )
    if not username or not password:
        return _login_page(
            request, next_url=next_url, username=username, error=WRONG_CREDENTIALS, status=401
        )
    outcome = await asyncio.to_thread(
        _login, request.app.ctx.sessions, username, password, request_client_address(request)
    )
    if outcome.retry_after is not None:
        page = _login_page(
            request,
            next_url=next_url,
            username=username,
            error=f"Too many attempts; try again in {_wait_text(outcome.retry_after)}.",
            status=429,
        )
        page.headers["Retry-After"] = str(outcome.retry_after)
        return page
    if outcome.cookie_token is None:
        return _login_page(
            request, next_url=next_url, username=username, error=WRONG_CREDENTIALS, status=401
        )
    resp = response.redirect(next_url, status=303)
    set_session_cookie(resp, request, outcome.cookie_token)
    return resp


def _end(request: Request) -> None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        with request.app.ctx.sessions.begin() as session:
            end_session(session, str(cookie))


@bp.post("/logout")
@require_staff()
async def logout(request: Request) -> HTTPResponse:
    """End the session (CSRF-protected) and return to the sign-in page."""
    _end(request)
    resp = response.redirect("/login", status=303)
    clear_session_cookie(resp, request)
    return resp


@api.route(bp, "POST", "/api/auth/login", API_LOGIN)
async def api_login(request: Request) -> HTTPResponse:
    """JSON sign-in: ``{"username", "password"}`` → the user, the CSRF token and the cookie."""
    body, problem = _json_body(request)
    if not (
        isinstance(body, dict)
        and isinstance(body.get("username"), str)
        and isinstance(body.get("password"), str)
    ):
        return _bad_request(problem or 'expected {"username": str, "password": str}')
    if is_cross_site(request):
        return auth_error("cross_site", 403)
    outcome = await asyncio.to_thread(
        _login,
        request.app.ctx.sessions,
        body["username"],
        body["password"],
        request_client_address(request),
    )
    if outcome.retry_after is not None:
        return response.json(
            {"error": "rate_limited", "retry_after": outcome.retry_after},
            status=429,
            headers={"Retry-After": str(outcome.retry_after)},
        )
    if outcome.identity is None or outcome.cookie_token is None:
        return response.json({"error": "invalid_credentials"}, status=401)
    resp = response.json(
        LoginReply.view(user=_user_json(outcome.identity), csrf_token=outcome.identity.csrf_token),
        headers=NO_STORE,
    )
    set_session_cookie(resp, request, outcome.cookie_token)
    return resp


@api.route(bp, "POST", "/api/auth/logout", API_LOGOUT)
async def api_logout(request: Request) -> HTTPResponse:
    """End the cookie session (CSRF-protected); a bearer caller just gets ``ok``."""
    staff: StaffIdentity = request.ctx.staff
    if staff.csrf_token is not None:
        _end(request)
    resp = response.json(SignedOut.view(ok=True))
    if staff.csrf_token is not None:
        clear_session_cookie(resp, request)
    return resp


@api.route(bp, "GET", "/api/me", ME)
async def me(request: Request) -> HTTPResponse:
    """The caller: id, user name, display name, role, presence and CSRF token."""
    staff: StaffIdentity = request.ctx.staff
    with request.app.ctx.sessions.begin() as session:
        user = session.get(StaffUser, staff.id)
        presence = str(user.presence) if user is not None else "away"
    return response.json(
        Me.view(**_user_json(staff, presence), csrf_token=staff.csrf_token), headers=NO_STORE
    )


@api.route(bp, "POST", "/api/tokens", CREATE_TOKEN)
async def create_token(request: Request) -> HTTPResponse:
    """Issue an API token for the calling admin: ``{"name"}`` → 201 ``{"id", "token"}``."""
    body, problem = _json_body(request)
    name = body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str):
        return _bad_request(problem or 'expected {"name": str}')
    staff: StaffIdentity = request.ctx.staff
    try:
        with request.app.ctx.sessions.begin() as session:
            token = issue_api_token(session, staff.id, name)
            token_id = session.execute(
                select(ApiToken.id).where(ApiToken.token_hash == hash_token(token))
            ).scalar_one()
    except AccountError as error:
        return _bad_request(str(error))
    return response.json(Token.view(id=token_id, token=token), status=201, headers=NO_STORE)


@api.route(bp, "DELETE", "/api/tokens/<token_id:id>", DELETE_TOKEN)
async def delete_token(request: Request, token_id: int) -> HTTPResponse:
    """Revoke an API token."""
    try:
        with request.app.ctx.sessions.begin() as session:
            revoke_api_token(session, token_id)
    except AccountError:
        return response.json({"error": "not_found"}, status=404)
    return response.json(TokenRevoked.view(id=token_id, revoked=True))
