"""Staff accounts: password hashing, login with throttling, and API tokens.

The caller owns the SQLAlchemy session (``with factory.begin() as session:``);
nothing here commits. Passwords are never logged, stored or returned in clear,
except the freshly generated demo passwords that ``seed_demo_staff`` hands back
once so that the run command can print them.

The tree::

    AccountError (ValueError)        a request about an account cannot be honoured
    └── LoginRateLimited             this (user, address) must wait; ``retry_after_seconds``
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store import clock
from crm_store.models import ApiToken, AuditEntry, LoginAttempt, StaffRole, StaffUser
from handoff_console import login_throttle

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "ROLES",
    "AccountError",
    "LoginRateLimited",
    "authenticate",
    "create_staff",
    "hash_password",
    "hash_token",
    "issue_api_token",
    "revoke_api_token",
    "seed_demo_staff",
    "verify_password",
]

logger = logging.getLogger(__name__)

ROLES: tuple[str, ...] = tuple(role.value for role in StaffRole)
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024  # argon2 copes, but an unbounded body is a cheap DoS
TOKEN_PREFIX = "ric_"  # noqa: S105 - a public prefix that marks our tokens, not a secret

USERNAME_RE = re.compile(r"[a-z0-9._-]{3,40}")
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the user name is unknown, so that a wrong name costs as much
# time as a wrong password and response times do not reveal which names exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

DEMO_STAFF: tuple[tuple[str, str, str], ...] = (
    ("sam", "Sam Reyes", StaffRole.LIBRARIAN.value),
    ("maria", "Maria Lopez", StaffRole.LIBRARIAN.value),
    ("alex", "Alex Kim", StaffRole.ADMIN.value),
    ("morgan", "Morgan Lee", StaffRole.MANAGER.value),
)


class AccountError(ValueError):
    """A request about a staff account cannot be honoured; the message says why."""


class LoginRateLimited(AccountError):
    """This (user name, address) pair must wait before its next login attempt.

    Attributes:
        retry_after_seconds: How long until the pair may try again.
    """

    def __init__(self, retry_after_seconds: int) -> None:
        """Store the wait, rounded up to whole seconds and at least one."""
        self.retry_after_seconds = max(1, int(retry_after_seconds))
        super().__init__(f"too many failed logins; retry in {self.retry_after_seconds} s")


def hash_password(password: str) -> str:
    """Hash a password with argon2id.

    Args:
        password: The clear-text password.

    Returns:
        The encoded argon2id hash (``$argon2id$...``).
    """
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """Check a password against a stored argon2 hash; never raises on a bad hash.

    Args:
        stored_hash: The encoded hash from ``staff_users.password_hash``.
        password: The clear-text candidate.

    Returns:
        True when the password matches.
    """
    try:
        return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def hash_token(token: str) -> str:
    """Return the SHA-256 hex digest under which a session or API token is stored.

    Any string hashes: a header or cookie with undecodable bytes reaches us as lone
    surrogates (found by schemathesis, issue 18); such a token matches nothing.
    """
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"The password must be at least {MIN_PASSWORD_LENGTH} characters long.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError(f"The password must be at most {MAX_PASSWORD_LENGTH} characters long.")


def _audit(session: Session, actor_id: int | None, action: str, subject: str) -> None:
    session.add(AuditEntry(staff_user_id=actor_id, action=action, subject=subject))


def create_staff(
    session: Session,
    *,
    username: str,
    password: str,
    role: str = StaffRole.LIBRARIAN.value,
    display_name: str | None = None,
    email: str | None = None,
    capacity: int = 3,
    department: str | None = None,
) -> StaffUser:
    """Create a staff account after validating every field.

    Args:
        session: The caller's session; the caller commits.
        username: 3 to 40 characters of ``a-z 0-9 . _ -``.
        password: At least ``MIN_PASSWORD_LENGTH`` characters.
        role: ``librarian``, ``admin`` or ``manager``.
        display_name: The name readers and colleagues see; defaults to the user name.
        email: Optional contact address.
        capacity: How many chats the person takes at once (1 to 20).
        department: Optional department used to route handoffs.

    Returns:
        The new, flushed ``StaffUser`` (its ``id`` is set).

    Raises:
        AccountError: A field is invalid or the user name is taken.
    """
    if not USERNAME_RE.fullmatch(username):
        raise AccountError(
            "The user name must be 3 to 40 characters: lower-case letters, digits, '.', '_' or '-'."
        )
    _validate_password(password)
    if role not in ROLES:
        raise AccountError(f"The role must be one of: {', '.join(ROLES)}.")
    name = (display_name or username).strip()
    if not name or len(name) > 200:
        raise AccountError("The display name must be 1 to 200 characters.")
    if email is not None and (len(email) > 320 or not EMAIL_RE.fullmatch(email)):
        raise AccountError("The e-mail address is not valid.")
    if not 1 <= capacity <= 20:
        raise AccountError("The capacity must be between 1 and 20 chats.")
    if department is not None and not 1 <= len(department) <= 80:
        raise AccountError("The department must be 1 to 80 characters.")
    existing = session.execute(
        select(StaffUser.id).where(StaffUser.username == username)
    ).scalar_one_or_none()
    if existing is not None:
        raise AccountError(f"The user name {username!r} is already taken.")
    user = StaffUser(
        username=username,
        display_name=name,
        email=email,
        role=StaffRole(role),
        password_hash=hash_password(password),
        capacity=capacity,
        department=department,
    )
    session.add(user)
    session.flush()
    _audit(session, None, "staff.create", f"staff_user:{user.id}")
    logger.info("created staff account %s (%s)", username, role)
    return user


def authenticate(
    session: Session, username: str, password: str, remote_addr: str
) -> StaffUser | None:
    """Check a user name and password, recording the attempt for throttling.

    The throttle of the (user name, address) pair is checked before the password
    (see `handoff_console.login_throttle`): a pair that must still wait learns
    nothing, and its refused attempt is not recorded, so waiting always works.
    Failures from one address never delay the same account from another address.

    Args:
        session: The caller's session; the caller commits (the attempt row is added).
        username: As typed; compared in lower case.
        password: As typed.
        remote_addr: The client's address (see `handoff_console.client_address`).

    Returns:
        The active ``StaffUser`` on success, otherwise None.

    Raises:
        LoginRateLimited: The pair's last failure was less than its delay ago.
    """
    name = login_throttle.normalise_username(username)
    address = login_throttle.normalise_address(remote_addr)
    throttle = login_throttle.state(session, name, address)
    if throttle is not None:
        wait = throttle.retry_after_seconds(clock.now())
        if wait > 0:
            logger.warning(
                "login throttled for user name %r from %s (%d failures, %d s left)",
                name,
                address,
                throttle.failures,
                wait,
            )
            raise LoginRateLimited(wait)

    user = session.execute(select(StaffUser).where(StaffUser.username == name)).scalar_one_or_none()
    if len(password) > MAX_PASSWORD_LENGTH:
        ok = False
    elif user is None or not user.active:
        verify_password(_DUMMY_HASH, password)
        ok = False
    else:
        ok = verify_password(user.password_hash, password)
    session.add(
        LoginAttempt(username=name, remote_addr=address, succeeded=ok, attempted_at=clock.now())
    )
    if not ok or user is None:
        logger.info("failed login for user name %r from %s", name, address)
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_seen_at = clock.now()
    logger.info("staff %s signed in from %s", name, address)
    return user


def issue_api_token(session: Session, staff_user_id: int, name: str) -> str:
    """Create a bearer token for integrations; only its SHA-256 hash is stored.

    Args:
        session: The caller's session; the caller commits.
        staff_user_id: Whose permissions the token carries.
        name: What the token is for (1 to 120 characters).

    Returns:
        The plain token (``ric_...``). It cannot be recovered later.

    Raises:
        AccountError: The name is invalid or the staff account does not exist.
    """
    label = name.strip()
    if not 1 <= len(label) <= 120:
        raise AccountError("The token name must be 1 to 120 characters.")
    if session.get(StaffUser, staff_user_id) is None:
        raise AccountError(f"There is no staff account with id {staff_user_id}.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(staff_user_id=staff_user_id, name=label, token_hash=hash_token(token))
    session.add(row)
    session.flush()
    _audit(session, staff_user_id, "api_token.issue", f"api_token:{row.id}")
    return token


def revoke_api_token(session: Session, token_id: int) -> None:
    """Revoke an API token; revoking twice is harmless.

    Raises:
        AccountError: No token has this id.
    """
    row = session.get(ApiToken, token_id)
    if row is None:
        raise AccountError(f"There is no API token with id {token_id}.")
    if row.revoked_at is None:
        row.revoked_at = clock.now()
        _audit(session, row.staff_user_id, "api_token.revoke", f"api_token:{row.id}")


def seed_demo_staff(session: Session) -> list[tuple[str, str, str]]:
    """Create the demo staff accounts that do not exist yet.

    Returns:
        ``(username, role, password)`` per demo account: a fresh random password for
        an account created now, ``"(unchanged)"`` for one that already existed.
    """
    result: list[tuple[str, str, str]] = []
    for username, display_name, role in DEMO_STAFF:
        exists = session.execute(
            select(StaffUser.id).where(StaffUser.username == username)
        ).scalar_one_or_none()
        if exists is not None:
            result.append((username, role, "(unchanged)"))
            continue
        password = secrets.token_urlsafe(12)
        create_staff(
            session, username=username, password=password, role=role, display_name=display_name
        )
        result.append((username, role, password))
    return result
