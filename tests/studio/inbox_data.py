"""Reader-store data for the NLU inbox tests: real Rasa events ingested as Rasa sends them.

:func:`seed_inbox` ingests a handful of conversations, one per reason a message reaches
the inbox, plus one the bot handled well, and returns the reader-store ids by name.
"""

from __future__ import annotations

import http.client
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_store import clock
from crm_store.ingestion import RasaEvent, ingest
from crm_store.models import Feedback, Handoff, HandoffStatus, Message, OutboundMessage
from crm_store.redaction import mask_personal
from crm_store.repositories import conversation_of, open_handoff
from tests.handoff_console.conftest import ApiClient
from tests.handoff_console.console_server import Reply


def user(text: str, intent: str, confidence: float, **parse: Any) -> dict[str, Any]:
    """A ``user`` event body with the parse data Rasa records."""
    data: dict[str, Any] = {"intent": {"name": intent, "confidence": confidence}, **parse}
    return {"event": "user", "text": text, "parse_data": data}


def faq(text: str, topic: str, confidence: float) -> dict[str, Any]:
    """A reader message recognised as the FAQ topic ``faq/<topic>``."""
    body = user(text, "faq", confidence)
    body["parse_data"]["intent"]["full_retrieval_intent_name"] = f"faq/{topic}"
    return body


def fallback(text: str, best: str, best_confidence: float) -> dict[str, Any]:
    """A reader message that fell back, with ``best`` as the top real intent."""
    return user(
        text,
        "nlu_fallback",
        0.3,
        intent_ranking=[
            {"name": "nlu_fallback", "confidence": 0.3},
            {"name": best, "confidence": best_confidence},
        ],
    )


def bot(text: str) -> dict[str, Any]:
    """A bot message."""
    return {"event": "bot", "text": text}


@dataclass
class Seeded:
    """Reader-store ids of the seeded messages, by name, and the senders."""

    messages: dict[str, int] = field(default_factory=dict)
    senders: dict[str, str] = field(default_factory=dict)


def conversation(
    sessions: sessionmaker[Session],
    name: str,
    bodies: list[dict[str, Any]],
    channel: str = "webchat",
    start: float | None = None,
) -> str:
    """Ingest ``bodies`` as one conversation, 10 seconds apart; returns its sender id."""
    sender_id = f"{name}-{uuid.uuid4().hex[:10]}"
    begin = start if start is not None else time.time() - 3600
    events = [
        RasaEvent(sender_id, {**body, "timestamp": begin + 10 * i, "input_channel": channel})
        for i, body in enumerate(bodies)
    ]
    with sessions.begin() as session:
        ingest(session, events, "test")
    return sender_id


def message_id(sessions: sessionmaker[Session], sender_id: str, text: str) -> int:
    """The reader-store id of the message ``text`` of ``sender_id``'s conversation.

    Compared masked, since the store may already keep card numbers masked.
    """
    with sessions() as session:
        found = conversation_of(session, sender_id)
        assert found is not None
        rows = session.execute(
            select(Message.id, Message.text).where(Message.conversation_id == found.id)
        ).all()
    (only,) = [i for i, t in rows if t and mask_personal(t) == mask_personal(text)]
    return int(only)


FALLBACK_TEXT = "what happens with my overdue thingy"
REPHRASE_TEXT = "overdue thingy fees"
LOW_TEXT = "can i bring my dog, mail jo@example.org or ring 07700 900123"
LOW_TEXT_MASKED = "can i bring my dog, mail [email] or ring [phone]"
HANDOFF_TEXT = "are you open on boxing day"
RATED_TEXT = "renew everything on card 2123 4000 1234 56"
RATED_TEXT_MASKED = "renew everything on card **********3456"
GOOD_TEXT = "when do you open tomorrow"


def seed_inbox(sessions: sessionmaker[Session]) -> Seeded:
    """One conversation per inbox reason, one handled well, one repeating a question."""
    seeded = Seeded()
    seeded.senders["fallback"] = conversation(
        sessions,
        "fallback",
        [
            fallback(FALLBACK_TEXT, "faq", 0.22),
            bot("Sorry, I didn't understand."),
            faq(REPHRASE_TEXT, "fines", 0.81),
            bot("Fines are 25p a day."),
        ],
    )
    seeded.senders["low"] = conversation(
        sessions, "low", [faq(LOW_TEXT, "pets", 0.41), bot("Assistance dogs are welcome.")],
        channel="telegram",
    )  # fmt: skip
    seeded.senders["low_again"] = conversation(
        sessions, "lowagain", [faq(LOW_TEXT, "pets", 0.38), bot("Assistance dogs are welcome.")]
    )
    seeded.senders["handoff"] = conversation(
        sessions,
        "handoff",
        [
            user(HANDOFF_TEXT, "opening_hours", 0.9),
            bot("We are open 9 to 5."),
            user("let me talk to a person", "request_human", 0.95),
        ],
    )
    seeded.senders["rated"] = conversation(
        sessions, "rated", [user(RATED_TEXT, "renew_loans", 0.93), bot("Renewed 2 books.")]
    )
    seeded.senders["good"] = conversation(
        sessions,
        "good",
        [user("hello", "greet", 0.99), bot("Hi!"), user(GOOD_TEXT, "opening_hours", 0.97)],
    )
    with sessions.begin() as session:
        open_handoff(
            session, sender_id=seeded.senders["handoff"], channel="webchat", reason="reader asked"
        )
        rated = conversation_of(session, seeded.senders["rated"])
        assert rated is not None
        session.add(Feedback(conversation_id=rated.id, rating=1, source="survey"))
    texts = {
        "fallback": ("fallback", FALLBACK_TEXT),
        "rephrase": ("fallback", REPHRASE_TEXT),
        "low": ("low", LOW_TEXT),
        "low_again": ("low_again", LOW_TEXT),
        "handoff": ("handoff", HANDOFF_TEXT),
        "rated": ("rated", RATED_TEXT),
        "good": ("good", GOOD_TEXT),
    }
    for name, (sender, text) in texts.items():
        seeded.messages[name] = message_id(sessions, seeded.senders[sender], text)
    return seeded


def resolved_handoff(
    sessions: sessionmaker[Session],
    name: str,
    question: dict[str, Any],
    answer: str | None,
    librarian_id: int,
    *,
    resolve: bool = True,
    ingested: bool = True,
) -> int:
    """A conversation: a question, a handoff the librarian answered (and resolved).

    Args:
        sessions: The reader store.
        name: Prefix of the sender id.
        question: The reader's ``user`` event before asking for a person.
        answer: The librarian's message (None: they wrote nothing).
        librarian_id: The librarian's ``staff_users.id``.
        resolve: Resolve the handoff (else it stays claimed).
        ingested: The answer reached the store through Rasa (else only the outbox has it).

    Returns:
        The conversation's id.
    """
    sender = conversation(
        sessions, name,
        [question, bot("Sorry, I didn't get that."), user("a person please", "request_human", 0.9)],
        start=time.time() - 600,
    )  # fmt: skip
    with sessions.begin() as session:
        handoff, _ = open_handoff(session, sender_id=sender, channel="webchat", reason="asked")
        handoff.status = HandoffStatus.CLAIMED
        handoff.librarian_id = librarian_id
        conversation_id = int(handoff.conversation_id)
    with sessions.begin() as session:
        if answer is not None and ingested:
            said = {"event": "bot", "text": answer, "metadata": {"librarian_id": librarian_id}}
            body = {**said, "timestamp": time.time(), "input_channel": "webchat"}
            ingest(session, [RasaEvent(sender, body)], "test")
        elif answer is not None:
            session.add(
                OutboundMessage(
                    conversation_id=conversation_id, staff_user_id=librarian_id, text=answer
                )
            )
        if resolve:
            handoff = session.execute(
                select(Handoff).where(Handoff.conversation_id == conversation_id)
            ).scalar_one()
            handoff.status = HandoffStatus.RESOLVED
            handoff.resolved_at = clock.now()
    return conversation_id


class PatientClient(ApiClient):
    """An API client that waits up to five minutes for an answer.

    A studio save validates the whole Rasa project first (the training-data editor), which
    takes far longer than the console tests' 30 seconds on a busy two-core host.
    """

    def call(self, method: str, path: str, data: object = None) -> Any:
        headers = {"Accept": "application/json", "Authorization": f"Bearer {self.token}"}
        body = None
        if data is not None:
            body = json.dumps(data).encode()
            headers["Content-Type"] = "application/json"
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=300)
        try:
            connection.request(method, path, body=body, headers=headers)
            raw = connection.getresponse()
            return Reply(raw.status, raw.headers, raw.read())
        finally:
            connection.close()
