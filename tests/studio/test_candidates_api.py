"""The learning loop's API: resolved handoffs become FAQ candidates; accept, edit, reject."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from crm_store.models import FaqCandidate, StaffUser
from tests.handoff_console.conftest import ApiClient, ConsoleStore, api_token_for
from tests.studio.editor_support import start_studio_console, studio_store
from tests.studio.inbox_data import PatientClient, fallback, faq
from tests.studio.inbox_data import resolved_handoff as answered_handoff

pytestmark = pytest.mark.studio

TELESCOPE = "can i borrow a telescope, call me on 07700 900123"
TELESCOPE_ANSWER = "Yes: telescopes are lent for a week from Central, with a library card."
WIFI = "the wifi keeps dropping in the reading room"
WIFI_ANSWER = "Forget the network and join it again; the reading room has its own access point."


def resolved_handoff(store: ConsoleStore, name: str, question: dict[str, Any], answer: str) -> int:
    """A conversation whose handoff sam answered and resolved; its conversation id."""
    with store.sessions() as session:
        sam = session.execute(select(StaffUser.id).where(StaffUser.username == "sam")).scalar_one()
    return answered_handoff(store.sessions, name, question, answer, int(sam))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConsoleStore]:
    yield from studio_store(tmp_path_factory.mktemp("candidates-store"))


@pytest.fixture(scope="module")
def conversations(store: ConsoleStore) -> dict[str, int]:
    return {
        "telescope": resolved_handoff(
            store, "telescope", fallback(TELESCOPE, "faq", 0.2), TELESCOPE_ANSWER
        ),
        "wifi": resolved_handoff(store, "wifi", faq(WIFI, "wifi", 0.83), WIFI_ANSWER),
    }


@pytest.fixture(scope="module")
def studio(
    store: ConsoleStore, conversations: dict[str, int], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ApiClient, Path]]:
    server, bot_dir = start_studio_console(store, tmp_path_factory.mktemp("candidates-console"))
    yield PatientClient(server, api_token_for(store.sessions, "alex")), bot_dir
    server.stop()


def candidates(client: ApiClient, query: str = "") -> list[dict[str, Any]]:
    reply = client.get("/api/studio/candidates" + query)
    assert reply.status == 200, reply.text
    return reply.json()["items"]  # type: ignore[no-any-return]


def by_conversation(items: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {item["conversation_id"]: item for item in items}


def test_resolved_handoffs_are_proposed_once(
    studio: tuple[ApiClient, Path], conversations: dict[str, int], store: ConsoleStore
) -> None:
    client, _ = studio
    items = by_conversation(candidates(client))
    telescope, wifi = items[conversations["telescope"]], items[conversations["wifi"]]
    assert (telescope["question"], telescope["answer"], telescope["kind"]) == (
        "can i borrow a telescope, call me on [phone]", TELESCOPE_ANSWER, "new",
    )  # fmt: skip
    assert (wifi["kind"], wifi["suggested_label"], wifi["suggested_score"]) == (
        "extend", "faq/wifi", 0.83,
    )  # fmt: skip
    assert telescope["conversation_url"] == f"/conversations/{conversations['telescope']}"
    assert telescope["status"] == "pending"
    candidates(client)
    with store.sessions() as session:
        assert len(session.execute(select(FaqCandidate.id)).all()) == 2


def test_accept_extends_the_matched_topic(
    studio: tuple[ApiClient, Path], conversations: dict[str, int]
) -> None:
    client, bot_dir = studio
    wifi = by_conversation(candidates(client))[conversations["wifi"]]
    reply = client.post(f"/api/studio/candidates/{wifi['id']}/accept", {})
    assert reply.status == 200, reply.text
    body = reply.json()
    assert (body["candidate"]["status"], body["candidate"]["topic"], body["added"]) == (
        "accepted", "faq/wifi", [WIFI],
    )  # fmt: skip
    assert body["candidate"]["decided_by"] == "Alex Kim"
    nlu = "\n".join(p.read_text() for p in (bot_dir / "data" / "nlu").glob("*.yml"))
    assert f"- {WIFI}" in nlu
    again = client.post(f"/api/studio/candidates/{wifi['id']}/accept", {})
    assert (again.status, again.json()["error"]) == (409, "already_decided")


def test_edit_then_accept_as_a_new_topic(
    studio: tuple[ApiClient, Path], conversations: dict[str, int]
) -> None:
    client, bot_dir = studio
    telescope = by_conversation(candidates(client, "?status=pending"))[conversations["telescope"]]
    no_topic = client.post(f"/api/studio/candidates/{telescope['id']}/accept", {})
    assert (no_topic.status, no_topic.json()["error"]) == (400, "no_topic")
    edited = {
        "topic": "faq/telescope_loans",
        "question": "can i borrow a telescope",
        "answer": "Yes: telescopes are lent for a week from Central.",
    }
    reply = client.post(f"/api/studio/candidates/{telescope['id']}/accept", edited)
    assert reply.status == 200, reply.text
    nlu = "\n".join(p.read_text() for p in (bot_dir / "data" / "nlu").glob("*.yml"))
    domain = "\n".join(p.read_text() for p in (bot_dir / "domain").glob("*.yml"))
    assert "intent: faq/telescope_loans" in nlu and "- can i borrow a telescope" in nlu
    assert "utter_faq/telescope_loans" in domain and "lent for a week from Central." in domain
    accepted = candidates(client, "?status=accepted")
    assert {c["topic"] for c in accepted} == {"faq/wifi", "faq/telescope_loans"}
    assert candidates(client, "?status=pending") == []


def test_reject_and_bad_requests(studio: tuple[ApiClient, Path], store: ConsoleStore) -> None:
    client, bot_dir = studio
    conversation_id = resolved_handoff(
        store, "parrot", fallback("does the library lend parrots", "faq", 0.1), "No parrots."
    )
    item = by_conversation(candidates(client))[conversation_id]
    before = sorted(p.read_text() for p in (bot_dir / "data" / "nlu").glob("*.yml"))
    reply = client.post(f"/api/studio/candidates/{item['id']}/reject")
    assert (reply.status, reply.json()["candidate"]["status"]) == (200, "rejected")
    assert sorted(p.read_text() for p in (bot_dir / "data" / "nlu").glob("*.yml")) == before
    assert client.post("/api/studio/candidates/999999/reject").status == 404
    bad = client.get("/api/studio/candidates?status=maybe")
    assert (bad.status, bad.json()["error"]) == (400, "bad_status")
    plain = client.post(f"/api/studio/candidates/{item['id']}/accept", {"topic": "faq/parrots"})
    assert (plain.status, plain.json()["error"]) == (409, "already_decided")
