"""``python -m handoff_console.admin`` and ``./ric create-admin``, run as real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from crm_store.db import make_engine, make_session_factory
from crm_store.migrate import upgrade
from crm_store.models import ApiToken, StaffRole, StaffUser
from handoff_console import admin
from handoff_console.accounts import hash_token, verify_password
from tests.system import ROOT

PASSWORD = "first-admin-passphrase"


@pytest.fixture
def store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'crm.db'}"
    upgrade(url)
    return url


def run(
    args: list[str],
    url: str,
    password: str | None = PASSWORD,
    module: str = "handoff_console.admin",
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "RIC_ADMIN_PASSWORD"}
    env["RIC_DATABASE_URL"] = url
    if password is not None:
        env["RIC_ADMIN_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


def user(url: str, username: str) -> StaffUser | None:
    engine = make_engine(url)
    with make_session_factory(engine).begin() as session:
        found = session.execute(
            select(StaffUser).where(StaffUser.username == username)
        ).scalar_one_or_none()
    engine.dispose()
    return found


def test_create_admin_from_the_environment(store: str) -> None:
    done = run(
        [
            "create-admin",
            "--username",
            "alex",
            "--display-name",
            "Alex Kim",
            "--email",
            "alex@library.example",
        ],
        store,
    )

    assert done.returncode == 0, done.stderr
    assert "Created admin 'alex'" in done.stdout
    assert PASSWORD not in done.stdout + done.stderr
    created = user(store, "alex")
    assert created is not None
    assert (created.role, created.display_name, created.email) == (
        StaffRole.ADMIN,
        "Alex Kim",
        "alex@library.example",
    )
    assert verify_password(created.password_hash, PASSWORD)


def test_short_password_is_refused(store: str) -> None:
    done = run(["create-admin", "--username", "alex"], store, password="short-pw")

    assert done.returncode == 1
    assert "at least 10 characters" in done.stderr
    assert "short-pw" not in done.stdout + done.stderr
    assert user(store, "alex") is None


def test_existing_username_is_refused(store: str) -> None:
    assert run(["create-admin", "--username", "alex"], store).returncode == 0

    again = run(["create-admin", "--username", "alex"], store, password="another-passphrase")

    assert again.returncode == 1
    assert "already taken" in again.stderr


def test_password_is_never_an_argument(store: str) -> None:
    done = run(["create-admin", "--username", "alex", "--password", PASSWORD], store)

    assert done.returncode == 2
    assert user(store, "alex") is None


def test_without_environment_or_terminal_it_explains(store: str) -> None:
    done = run(["create-admin", "--username", "alex"], store, password=None)

    assert done.returncode == 1
    assert "RIC_ADMIN_PASSWORD" in done.stderr


def test_prompted_passwords_must_match(
    store: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = iter(["prompted-passphrase", "prompted-passphrase", "one-passphrase", "other-one"])
    monkeypatch.delenv("RIC_ADMIN_PASSWORD", raising=False)
    monkeypatch.setenv("RIC_DATABASE_URL", store)
    monkeypatch.setattr(admin.sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr(admin.getpass, "getpass", lambda _prompt: next(answers))

    assert admin.main(["create-user", "--username", "sam", "--role", "librarian"]) == 0
    assert admin.main(["create-user", "--username", "maria"]) == 1

    out = capsys.readouterr()
    assert "the two passwords differ" in out.err
    assert "passphrase" not in out.out + out.err
    created = user(store, "sam")
    assert created is not None and verify_password(created.password_hash, "prompted-passphrase")
    assert user(store, "maria") is None


def test_create_user_with_role_and_token(store: str) -> None:
    made = run(["create-user", "--username", "morgan", "--role", "manager"], store)
    token = run(["create-token", "--username", "morgan", "--name", "reports"], store)
    missing = run(["create-token", "--username", "nobody", "--name", "x"], store)

    assert made.returncode == 0, made.stderr
    assert token.returncode == 0, token.stderr
    plain = token.stdout.strip().splitlines()[-1]
    assert plain.startswith("ric_")
    engine = make_engine(store)
    with make_session_factory(engine).begin() as session:
        row = session.execute(select(ApiToken)).scalar_one()
        assert (row.name, row.token_hash) == ("reports", hash_token(plain))
    engine.dispose()
    assert (missing.returncode, "no staff account named 'nobody'" in missing.stderr) == (1, True)


def test_ric_create_admin_passes_through(store: str) -> None:
    done = run(
        ["create-admin", "--username", "alex", "--display-name", "Alex Kim"],
        store,
        module="launcher",
    )

    assert done.returncode == 0, done.stderr
    assert "Created admin 'alex'" in done.stdout
    created = user(store, "alex")
    assert created is not None and created.role == StaffRole.ADMIN


def test_login_throttles_are_listed_and_cleared_with_an_audit_entry(store: str) -> None:
    from crm_store.models import AuditEntry, LoginAttempt

    engine = make_engine(store)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        for address in ("198.51.100.9", "198.51.100.9", "198.51.100.9", "203.0.113.1"):
            session.add(LoginAttempt(username="sam", remote_addr=address, succeeded=False))

    listed = run(["list-login-throttles"], store)
    cleared = run(["clear-login-throttle", "--username", "Sam", "--address", "198.51.100.9"], store)
    listed_after = run(["list-login-throttles"], store)

    assert listed.returncode == 0, listed.stderr
    rows = [line.split() for line in listed.stdout.splitlines()[1:]]
    assert sorted((r[0], r[1], r[2]) for r in rows) == [
        ("sam", "198.51.100.9", "3"),
        ("sam", "203.0.113.1", "1"),
    ]
    assert cleared.returncode == 0, cleared.stderr
    assert "Cleared the login throttle of 'sam' from address 198.51.100.9: 3 failed" in (
        cleared.stdout
    )
    assert [line.split()[1] for line in listed_after.stdout.splitlines()[1:]] == ["203.0.113.1"]
    with sessions.begin() as session:
        entry = session.execute(select(AuditEntry)).scalars().all()[-1]
        assert (entry.staff_user_id, entry.action, entry.subject, entry.detail) == (
            None,
            "login_throttle.clear",
            "login:sam",
            {"address": "198.51.100.9", "failures_removed": 3, "via": "cli"},
        )
    engine.dispose()
