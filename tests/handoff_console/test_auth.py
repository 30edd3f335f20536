"""Signing in and out, sessions, CSRF, bearer tokens and roles, over HTTP to the real console."""

from __future__ import annotations

import hashlib
from http.cookies import SimpleCookie
from urllib.parse import quote

import pytest
from sqlalchemy import select

from crm_store.models import ApiToken, ConsoleSession
from handoff_console.auth import AUTH_ERRORS
from tests.handoff_console.conftest import STAFF, ConsoleStore
from tests.handoff_console.console_server import Client, ConsoleServer


def refusal(code: str) -> dict[str, str]:
    """The JSON body of an authentication or authorisation refusal."""
    return {"error": code, "message": AUTH_ERRORS[code]}


def login(console: ConsoleServer, username: str) -> tuple[Client, str]:
    """A client signed in through the JSON API, and its CSRF token."""
    client = console.client()
    reply = client.post_json(
        "/api/auth/login", {"username": username, "password": STAFF[username][2]}
    )
    assert reply.status == 200, reply.text
    return client, reply.json()["csrf_token"]


def session_morsel(set_cookies: list[str]) -> SimpleCookie:
    jar: SimpleCookie = SimpleCookie()
    for line in set_cookies:
        jar.load(line)
    return jar


def test_json_login_returns_user_csrf_and_a_strict_cookie(console: ConsoleServer) -> None:
    client = console.client()
    reply = client.post_json("/api/auth/login", {"username": "sam", "password": STAFF["sam"][2]})

    assert reply.status == 200
    body = reply.json()
    assert body["user"] == {
        "id": 1,
        "username": "sam",
        "display_name": "Sam Reyes",
        "role": "librarian",
    }
    assert len(body["csrf_token"]) >= 32
    [raw] = [c for c in reply.set_cookies() if c.startswith("ric_session=")]
    attributes = {part.strip().split("=")[0].lower() for part in raw.split(";")}
    assert {"httponly", "samesite", "path", "max-age"} <= attributes
    assert "samesite=lax" in raw.lower()
    assert "secure" not in attributes  # plain http on loopback


def test_cookie_is_secure_behind_an_https_proxy(console: ConsoleServer) -> None:
    reply = console.client().post_json(
        "/api/auth/login",
        {"username": "sam", "password": STAFF["sam"][2]},
        headers={"X-Forwarded-Proto": "https"},
    )

    assert reply.status == 200
    morsel = session_morsel(reply.set_cookies())["ric_session"]
    assert (bool(morsel["secure"]), bool(morsel["httponly"]), morsel["samesite"]) == (
        True,
        True,
        "Lax",
    )


def test_me_shows_the_signed_in_user(console: ConsoleServer) -> None:
    client, csrf = login(console, "morgan")

    reply = client.get("/api/me")

    assert reply.status == 200
    assert reply.json() == {
        "id": 4,
        "username": "morgan",
        "display_name": "Morgan Lee",
        "role": "manager",
        "presence": "away",
        "csrf_token": csrf,
    }


def test_me_without_credentials_is_401(console: ConsoleServer) -> None:
    reply = console.client().get("/api/me")

    assert (reply.status, reply.json()) == (401, refusal("not_authenticated"))


def test_a_forged_cookie_is_401(console: ConsoleServer) -> None:
    reply = console.client().get("/api/me", headers={"Cookie": "ric_session=forged"})

    assert (reply.status, reply.json()) == (401, refusal("not_authenticated"))


def test_pages_redirect_to_login_with_next(console: ConsoleServer) -> None:
    reply = console.client().get("/queue")

    assert (reply.status, reply.headers["Location"]) == (302, "/login?next=%2Fqueue")


def test_wrong_password_is_401(console: ConsoleServer) -> None:
    reply = console.client().post_json(
        "/api/auth/login", {"username": "sam", "password": "not-sams-password"}
    )

    assert (reply.status, reply.json()) == (401, {"error": "invalid_credentials"})
    assert reply.cookie("ric_session") is None


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'{"username": "sam"}'])
def test_malformed_json_login_is_400(console: ConsoleServer, body: bytes) -> None:
    reply = console.client().request(
        "POST", "/api/auth/login", body=body, headers={"Content-Type": "application/json"}
    )

    assert reply.status == 400
    assert reply.json()["error"] == "bad_request"


def test_post_without_csrf_is_refused(console: ConsoleServer) -> None:
    client, csrf = login(console, "sam")

    missing = client.post_json("/api/auth/logout", {})
    wrong = client.post_json("/api/auth/logout", {}, headers={"X-CSRF-Token": csrf + "x"})

    assert (missing.status, missing.json()) == (403, refusal("csrf"))
    assert (wrong.status, wrong.json()) == (403, refusal("csrf"))
    assert client.get("/api/me").status == 200  # still signed in


def test_cross_site_origin_is_refused_even_with_csrf(console: ConsoleServer) -> None:
    client, csrf = login(console, "sam")

    reply = client.post_json(
        "/api/auth/logout",
        {},
        headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"},
    )

    assert (reply.status, reply.json()) == (403, refusal("cross_site"))
    assert client.get("/api/me").status == 200


def test_same_origin_with_csrf_logs_out_and_kills_the_session(
    console: ConsoleServer, console_store: ConsoleStore
) -> None:
    client, csrf = login(console, "sam")
    cookie = client.cookies["ric_session"]

    reply = client.post_json(
        "/api/auth/logout",
        {},
        headers={"X-CSRF-Token": csrf, "Origin": f"http://127.0.0.1:{console.port}"},
    )

    assert (reply.status, reply.json()) == (200, {"ok": True})
    assert "ric_session" not in client.cookies
    replayed = console.client().get("/api/me", headers={"Cookie": f"ric_session={cookie}"})
    assert replayed.status == 401


def test_form_logout_accepts_the_csrf_form_field(console: ConsoleServer) -> None:
    client, csrf = login(console, "sam")
    cookie = client.cookies["ric_session"]

    refused = client.post_form("/logout", {})
    reply = client.post_form("/logout", {"csrf_token": csrf})

    assert (refused.status, refused.json()) == (403, refusal("csrf"))
    assert (reply.status, reply.headers["Location"]) == (303, "/login")
    replayed = console.client().get("/api/me", headers={"Cookie": f"ric_session={cookie}"})
    assert replayed.status == 401


def test_admin_issues_a_bearer_token_that_skips_csrf_until_revoked(
    console: ConsoleServer, console_store: ConsoleStore
) -> None:
    admin, csrf = login(console, "alex")
    created = admin.post_json(
        "/api/tokens", {"name": "catalogue sync"}, headers={"X-CSRF-Token": csrf}
    )
    assert created.status == 201, created.text
    token, token_id = created.json()["token"], created.json()["id"]
    bearer = {"Authorization": f"Bearer {token}"}

    me = console.client().get("/api/me", headers=bearer)
    # A bearer request changes state without any CSRF token or cookie.
    another = console.client().post_json("/api/tokens", {"name": "second"}, headers=bearer)

    assert (me.status, me.json()["username"], me.json()["csrf_token"]) == (200, "alex", None)
    assert another.status == 201
    with console_store.sessions.begin() as session:
        used = session.execute(select(ApiToken.last_used_at).where(ApiToken.id == token_id))
        assert used.scalar_one() is not None

    revoked = admin.request("DELETE", f"/api/tokens/{token_id}", headers={"X-CSRF-Token": csrf})
    after = console.client().get("/api/me", headers=bearer)

    assert (revoked.status, revoked.json()) == (200, {"id": token_id, "revoked": True})
    assert (after.status, after.json()) == (401, refusal("not_authenticated"))


def test_a_wrong_bearer_token_is_401(console: ConsoleServer) -> None:
    reply = console.client().get("/api/me", headers={"Authorization": "Bearer ric_nope"})

    assert (reply.status, reply.json()) == (401, refusal("not_authenticated"))


@pytest.mark.parametrize("username", ["sam", "morgan"])
def test_only_admins_manage_tokens(console: ConsoleServer, username: str) -> None:
    client, csrf = login(console, username)

    create = client.post_json("/api/tokens", {"name": "mine"}, headers={"X-CSRF-Token": csrf})
    delete = client.request("DELETE", "/api/tokens/1", headers={"X-CSRF-Token": csrf})

    assert (create.status, create.json()) == (403, refusal("forbidden"))
    assert (delete.status, delete.json()) == (403, refusal("forbidden"))


def test_login_page_works_without_javascript(console: ConsoleServer) -> None:
    reply = console.client().get("/login?next=%2Ftickets")

    assert reply.status == 200
    assert '<form method="post" action="/login"' in reply.text
    assert '<input type="hidden" name="next" value="/tickets">' in reply.text
    assert '<a href="/login">Sign in</a>' in reply.text


def test_form_login_redirects_to_next_and_sets_the_cookie(console: ConsoleServer) -> None:
    client = console.client()

    reply = client.post_form(
        "/login", {"username": "sam", "password": STAFF["sam"][2], "next": "/tickets?open=1"}
    )

    assert (reply.status, reply.headers["Location"]) == (303, "/tickets?open=1")
    assert client.get("/api/me").json()["username"] == "sam"


@pytest.mark.parametrize(
    "next_url",
    ["https://evil.example", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", ""],
)
def test_open_redirects_are_ignored(console: ConsoleServer, next_url: str) -> None:
    reply = console.client().post_form(
        "/login", {"username": "sam", "password": STAFF["sam"][2], "next": next_url}
    )

    assert (reply.status, reply.headers["Location"]) == (303, "/queue")


def test_failed_form_login_escapes_what_was_typed(console: ConsoleServer) -> None:
    typed = "<script>alert(1)</script>"

    reply = console.client().post_form(
        "/login", {"username": typed, "password": "whatever-it-is", "next": '/x"><b>'}
    )

    assert reply.status == 401
    assert "Wrong user name or password." in reply.text
    assert typed not in reply.text
    assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in reply.text
    assert "<b>" not in reply.text


def test_login_page_get_escapes_next(console: ConsoleServer) -> None:
    reply = console.client().get("/login?next=" + quote('/a"><script>alert(1)</script>'))

    assert reply.status == 200
    assert "<script>alert(1)" not in reply.text


def test_cross_site_login_post_is_refused(console: ConsoleServer) -> None:
    reply = console.client().post_form(
        "/login",
        {"username": "sam", "password": STAFF["sam"][2]},
        headers={"Origin": "https://evil.example"},
    )

    assert reply.status == 403
    assert reply.cookie("ric_session") is None


def test_sessions_are_stored_hashed(console: ConsoleServer, console_store: ConsoleStore) -> None:
    client, _ = login(console, "morgan")
    cookie = client.cookies["ric_session"]

    with console_store.sessions.begin() as session:
        hashes = set(session.execute(select(ConsoleSession.token_hash)).scalars())

    assert cookie not in hashes
    assert hashlib.sha256(cookie.encode()).hexdigest() in hashes


def test_the_server_log_never_contains_passwords(console: ConsoleServer) -> None:
    console.client().post_json("/api/auth/login", {"username": "sam", "password": "leaky-guess-1"})
    login(console, "sam")

    log = console.log()
    assert "leaky-guess-1" not in log
    assert all(password not in log for _, _, password in STAFF.values())
