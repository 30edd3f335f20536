"""Canned replies over HTTP: edit, delete, shared and personal, placeholders, bad input."""

from __future__ import annotations

import uuid
from urllib.parse import quote

import pytest
from sqlalchemy import select

from crm_store.models import AuditEntry, CannedResponse, Conversation, Reader

pytestmark = pytest.mark.workspace

LIBRARY = "Riverbend Public Library"


def _add(client, **fields):
    body = {"title": "Wi-Fi", "body": "Hi {first_name}, the network is open."} | fields
    reply = client.post("/api/canned-responses", body)
    assert reply.status == 201, reply.json()
    return reply.json()


def test_edit_with_put_and_patch_is_seen_by_colleagues_and_audited(api_clients, console_store):
    shortcut = f"wifi{uuid.uuid4().hex[:6]}"
    created = _add(api_clients["sam"], shortcut=shortcut, language="en", tag="services")
    assert (created["shared"], created["owner"], created["can_edit"]) == (True, None, True)
    assert (created["language"], created["tag"]) == ("en", "services")
    # A shared reply: a colleague sees it but may not change it.
    seen = api_clients["maria"].get(f"/api/canned-responses?q={shortcut}").json()["items"]
    assert [(c["id"], c["can_edit"]) for c in seen] == [(created["id"], False)]

    url = f"/api/canned-responses/{created['id']}"
    put = api_clients["sam"].call(
        "PUT", url, {"title": "Wi-Fi access", "body": "Pick {library_name} Guest.", "tag": "wifi"}
    )
    assert put.status == 200, put.json()
    # PUT replaces the whole reply: the shortcut and language left out are cleared.
    assert (put.json()["title"], put.json()["shortcut"], put.json()["language"]) == (
        "Wi-Fi access",
        None,
        None,
    )
    patch = api_clients["sam"].patch(url, {"language": "es"})
    assert (patch.status, patch.json()["title"], patch.json()["language"]) == (
        200,
        "Wi-Fi access",
        "es",
    )
    found = api_clients["maria"].get("/api/canned-responses?q=Wi-Fi%20access").json()["items"]
    assert [(c["id"], c["body"], c["tag"]) for c in found] == [
        (created["id"], "Pick {library_name} Guest.", "wifi")
    ]
    with console_store.sessions() as session:
        actions = session.execute(
            select(AuditEntry.action)
            .where(AuditEntry.subject == f"canned:{created['id']}")
            .order_by(AuditEntry.id)
        ).scalars()
        assert list(actions) == ["canned.create", "canned.update", "canned.update"]


def test_personal_replies_are_the_owners(api_clients):
    mine = _add(api_clients["sam"], title=f"Mine {uuid.uuid4().hex[:6]}", shared=False)
    assert (mine["shared"], mine["owner"]) == (False, "Sam Reyes")
    url = f"/api/canned-responses/{mine['id']}"
    listed = api_clients["maria"].get("/api/canned-responses").json()["items"]
    assert mine["id"] not in {c["id"] for c in listed}
    assert mine["id"] in {
        c["id"] for c in api_clients["sam"].get("/api/canned-responses").json()["items"]
    }
    for method, body in (
        ("PUT", {"title": "x", "body": "y"}),
        ("PATCH", {"title": "x"}),
        ("DELETE", None),
    ):
        refused = api_clients["maria"].call(method, url, body)
        assert (refused.status, refused.json()["error"]) == (403, "forbidden")
    assert api_clients["maria"].get(f"{url}/render").status == 404
    # An admin may change any reply.
    assert api_clients["alex"].patch(url, {"tag": "tidy"}).json()["tag"] == "tidy"
    deleted = api_clients["sam"].call("DELETE", url)
    assert (deleted.status, deleted.json()) == (200, {"id": mine["id"], "deleted": True})
    assert api_clients["sam"].call("DELETE", url).status == 404


def test_only_admins_and_the_author_change_a_shared_reply(api_clients):
    shared = _add(api_clients["sam"], title=f"Shared {uuid.uuid4().hex[:6]}")
    url = f"/api/canned-responses/{shared['id']}"
    assert api_clients["maria"].patch(url, {"title": "Mine now"}).status == 403
    assert api_clients["morgan"].call("DELETE", url).status == 403
    assert api_clients["alex"].patch(url, {"title": "Checked"}).json()["title"] == "Checked"
    assert api_clients["alex"].call("DELETE", url).status == 200


@pytest.mark.parametrize(
    ("method", "body", "status", "error"),
    [
        ("PATCH", {"title": ""}, 400, "bad_title"),
        ("PATCH", {"title": "   "}, 400, "bad_title"),
        ("PATCH", {"title": "t" * 121}, 400, "bad_title"),
        ("PATCH", {"body": "b" * 4001}, 400, "text_too_long"),
        ("PATCH", {"body": ""}, 400, "empty_text"),
        ("PATCH", {"shortcut": "has space"}, 400, "bad_shortcut"),
        ("PATCH", {"language": "English!"}, 400, "bad_language"),
        ("PATCH", {"shared": "yes"}, 400, "bad_shared"),
        ("PUT", {"body": "no title"}, 400, "bad_title"),
        ("PATCH", [1], 400, "bad_json"),
    ],
)
def test_bad_edits_are_refused(api_clients, method, body, status, error):
    created = _add(api_clients["sam"], title=f"Valid {uuid.uuid4().hex[:6]}")
    reply = api_clients["sam"].call(method, f"/api/canned-responses/{created['id']}", body)
    assert (reply.status, reply.json()["error"]) == (status, error)
    unchanged = api_clients["sam"].get(f"/api/canned-responses?q={quote(created['title'])}").json()
    assert [c["body"] for c in unchanged["items"]] == [created["body"]]


def test_unknown_ids_and_bad_creates(api_clients):
    for method in ("PUT", "PATCH", "DELETE"):
        body = None if method == "DELETE" else {"title": "x", "body": "y"}
        missing = api_clients["sam"].call(method, "/api/canned-responses/987654321", body)
        assert (missing.status, missing.json()["error"]) == (404, "not_found")
    empty = api_clients["sam"].post("/api/canned-responses", {"title": "", "body": "y"})
    assert (empty.status, empty.json()["error"]) == (400, "bad_title")
    huge = api_clients["sam"].post("/api/canned-responses", {"title": "x", "body": "y" * 5000})
    assert (huge.status, huge.json()["error"]) == (400, "text_too_long")
    taken = _add(api_clients["sam"], shortcut=f"s{uuid.uuid4().hex[:6]}")
    other = _add(api_clients["sam"], title="Other")
    clash = api_clients["sam"].patch(
        f"/api/canned-responses/{other['id']}", {"shortcut": taken["shortcut"]}
    )
    assert (clash.status, clash.json()["error"]) == (409, "duplicate_shortcut")
    assert api_clients["anon"].call("DELETE", f"/api/canned-responses/{other['id']}").status == 401


def test_placeholders_are_filled_or_degrade(api_clients, api_handoff, console_store):
    body = "Hi {first_name} ({reader_name}), {librarian_name} at {library_name}. {other}"
    created = _add(api_clients["sam"], title=f"Hello {uuid.uuid4().hex[:6]}", body=body)
    anonymous = api_handoff()
    known = api_handoff()
    with console_store.sessions.begin() as session:
        reader = Reader(display_name="Ada Okafor")
        session.add(reader)
        session.flush()
        session.get(Conversation, known).reader_id = reader.id
    url = f"/api/canned-responses/{created['id']}/render"
    filled = api_clients["maria"].get(f"{url}?conversation_id={known}").json()["text"]
    assert filled == f"Hi Ada (Ada Okafor), Maria Lopez at {LIBRARY}. {{other}}"
    unknown = api_clients["maria"].get(f"{url}?conversation_id={anonymous}").json()["text"]
    assert unknown == f"Hi there (there), Maria Lopez at {LIBRARY}. {{other}}"
    no_chat = api_clients["maria"].get(url).json()["text"]
    assert "{first_name}" not in no_chat and no_chat.startswith("Hi there")
    assert api_clients["maria"].get(f"{url}?conversation_id=987654321").status == 404


def test_starter_set_is_seeded_once(staff_store):
    from crm_store.seed import STARTER_CANNED, seed_canned

    with staff_store.sessions.begin() as session:
        assert seed_canned(session) == len(STARTER_CANNED)
    with staff_store.sessions.begin() as session:
        assert seed_canned(session) == 0
        hello = session.execute(
            select(CannedResponse).where(CannedResponse.shortcut == "hello")
        ).scalar_one()
        session.delete(hello)
    with staff_store.sessions.begin() as session:
        # A starter reply staff deleted does not come back.
        assert seed_canned(session) == 0
        rows = session.execute(select(CannedResponse)).scalars().all()
        assert len(rows) == len(STARTER_CANNED) - 1
        assert all(r.owner_id is None and r.language == "en" and r.tag for r in rows)
        assert {"checking", "renew", "pickup", "fines", "wifi", "bye"} <= {r.shortcut for r in rows}
