"""The inbox API (``GET /api/inbox``) on a real console process and a migrated SQLite store.

Each test tags its conversations with a word of its own and searches for it, so the
counts it checks are its own whatever else the module's store holds.
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import select

from crm_store.ingestion import RasaEvent, ingest
from crm_store.models import Conversation, Handoff, HandoffStatus
from crm_store.repositories import open_handoff
from handoff_console.services.common import now
from handoff_console.services.inbox import inbox_page, parse_filters

pytestmark = pytest.mark.workspace

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
INTENT = {"intent": {"name": "request_human", "confidence": 0.9}}
BOT_REPLY = "I've asked a librarian to join. Please stay here."


def word() -> str:
    return f"zq{uuid.uuid4().hex[:10]}"


def talk(console_store, *texts: str, channel: str = "webchat", handoff: bool = True) -> int:
    """A conversation: the reader's messages, the bot's reply, then (maybe) a handoff."""
    sender_id = f"inbox-{uuid.uuid4().hex[:12]}"
    start = time.time() - 60
    events = [
        RasaEvent(sender_id, {"event": "user", "text": text, "timestamp": start + i,
                              "input_channel": channel, "parse_data": INTENT})
        for i, text in enumerate(texts)
    ]  # fmt: skip
    events.append(
        RasaEvent(sender_id, {"event": "bot", "text": BOT_REPLY, "timestamp": start + len(texts)})
    )
    with console_store.sessions.begin() as session:
        ingest(session, events, "test")
        if handoff:
            made, _ = open_handoff(
                session, sender_id=sender_id, channel=channel, reason="reader asked"
            )
            return int(made.conversation_id)
        session.flush()
        return int(
            session.query(Conversation.id).filter(Conversation.sender_id == sender_id).scalar()
        )


def inbox(client, **params: str):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return client.get(f"/api/inbox?{query}")


def test_waiting_card_shows_the_readers_own_question_with_the_card_masked(
    api_clients, console_store
):
    tag = word()
    conversation_id = talk(console_store, f"{tag} where is my book? card 2123 4000 1234 56")
    reply = inbox(api_clients["sam"], list="waiting", q=tag)
    assert reply.status == 200
    body = reply.json()
    assert body["counts"] == {"waiting": 1, "mine": 0, "open": 1, "resolved": 0, "bot": 0}
    assert body["total"] == 1
    [item] = body["items"]
    assert item["conversation_id"] == conversation_id
    assert item["question"] == f"{tag} where is my book? card **********3456"
    assert item["state"] == "waiting"
    assert item["channel"] == "webchat"
    assert item["other_open"] == 0
    assert item["librarian"] is None
    assert isinstance(item["waiting_seconds"], int)


def test_claiming_moves_a_conversation_to_mine_for_that_librarian_only(api_clients, console_store):
    tag = word()
    conversation_id = talk(console_store, f"{tag} help")
    assert api_clients["sam"].post(f"/api/conversations/{conversation_id}/claim").status == 200
    sam = inbox(api_clients["sam"], list="mine", q=tag).json()
    maria = inbox(api_clients["maria"], list="mine", q=tag).json()
    assert sam["counts"] == {"waiting": 0, "mine": 1, "open": 1, "resolved": 0, "bot": 0}
    assert maria["counts"]["mine"] == 0
    [item] = sam["items"]
    assert item["state"] == "claimed"
    assert item["librarian"]["name"] == "Sam Reyes"
    assert item["waiting_seconds"] is None


def test_a_reader_with_another_open_conversation_is_flagged(api_clients, console_store):
    tag = word()
    first = talk(console_store, f"{tag} on the web")
    second = talk(console_store, f"{tag} on telegram", channel="telegram")
    with console_store.sessions.begin() as session:
        session.get(Conversation, second).reader_id = session.get(Conversation, first).reader_id
    items = inbox(api_clients["sam"], list="open", q=tag).json()["items"]
    assert [(i["conversation_id"], i["other_open"]) for i in items] == [(first, 1), (second, 1)]
    telegram = inbox(api_clients["sam"], list="open", q=tag, channel="telegram").json()
    assert [i["conversation_id"] for i in telegram["items"]] == [second]
    assert telegram["counts"]["open"] == 1


def test_resolved_and_bot_only_lists(api_clients, console_store):
    tag = word()
    resolved = talk(console_store, f"{tag} solved")
    bot_only = talk(console_store, f"{tag} opening hours?", handoff=False)
    with console_store.sessions.begin() as session:
        handoff = session.query(Handoff).filter(Handoff.conversation_id == resolved).one()
        handoff.status = HandoffStatus.RESOLVED
        handoff.resolved_at = now()
    body = inbox(api_clients["sam"], list="resolved", q=tag).json()
    assert body["counts"] == {"waiting": 0, "mine": 0, "open": 0, "resolved": 1, "bot": 1}
    assert [(i["conversation_id"], i["state"]) for i in body["items"]] == [(resolved, "resolved")]
    bot = inbox(api_clients["sam"], list="bot", q=tag).json()
    [item] = bot["items"]
    assert (item["conversation_id"], item["state"], item["handoff_id"]) == (bot_only, "bot", None)
    assert item["question"] == f"{tag} opening hours?"


def test_branch_tag_and_day_filters(api_clients, console_store):
    tag = word()
    conversation_id = talk(console_store, f"{tag} interlibrary loan")
    talk(console_store, f"{tag} something else")
    with console_store.sessions.begin() as session:
        handoff = session.query(Handoff).filter(Handoff.conversation_id == conversation_id).one()
        handoff.department = "reference"
        handoff.tags = ["thesis", "ill"]
    sam = api_clients["sam"]

    def ids(**params: str) -> list[int]:
        return [
            i["conversation_id"] for i in inbox(sam, list="open", q=tag, **params).json()["items"]
        ]

    assert ids(branch="reference") == [conversation_id]
    assert ids(tag="thesis") == [conversation_id]
    assert ids(tag="thes") == []
    today = now().date()
    assert (
        len(ids(**{"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=1))}))
        == 2
    )
    assert ids(**{"from": str(today + timedelta(days=2))}) == []


def test_search_matches_markup_and_wildcards_literally(api_clients, console_store):
    tag = word()
    percent = talk(console_store, f"{tag} is 100% of the fine due?")
    markup = talk(console_store, f"{tag} {XSS}")
    plain = talk(console_store, f"{tag} plain question")
    sam = api_clients["sam"]

    def found(q: str) -> list[dict]:
        return inbox(sam, list="open", q=quote(f"{tag} {q}", safe="")).json()["items"]

    def ids(q: str) -> list[int]:
        return [i["conversation_id"] for i in found(q)]

    assert ids("is 100%") == [percent]
    assert ids("%") == []  # "%" is not a wildcard: no text holds "<tag> %"
    assert ids("<script>") == [markup]
    [item] = found('<script>alert("x")</script><img')
    assert item["question"] == f"{tag} {XSS}"  # data, returned as typed; pages set it as text
    assert ids("PLAIN QUESTION") == [plain]  # case-insensitive
    assert ids("plain_question") == []  # "_" is not a wildcard


@pytest.mark.parametrize(
    "query",
    [
        "list=everything",
        "from=2026-13-01",
        "from=2026-12-02&to=2026-12-01",
        "channel=%3Cb%3E",
        "tag=a%20b",
        "page=0",
        "page=x",
        "q=" + "a" * 201,
    ],
)
def test_bad_filters_are_a_400(api_clients, query):
    reply = api_clients["sam"].get(f"/api/inbox?{query}")
    assert reply.status == 400
    assert reply.json()["error"] == "bad_filter"


def test_the_inbox_needs_staff(api_clients):
    reply = api_clients["anon"].get("/api/inbox")
    assert reply.status == 401


def test_search_and_tag_filters_on_sqlite_and_postgresql(sessions):
    """The same SQL on both databases: ILIKE/lower LIKE with escapes, the tag in the JSON."""
    store = type("Store", (), {"sessions": sessions})()
    percent = talk(store, "Is it 100% FREE to join?")
    talk(store, "is it 100 free to join?")
    underscore = talk(store, "my pin_code does not work")
    talk(store, "my pinXcode does not work")
    with sessions.begin() as session:
        handoff = session.query(Handoff).filter(Handoff.conversation_id == percent).one()
        handoff.tags = ["fees", "membership"]

    def ids(**params: str) -> list[int]:
        with sessions.begin() as session:
            page = inbox_page(session, 0, parse_filters({"list": "open", **params}))
        return [item["conversation_id"] for item in page["items"]]

    assert ids(q="100% free") == [percent]
    assert ids(q="pin_code") == [underscore]
    assert ids(tag="membership") == [percent]
    assert ids(tag="member") == []


def _spoken(console_store, text: str, guesses: list[dict[str, object] | None]) -> int:
    """A waiting conversation whose reader messages carry these language guesses."""
    sender_id = f"inbox-{uuid.uuid4().hex[:12]}"
    start = time.time() - 60
    events = []
    for i, guess in enumerate(guesses):
        parse = {**INTENT, **({"language": guess} if guess is not None else {})}
        body = {"event": "user", "text": f"{text} {i}", "timestamp": start + i,
                "input_channel": "webchat", "parse_data": parse}  # fmt: skip
        events.append(RasaEvent(sender_id, body))
    with console_store.sessions.begin() as session:
        ingest(session, events, "test")
        made, _ = open_handoff(session, sender_id=sender_id, channel="webchat", reason="asked")
        return int(made.conversation_id)


def test_the_language_filter_uses_the_language_the_nlu_was_sure_of(api_clients, console_store):
    tag = word()
    spanish = _spoken(
        console_store,
        tag,
        [{"code": "es", "confidence": 0.96}, {"code": "und", "confidence": 0.0}, None],
    )
    english = _spoken(console_store, tag, [{"code": "en", "confidence": 0.9}])
    unsure = _spoken(console_store, tag, [{"code": "fr", "confidence": 0.4}])
    everyone = inbox(api_clients["sam"], list="waiting", q=tag).json()
    languages = {i["conversation_id"]: i["language"] for i in everyone["items"]}
    assert languages == {spanish: "es", english: "en", unsure: None}

    only = inbox(api_clients["sam"], list="waiting", q=tag, language="es").json()
    assert [i["conversation_id"] for i in only["items"]] == [spanish]
    assert only["counts"]["waiting"] == 1
    upper = inbox(api_clients["sam"], list="open", q=tag, language="EN").json()
    assert [i["conversation_id"] for i in upper["items"]] == [english]
    view = api_clients["sam"].get(f"/api/conversations/{spanish}").json()
    assert view["language"] == "es"
    for bad in ("e", "english", "e1", quote("<b>")):
        reply = inbox(api_clients["sam"], list="waiting", language=bad)
        assert (reply.status, reply.json()["error"]) == (400, "bad_filter"), bad


def test_a_telegram_profile_language_stands_in_until_the_nlu_is_sure(api_clients, console_store):
    sender_id = f"inbox-{uuid.uuid4().hex[:12]}"
    start = time.time() - 60

    def said(at: float, guess: dict[str, object]) -> RasaEvent:
        body = {"event": "user", "text": "hello", "timestamp": at, "input_channel": "telegram",
                "parse_data": {**INTENT, "language": guess},
                "metadata": {"telegram": {"language_code": "pt-BR"}}}  # fmt: skip
        return RasaEvent(sender_id, body)

    with console_store.sessions.begin() as session:
        ingest(session, [said(start, {"code": "en", "confidence": 0.6})], "test")
        conversation = session.execute(
            select(Conversation).where(Conversation.sender_id == sender_id)
        ).scalar_one()
        assert conversation.language == "pt"  # the profile, while the NLU is unsure
    with console_store.sessions.begin() as session:
        ingest(session, [said(start + 1, {"code": "es", "confidence": 1.0})], "test")
        conversation = session.execute(
            select(Conversation).where(Conversation.sender_id == sender_id)
        ).scalar_one()
        assert conversation.language == "es"  # what the reader writes wins
