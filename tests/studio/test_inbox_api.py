"""The NLU inbox API on the real console and reader store, writing a copy of ``bot/``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from crm_store.models import AuditEntry
from tests.handoff_console.conftest import ApiClient, ConsoleStore, api_token_for
from tests.studio.editor_support import start_studio_console, studio_store
from tests.studio.inbox_data import (
    FALLBACK_TEXT,
    HANDOFF_TEXT,
    LOW_TEXT_MASKED,
    PatientClient,
    Seeded,
    seed_inbox,
)

pytestmark = pytest.mark.studio


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleStore]:
    yield from studio_store(tmp_path_factory.mktemp("inbox-store"))


@pytest.fixture(scope="module")
def seeded(store: ConsoleStore) -> Seeded:
    return seed_inbox(store.sessions)


@pytest.fixture(scope="module")
def studio(
    store: ConsoleStore, seeded: Seeded, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[dict[str, PatientClient], Path]]:
    server, bot = start_studio_console(store, tmp_path_factory.mktemp("inbox-console"))
    clients = {name: PatientClient(server, api_token_for(store.sessions, name)) for name in
               ("alex", "sam", "morgan")}  # fmt: skip
    yield clients, bot
    server.stop()


def inbox(client: ApiClient) -> dict[str, Any]:
    reply = client.get("/api/studio/inbox")
    assert reply.status == 200, reply.text
    return reply.json()  # type: ignore[no-any-return]


def all_ids(body: dict[str, Any]) -> set[int]:
    return {i for g in body["groups"] for i in g["message_ids"]}


def nlu_text(bot: Path) -> str:
    return "\n".join(p.read_text() for p in sorted((bot / "data" / "nlu").glob("*.yml")))


def test_only_admins(studio: tuple[dict[str, ApiClient], Path]) -> None:
    clients, _ = studio
    for path in ("/api/studio/inbox", "/api/studio/candidates", "/api/studio/health"):
        assert [clients[n].get(path).status for n in ("sam", "morgan")] == [403, 403], path
    refused = clients["sam"].post("/api/studio/inbox/decisions", {"decision": "dismissed"})
    assert refused.status == 403


def test_inbox_groups_masked_messages_without_identity(
    studio: tuple[dict[str, ApiClient], Path], seeded: Seeded
) -> None:
    body = inbox(studio[0]["alex"])
    m = seeded.messages
    assert all_ids(body) == {m["fallback"], m["low"], m["low_again"], m["handoff"], m["rated"]}
    first = body["groups"][0]
    assert (first["label"], sorted(first["message_ids"]), first["reasons"]) == (
        LOW_TEXT_MASKED, sorted([m["low"], m["low_again"]]), ["low_confidence"],
    )  # fmt: skip
    item = first["items"][0]
    assert set(item) == {
        "message_id", "text", "channel", "sent_at", "predicted_intent", "confidence", "reasons"
    }  # fmt: skip
    assert (item["text"], item["predicted_intent"]) == (LOW_TEXT_MASKED, "faq/pets")
    assert {"name": "faq/wifi", "kind": "faq"} in body["labels"]
    assert "jo@example.org" not in str(body) and "900123" not in str(body)


def test_assigning_a_group_writes_examples_and_audits(
    studio: tuple[dict[str, ApiClient], Path], seeded: Seeded, store: ConsoleStore
) -> None:
    clients, bot = studio
    m = seeded.messages
    reply = clients["alex"].post(
        "/api/studio/inbox/decisions",
        {"message_ids": [m["low"], m["low_again"]], "decision": "assigned", "label": "faq/wifi"},
    )
    assert reply.status == 200, reply.text
    body = reply.json()
    assert (body["decided"], body["added"]) == (2, [LOW_TEXT_MASKED])
    assert body["files"] and all(f.startswith("data/nlu/") for f in body["files"])
    assert f"- {LOW_TEXT_MASKED}" in nlu_text(bot)
    assert m["low"] not in all_ids(inbox(clients["alex"]))
    with store.sessions() as session:
        actions = set(session.execute(select(AuditEntry.action)).scalars())
    assert {"studio.inbox.assigned", "studio.examples.set"} <= actions
    again = clients["alex"].post(
        "/api/studio/inbox/decisions",
        {"message_ids": [m["low"]], "decision": "dismissed"},
    )
    assert (again.status, again.json()["error"]) == (409, "already_decided")


def test_a_new_faq_topic_from_the_inbox(
    studio: tuple[dict[str, ApiClient], Path], seeded: Seeded
) -> None:
    clients, bot = studio
    message = seeded.messages["fallback"]
    request = {"message_ids": [message], "decision": "assigned", "label": "faq/overdue_things"}
    missing = clients["alex"].post("/api/studio/inbox/decisions", request)
    assert (missing.status, missing.json()["error"]) == (404, "no_intent")
    answer = "Overdue things cost 25p a day; renew them online to stop the clock."
    reply = clients["alex"].post("/api/studio/inbox/decisions", {**request, "answer": answer})
    assert reply.status == 200, reply.text
    assert "intent: faq/overdue_things" in nlu_text(bot)
    assert FALLBACK_TEXT in nlu_text(bot)
    domain = "\n".join(p.read_text() for p in (bot / "domain").glob("*.yml"))
    assert "utter_faq/overdue_things" in domain and "25p a day" in domain


def test_out_of_scope_and_dismiss(
    studio: tuple[dict[str, ApiClient], Path], seeded: Seeded
) -> None:
    clients, bot = studio
    m = seeded.messages
    scope = clients["alex"].post(
        "/api/studio/inbox/decisions", {"message_ids": [m["handoff"]], "decision": "out_of_scope"}
    )
    assert scope.status == 200, scope.text
    assert scope.json()["added"] == [HANDOFF_TEXT]
    out_of_scope = (bot / "data" / "nlu" / "out_of_scope.yml").read_text()
    assert f"- {HANDOFF_TEXT}" in out_of_scope
    before = nlu_text(bot)
    dismissed = clients["alex"].post(
        "/api/studio/inbox/decisions", {"message_ids": [m["rated"]], "decision": "dismissed"}
    )
    assert (dismissed.status, dismissed.json()["files"]) == (200, [])
    assert nlu_text(bot) == before
    assert all_ids(inbox(clients["alex"])) == set()


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"message_ids": [], "decision": "dismissed"}, 400, "bad_messages"),
        ({"message_ids": ["1"], "decision": "dismissed"}, 400, "bad_messages"),
        ({"message_ids": [10**9], "decision": "dismissed"}, 400, "bad_messages"),
        ({"message_ids": [1], "decision": "promote"}, 400, "bad_decision"),
        ({"message_ids": [1], "decision": "assigned"}, 400, "no_label"),
        ({"message_ids": [1], "decision": "assigned", "label": 3}, 400, "bad_request"),
    ],
)
def test_bad_decisions(
    studio: tuple[dict[str, ApiClient], Path], body: dict[str, Any], status: int, error: str
) -> None:
    reply = studio[0]["alex"].post("/api/studio/inbox/decisions", body)
    assert (reply.status, reply.json()["error"]) == (status, error)


def test_the_pages_render_for_admins(studio: tuple[dict[str, PatientClient], Path]) -> None:
    clients, _ = studio
    for path, heading in (
        ("/studio/inbox", "<h1>NLU inbox</h1>"),
        ("/studio/candidates", "<h1>FAQ candidates</h1>"),
        ("/studio/health", "<h1>Intent health</h1>"),
    ):
        page = clients["alex"].get(path)
        assert (page.status, heading in page.text) == (200, True), path
        assert '<script src="/static/studio_inbox.js" defer></script>' in page.text
        assert clients["sam"].get(path).status == 403
