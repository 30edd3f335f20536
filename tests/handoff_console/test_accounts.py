"""Staff accounts on a real migrated SQLite store: hashing, validation, login limits, tokens."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from argon2 import PasswordHasher, Type
from sqlalchemy import select

from crm_store import clock
from crm_store.models import ApiToken, AuditEntry, LoginAttempt, StaffRole, StaffUser
from handoff_console import login_throttle
from handoff_console.accounts import (
    AccountError,
    LoginRateLimited,
    authenticate,
    create_staff,
    hash_password,
    issue_api_token,
    revoke_api_token,
    seed_demo_staff,
    verify_password,
)
from tests.handoff_console.conftest import STAFF, ConsoleStore


def test_password_hash_is_argon2id_and_verifies() -> None:
    stored = hash_password("a long enough password")

    assert stored.startswith("$argon2id$")
    assert PasswordHasher().verify(stored, "a long enough password") is True
    assert verify_password(stored, "a long enough password") is True
    assert verify_password(stored, "a long enough passwore") is False
    assert verify_password("not a hash", "a long enough password") is False


def test_argon2_parameters_are_id_type() -> None:
    from argon2 import extract_parameters

    assert extract_parameters(hash_password("0123456789")).type == Type.ID


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"username": "ab"}, "3 to 40 characters"),
        ({"username": "Sam Reyes"}, "3 to 40 characters"),
        ({"username": "x" * 41}, "3 to 40 characters"),
        ({"password": "short"}, "at least 10 characters"),
        ({"role": "superuser"}, "librarian, admin, manager"),
        ({"email": "not-an-address"}, "e-mail"),
        ({"capacity": 0}, "capacity"),
        ({"username": "sam"}, "already taken"),
    ],
)
def test_create_staff_rejects_invalid_fields(
    staff_store: ConsoleStore, fields: dict[str, object], message: str
) -> None:
    arguments: dict[str, object] = {"username": "newbie", "password": "newbie-password-1"}
    arguments.update(fields)

    with staff_store.sessions.begin() as session, pytest.raises(AccountError) as raised:
        create_staff(session, **arguments)  # type: ignore[arg-type]

    assert isinstance(raised.value, ValueError)
    assert message in str(raised.value)


def test_create_staff_stores_hash_and_defaults(staff_store: ConsoleStore) -> None:
    with staff_store.sessions.begin() as session:
        create_staff(session, username="jo.b-1", password="jo-password-1", department="kids")
    with staff_store.sessions.begin() as session:
        user = session.execute(select(StaffUser).where(StaffUser.username == "jo.b-1")).scalar_one()

        assert (user.display_name, user.role, user.capacity, user.department) == (
            "jo.b-1",
            StaffRole.LIBRARIAN,
            3,
            "kids",
        )
        assert user.password_hash.startswith("$argon2id$")
        assert "jo-password-1" not in user.password_hash


def test_authenticate_records_attempts(staff_store: ConsoleStore) -> None:
    with staff_store.sessions.begin() as session:
        good = authenticate(session, "Sam", STAFF["sam"][2], "10.0.0.1")
        bad = authenticate(session, "sam", "wrong-password", "10.0.0.1")
        unknown = authenticate(session, "nobody", "wrong-password", "10.0.0.1")
    with staff_store.sessions.begin() as session:
        rows = session.execute(
            select(LoginAttempt.username, LoginAttempt.succeeded).order_by(LoginAttempt.id)
        ).all()

    assert good is not None and good.username == "sam"
    assert (bad, unknown) == (None, None)
    assert [tuple(r) for r in rows] == [("sam", True), ("sam", False), ("nobody", False)]


@pytest.fixture
def travel() -> Iterator[clock.TravelClock]:
    """The login throttle's clock, standing still until a test moves it."""
    travel_clock = clock.TravelClock(datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc))
    previous = clock.install(travel_clock)
    yield travel_clock
    clock.install(previous)


def fail(
    store: ConsoleStore, travel: clock.TravelClock, username: str, address: str, times: int
) -> None:
    """Send ``times`` wrong passwords for ``username`` from ``address``, each after its wait."""
    for n in range(times):
        with store.sessions.begin() as session:
            throttle = login_throttle.state(session, username, address)
        if throttle is not None:
            travel.advance(timedelta(seconds=throttle.retry_after_seconds(travel.now())))
        with store.sessions.begin() as session:
            assert authenticate(session, username, f"wrong-{n}", address) is None


def test_the_delay_doubles_with_each_failure_of_a_pair() -> None:
    delays = [login_throttle.delay_after(n).total_seconds() for n in range(0, 16)]

    assert delays == [0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]
    assert login_throttle.delay_after(10**6) == login_throttle.MAX_DELAY


@pytest.mark.defects
def test_failures_from_one_address_never_stop_the_right_password_from_another(
    staff_store: ConsoleStore, travel: clock.TravelClock
) -> None:
    # Issue 12 item 4: five wrong passwords locked the account for everyone.
    fail(staff_store, travel, "alex", "198.51.100.66", 12)

    with staff_store.sessions.begin() as session, pytest.raises(LoginRateLimited) as raised:
        authenticate(session, "alex", STAFF["alex"][2], "198.51.100.66")
    with staff_store.sessions.begin() as session:
        elsewhere = authenticate(session, "alex", STAFF["alex"][2], "203.0.113.5")

    assert raised.value.retry_after_seconds == 512
    assert elsewhere is not None and elsewhere.username == "alex"


@pytest.mark.defects
def test_the_right_password_works_after_the_delay(
    staff_store: ConsoleStore, travel: clock.TravelClock
) -> None:
    fail(staff_store, travel, "maria", "10.0.1.1", 6)  # the 6th failure asks for 2**3 = 8 s

    travel.advance(timedelta(seconds=7))
    with staff_store.sessions.begin() as session, pytest.raises(LoginRateLimited) as raised:
        authenticate(session, "maria", STAFF["maria"][2], "10.0.1.1")
    travel.advance(timedelta(seconds=1))
    with staff_store.sessions.begin() as session:
        user = authenticate(session, "maria", STAFF["maria"][2], "10.0.1.1")
    with staff_store.sessions.begin() as session:
        after_success = login_throttle.state(session, "maria", "10.0.1.1")

    assert raised.value.retry_after_seconds == 1
    assert user is not None and user.username == "maria"
    assert after_success is None  # a success starts the pair's count again


def test_refused_attempts_are_not_recorded_and_old_failures_expire(
    staff_store: ConsoleStore, travel: clock.TravelClock
) -> None:
    fail(staff_store, travel, "sam", "10.0.0.9", 4)
    for _ in range(3):
        with staff_store.sessions.begin() as session, pytest.raises(LoginRateLimited):
            authenticate(session, "sam", "still-wrong", "10.0.0.9")
    with staff_store.sessions.begin() as session:
        counted = login_throttle.state(session, "sam", "10.0.0.9")
    travel.advance(login_throttle.WINDOW + timedelta(seconds=1))
    with staff_store.sessions.begin() as session:
        expired = login_throttle.state(session, "sam", "10.0.0.9")

    assert counted is not None and counted.failures == 4
    assert expired is None


def test_clearing_a_throttle_is_audited(
    staff_store: ConsoleStore, travel: clock.TravelClock
) -> None:
    fail(staff_store, travel, "sam", "10.0.0.1", 5)
    fail(staff_store, travel, "sam", "10.0.0.2", 5)
    fail(staff_store, travel, "maria", "10.0.0.1", 5)

    with staff_store.sessions.begin() as session:
        listed = {(t.username, t.address, t.failures) for t in login_throttle.throttles(session)}
        removed, audit_id = login_throttle.clear(
            session, "Sam", "10.0.0.1", actor_id=None, via="cli"
        )
    with staff_store.sessions.begin() as session:
        left = {(t.username, t.address) for t in login_throttle.throttles(session)}
        entry = session.get(AuditEntry, audit_id)
        assert entry is not None
        audited = (entry.action, entry.subject, entry.detail)
        user = authenticate(session, "sam", STAFF["sam"][2], "10.0.0.1")

    assert listed == {("sam", "10.0.0.1", 5), ("sam", "10.0.0.2", 5), ("maria", "10.0.0.1", 5)}
    assert removed == 5
    assert left == {("sam", "10.0.0.2"), ("maria", "10.0.0.1")}
    assert audited == (
        "login_throttle.clear",
        "login:sam",
        {"address": "10.0.0.1", "failures_removed": 5, "via": "cli"},
    )
    assert user is not None


def test_api_token_is_returned_once_and_stored_hashed(staff_store: ConsoleStore) -> None:
    with staff_store.sessions.begin() as session:
        token = issue_api_token(session, 1, "catalogue sync")
    with staff_store.sessions.begin() as session:
        row = session.execute(select(ApiToken)).scalar_one()

        assert token.startswith("ric_") and len(token) >= 40
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert (row.name, row.revoked_at) == ("catalogue sync", None)
        revoke_api_token(session, row.id)
    with staff_store.sessions.begin() as session:
        assert session.execute(select(ApiToken.revoked_at)).scalar_one() is not None
        with pytest.raises(AccountError):
            revoke_api_token(session, 999)


def test_seed_demo_staff_is_idempotent(tmp_path_factory: pytest.TempPathFactory) -> None:
    from crm_store.db import make_engine, make_session_factory
    from crm_store.migrate import upgrade

    url = f"sqlite:///{tmp_path_factory.mktemp('seed') / 'crm.db'}"
    upgrade(url)
    sessions = make_session_factory(make_engine(url))
    with sessions.begin() as session:
        first = seed_demo_staff(session)
    with sessions.begin() as session:
        second = seed_demo_staff(session)
        names = dict(session.execute(select(StaffUser.username, StaffUser.display_name)).all())

    assert [(u, r) for u, r, _ in first] == [
        ("sam", "librarian"),
        ("maria", "librarian"),
        ("alex", "admin"),
        ("morgan", "manager"),
    ]
    assert all(len(p) >= 10 for _, _, p in first)
    assert [p for _, _, p in second] == ["(unchanged)"] * 4
    assert (names["sam"], names["maria"]) == ("Sam Reyes", "Maria Lopez")
    with sessions.begin() as session:
        user, _, password = first[0]
        assert authenticate(session, user, password, "10.0.0.1") is not None


def test_passwords_never_reach_the_log(
    staff_store: ConsoleStore, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with staff_store.sessions.begin() as session:
        create_staff(session, username="logcheck", password="secret-log-password-1")
        authenticate(session, "logcheck", "secret-log-password-1", "10.0.0.1")
        authenticate(session, "logcheck", "wrong-log-password-2", "10.0.0.1")

    assert "logcheck" in caplog.text  # the log does speak about the account...
    for secret in ["secret-log-password-1", "wrong-log-password-2"]:
        assert secret not in caplog.text  # ...but never shows a password
