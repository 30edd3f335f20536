"""The shapes of signing in, the caller, API tokens and login throttles."""

from __future__ import annotations

from pydantic import Field

from handoff_console.schemas.base import ApiModel, Timestamp

__all__ = [
    "ClearThrottleBody",
    "LoginBody",
    "LoginReply",
    "Me",
    "SignedOut",
    "StaffUserView",
    "Throttle",
    "ThrottleCleared",
    "Token",
    "TokenBody",
    "TokenRevoked",
]


class StaffUserView(ApiModel):
    """A staff account as the console shows it."""

    id: int
    username: str
    display_name: str
    role: str


class Me(StaffUserView):
    """The signed-in staff member."""

    presence: str
    csrf_token: str | None = Field(description="null for a bearer token")


class LoginBody(ApiModel):
    """A user name and password."""

    username: str
    password: str


class LoginReply(ApiModel):
    """The signed-in user and the CSRF token for unsafe methods."""

    user: StaffUserView
    csrf_token: str


class SignedOut(ApiModel):
    """The session ended."""

    ok: bool


class TokenBody(ApiModel):
    """A name for the token."""

    name: str


class Token(ApiModel):
    """A new API token, shown once."""

    id: int
    token: str


class TokenRevoked(ApiModel):
    """A revoked API token."""

    id: int
    revoked: bool


class Throttle(ApiModel):
    """A (user name, address) pair with failed logins that count."""

    username: str
    address: str
    failures: int
    last_failure_at: Timestamp
    retry_at: Timestamp
    retry_after: int = Field(description="seconds; 0 when it may try now")


class ClearThrottleBody(ApiModel):
    """Whose throttle to lift, from one address or (no address) every address."""

    username: str = Field(min_length=1, max_length=80)
    address: str | None = Field(None, max_length=64)


class ThrottleCleared(ApiModel):
    """The lifted throttle and its audit entry."""

    username: str
    address: str | None
    failures_removed: int
    audit_id: int
