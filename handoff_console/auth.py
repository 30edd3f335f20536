"""Who is calling the console: session cookies, bearer tokens, roles and CSRF.

A browser signs in once and gets the ``ric_session`` cookie (HttpOnly, SameSite=Lax);
the table ``console_sessions`` keeps only the SHA-256 of the cookie's token, plus a
per-session CSRF token that every state-changing request must echo back in the
``X-CSRF-Token`` header (or a ``csrf_token`` form field). Integrations send
``Authorization: Bearer ric_...`` instead; such requests carry no ambient
credentials, so they are exempt from the CSRF check.

Handlers declare who may call them with :func:`require_staff` and read the caller
from ``request.ctx.staff``.
"""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar, cast
from urllib.parse import quote, urlsplit

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import delete, select
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from crm_store import clock
from crm_store.models import ApiToken, ConsoleSession, StaffUser
from handoff_console.accounts import hash_token

__all__ = [
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "SESSION_TTL",
    "Handler",
    "StaffIdentity",
    "check_request",
    "clear_session_cookie",
    "end_session",
    "identity_for",
    "is_cross_site",
    "require_staff",
    "session_cookie_kwargs",
    "set_session_cookie",
    "start_session",
]

SESSION_COOKIE = "ric_session"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FORM_FIELD = "csrf_token"
SESSION_TTL = timedelta(hours=12)
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Writing last_used_at on every bearer request would turn every read into a write.
TOKEN_TOUCH_INTERVAL = timedelta(seconds=60)

Handler = Callable[..., Coroutine[Any, Any, HTTPResponse]]
H = TypeVar("H", bound=Callable[..., Coroutine[Any, Any, Any]])


@dataclass(frozen=True)
class StaffIdentity:
    """The authenticated caller of a console request.

    Attributes:
        id: ``staff_users.id``.
        username: The login name.
        display_name: The name shown to colleagues and readers.
        role: ``librarian``, ``admin`` or ``manager``.
        csrf_token: The session's CSRF token; None for bearer-token requests.
    """

    id: int
    username: str
    display_name: str
    role: str
    csrf_token: str | None


def _role_value(user: StaffUser) -> str:
    role: Any = user.role
    return str(getattr(role, "value", role))


def identity_for(user: StaffUser, csrf_token: str | None) -> StaffIdentity:
    """Build the identity of a staff account (for example right after login)."""
    return StaffIdentity(
        id=int(user.id),
        username=str(user.username),
        display_name=str(user.display_name),
        role=_role_value(user),
        csrf_token=csrf_token,
    )


def start_session(session: Session, staff_user_id: int) -> tuple[str, str]:
    """Open a console session for a staff account; the caller commits.

    Expired sessions of the same account are removed on the way.

    Returns:
        ``(cookie_token, csrf_token)``; only the cookie token's SHA-256 is stored.
    """
    now = clock.now()
    session.execute(
        delete(ConsoleSession).where(
            ConsoleSession.staff_user_id == staff_user_id, ConsoleSession.expires_at < now
        )
    )
    cookie_token = secrets.token_urlsafe(32)
    csrf_token = secrets.token_urlsafe(32)
    session.add(
        ConsoleSession(
            token_hash=hash_token(cookie_token),
            staff_user_id=staff_user_id,
            csrf_token=csrf_token,
            created_at=now,
            expires_at=now + SESSION_TTL,
        )
    )
    session.flush()
    return cookie_token, csrf_token


def end_session(session: Session, cookie_token: str) -> None:
    """Delete the console session behind a cookie token; unknown tokens are ignored."""
    session.execute(
        delete(ConsoleSession).where(ConsoleSession.token_hash == hash_token(cookie_token))
    )


def _is_https(request: Request) -> bool:
    # A console published at an https URL (RIC_CONSOLE_PUBLIC_URL) always sets Secure,
    # whatever the proxy in front of it says.
    public_url = str(getattr(request.app.ctx.settings, "public_url", ""))
    if public_url.lower().startswith("https://"):
        return True
    # X-Forwarded-Proto is trusted because it can only make the cookie stricter:
    # a forged "https" adds the Secure flag, it never removes protection.
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.scheme == "https" or forwarded == "https"


def session_cookie_kwargs(request: Request) -> dict[str, Any]:
    """Attributes of the session cookie for this request (Sanic 21.12 cookie keys)."""
    return {
        "httponly": True,
        "samesite": "Lax",
        "secure": _is_https(request),
        "path": "/",
        "max-age": int(SESSION_TTL.total_seconds()),
    }


def set_session_cookie(resp: HTTPResponse, request: Request, cookie_token: str) -> None:
    """Put the session cookie on a response with :func:`session_cookie_kwargs`."""
    resp.cookies[SESSION_COOKIE] = cookie_token
    for key, value in session_cookie_kwargs(request).items():
        resp.cookies[SESSION_COOKIE][key] = value


def clear_session_cookie(resp: HTTPResponse, request: Request) -> None:
    """Tell the browser to drop the session cookie."""
    resp.cookies[SESSION_COOKIE] = ""
    for key, value in session_cookie_kwargs(request).items():
        resp.cookies[SESSION_COOKIE][key] = value
    resp.cookies[SESSION_COOKIE]["max-age"] = 0


AUTH_ERRORS = {
    "not_authenticated": "Sign in, or send an API token as 'Authorization: Bearer <token>'.",
    "csrf": "The CSRF token is missing or wrong; reload the page and try again.",
    "cross_site": "Requests from another site are refused.",
    "forbidden": "Your role may not do this.",
}
"""The ``message`` sent with each authentication or authorisation refusal."""


def auth_error(code: str, status: int) -> HTTPResponse:
    """A JSON refusal ``{"error": code, "message": text}``, like every other API error."""
    return response.json({"error": code, "message": AUTH_ERRORS[code]}, status=status)


def current_staff(request: Request) -> StaffIdentity | None:
    """The signed-in caller of a page, if any (for pages that don't require sign-in)."""
    identity = getattr(request.ctx, "staff", None)
    if isinstance(identity, StaffIdentity):
        return identity
    return _authenticate(request)


def _is_api(request: Request) -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def _unauthenticated(request: Request) -> HTTPResponse:
    if _is_api(request):
        return auth_error("not_authenticated", 401)
    target = request.path + (f"?{request.query_string}" if request.query_string else "")
    return response.redirect(f"/login?next={quote(target, safe='')}", status=302)


def _with_active_owner(
    session: Session,
    credential: type[ApiToken] | type[ConsoleSession],
    token: str,
    still_valid: ColumnElement[bool],
) -> Row[Any] | None:
    """The credential row stored under ``token`` and its owner, if both are live."""
    return session.execute(
        select(credential, StaffUser)
        .join(StaffUser, StaffUser.id == credential.staff_user_id)
        .where(credential.token_hash == hash_token(token), still_valid, StaffUser.active.is_(True))
    ).one_or_none()


def _from_bearer(session: Session, token: str) -> StaffIdentity | None:
    row = _with_active_owner(session, ApiToken, token, ApiToken.revoked_at.is_(None))
    if row is None:
        return None
    api_token, user = row
    now = clock.now()
    if api_token.last_used_at is None or now - api_token.last_used_at >= TOKEN_TOUCH_INTERVAL:
        api_token.last_used_at = now
    return identity_for(user, None)


def _from_cookie(session: Session, token: str) -> StaffIdentity | None:
    live = ConsoleSession.expires_at > clock.now()
    row = _with_active_owner(session, ConsoleSession, token, live)
    if row is None:
        return None
    console_session, user = row
    return identity_for(user, str(console_session.csrf_token))


def _bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


def _authenticate(request: Request) -> StaffIdentity | None:
    bearer = _bearer_token(request)
    cookie = request.cookies.get(SESSION_COOKIE)
    if bearer is None and not cookie:
        return None
    with request.app.ctx.sessions.begin() as session:
        if bearer is not None:
            # An explicit but wrong bearer token fails; it never falls back to the cookie.
            return _from_bearer(session, bearer)
        return _from_cookie(session, str(cookie))


def is_cross_site(request: Request) -> bool:
    """True when an ``Origin`` header is present and names another host than ``Host``."""
    origin = request.headers.get("origin")
    if origin is None:
        return False
    host = request.headers.get("host", "").lower()
    return urlsplit(origin).netloc.lower() != host or not host


def _csrf_ok(request: Request, expected: str) -> bool:
    supplied = request.headers.get(CSRF_HEADER)
    if supplied is None and request.content_type.startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        supplied = request.form.get(CSRF_FORM_FIELD)
    return supplied is not None and hmac.compare_digest(
        supplied.encode("utf-8"), expected.encode("utf-8")
    )


def check_request(request: Request, roles: tuple[str, ...] = ()) -> HTTPResponse | None:
    """Authenticate and authorise ``request``; set ``request.ctx.staff``.

    Returns:
        None when the request may proceed, otherwise the refusal to send.
    """
    identity = _authenticate(request)
    if identity is None:
        return _unauthenticated(request)
    if identity.csrf_token is not None and request.method.upper() in UNSAFE_METHODS:
        if is_cross_site(request):
            return auth_error("cross_site", 403)
        if not _csrf_ok(request, identity.csrf_token):
            return auth_error("csrf", 403)
    if roles and identity.role not in roles:
        return auth_error("forbidden", 403)
    request.ctx.staff = identity
    return None


def require_staff(*roles: str) -> Callable[[H], H]:
    """Decorate a Sanic handler so that only signed-in staff (of ``roles``) reach it.

    Authentication is by the ``ric_session`` cookie or ``Authorization: Bearer``.
    Unauthenticated: 401 ``{"error": "not_authenticated", "message": …}`` under
    ``/api``, else a 302 to ``/login?next=<path>``. Wrong role: 403 ``forbidden``.
    Cookie-authenticated POST/PUT/PATCH/DELETE need a matching CSRF token (403
    ``csrf``) and no foreign ``Origin`` (403 ``cross_site``). Every refusal carries a
    human-readable ``message`` (see :data:`AUTH_ERRORS`).

    Args:
        *roles: Allowed roles; none means any staff role.
    """

    def decorate(handler: H) -> H:
        @functools.wraps(handler)
        async def wrapper(request: Request, *args: Any, **kwargs: Any) -> Any:
            refusal = check_request(request, roles)
            if refusal is not None:
                return refusal
            return await handler(request, *args, **kwargs)

        return cast(H, wrapper)

    return decorate
