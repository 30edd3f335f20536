"""FAQ candidates in the store: which handoffs, texts and suggestions (SQLite, PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_store.faq_candidates import CandidateError, decide_candidate, sync_candidates
from crm_store.ingestion import RasaEvent, ingest
from crm_store.models import Conversation, FaqCandidate, Handoff, HandoffStatus
from handoff_console.accounts import create_staff
from tests.studio.inbox_data import fallback, faq, resolved_handoff

pytestmark = pytest.mark.studio


@pytest.fixture
def librarian(sessions: sessionmaker[Session]) -> int:
    with sessions.begin() as session:
        user = create_staff(
            session, username="sam", password="sam-correct-horse", display_name="Sam Reyes"
        )
        return int(user.id)


def candidates(sessions: sessionmaker[Session]) -> dict[int, FaqCandidate]:
    with sessions() as session:
        rows = session.execute(select(FaqCandidate)).scalars().all()
        session.expunge_all()
    return {row.conversation_id: row for row in rows}


def test_each_resolved_handoff_with_an_answer_proposes_once(
    sessions: sessionmaker[Session], librarian: int
) -> None:
    made = {
        "new": resolved_handoff(
            sessions, "new", fallback("can i hire a kayak, mail me at jo@example.org", "faq", 0.2),
            "No kayaks, sorry.", librarian,
        ),
        "match": resolved_handoff(
            sessions, "match", faq("wifi drops all the time", "wifi", 0.83), "Rejoin it.", librarian
        ),
        "unsure": resolved_handoff(
            sessions, "unsure", faq("the network thing", "wifi", 0.5), "Which network?", librarian
        ),
        "outbox": resolved_handoff(
            sessions, "outbox", fallback("do you lend telescopes", "faq", 0.1), "Yes, a week.",
            librarian, ingested=False,
        ),
        "silent": resolved_handoff(
            sessions, "silent", fallback("hello??", "faq", 0.1), None, librarian
        ),
        "open": resolved_handoff(
            sessions, "open", fallback("still open", "faq", 0.1), "Working on it.", librarian,
            resolve=False,
        ),
    }  # fmt: skip
    with sessions.begin() as session:
        assert sync_candidates(session, 0.6) == 4
    with sessions.begin() as session:
        assert sync_candidates(session, 0.6) == 0
    found = candidates(sessions)
    assert set(found) == {made[k] for k in ("new", "match", "unsure", "outbox")}
    new, match = found[made["new"]], found[made["match"]]
    assert (new.question, new.answer, new.suggested_label, new.status) == (
        "can i hire a kayak, mail me at [email]", "No kayaks, sorry.", None, "pending",
    )  # fmt: skip
    assert (match.suggested_label, match.suggested_score) == ("faq/wifi", 0.83)
    assert found[made["unsure"]].suggested_label is None
    assert found[made["outbox"]].answer == "Yes, a week."


def test_decisions(sessions: sessionmaker[Session], librarian: int) -> None:
    conversation = resolved_handoff(
        sessions, "d", fallback("can i hire a kayak", "faq", 0.2), "No.", librarian
    )
    with sessions.begin() as session:
        sync_candidates(session, 0.6)
    candidate_id = candidates(sessions)[conversation].id
    with sessions.begin() as session, pytest.raises(CandidateError, match="needs its topic"):
        decide_candidate(session, candidate_id, "accepted", librarian)
    with sessions.begin() as session, pytest.raises(CandidateError, match="accepted or rejected"):
        decide_candidate(session, candidate_id, "maybe", librarian)
    with sessions.begin() as session:
        decide_candidate(
            session, candidate_id, "accepted", librarian, topic="faq/kayaks", answer="We don't."
        )
    decided = candidates(sessions)[conversation]
    assert (decided.status, decided.topic, decided.answer, decided.question) == (
        "accepted", "faq/kayaks", "We don't.", "can i hire a kayak",
    )  # fmt: skip
    with sessions.begin() as session, pytest.raises(CandidateError, match="already accepted"):
        decide_candidate(session, candidate_id, "rejected", librarian)
    with sessions.begin() as session, pytest.raises(CandidateError, match="no such candidate"):
        decide_candidate(session, 10**9, "rejected", librarian)


def said_by_librarian(
    sessions: sessionmaker[Session], conversation_id: int, librarian: int, texts: list[str]
) -> None:
    """Ingest ``texts`` as the librarian's messages, in order, then resolve the handoff."""
    with sessions.begin() as session:
        handoff = session.execute(
            select(Handoff).where(Handoff.conversation_id == conversation_id)
        ).scalar_one()
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        sender = str(conversation.sender_id)
        start = handoff.requested_at.timestamp()
        events = [
            RasaEvent(
                sender,
                {
                    "event": "bot",
                    "text": text,
                    "metadata": {"librarian_id": librarian},
                    "timestamp": start + i + 1,
                    "input_channel": "webchat",
                },
            )
            for i, text in enumerate(texts)
        ]
        ingest(session, events, "test")
    with sessions.begin() as session:
        handoff = session.execute(
            select(Handoff).where(Handoff.conversation_id == conversation_id)
        ).scalar_one()
        handoff.status = HandoffStatus.RESOLVED
        handoff.resolved_at = handoff.requested_at + timedelta(seconds=len(texts) + 1)


def test_the_answer_leaves_out_greetings_holding_lines_and_sign_offs(
    sessions: sessionmaker[Session], librarian: int
) -> None:
    chatty = resolved_handoff(
        sessions, "chatty", fallback("do you lend telescopes", "faq", 0.1), None, librarian,
        resolve=False,
    )  # fmt: skip
    said_by_librarian(
        sessions, chatty, librarian,
        [
            "Hi Ada, Sam here \u2014 let me check.",
            "One moment please :)",
            "Thanks for waiting, Ada! Yes, we lend telescopes for a week.",
            "Book one at the desk, or mail desk@example.org.",
            "Anything else?",
            "You're welcome, have a nice day! \U0001f44b",
        ],
    )  # fmt: skip
    only_talk = resolved_handoff(
        sessions, "talk", fallback("are you there", "faq", 0.1), None, librarian, resolve=False
    )
    said_by_librarian(sessions, only_talk, librarian, ["Hi Ada!", "Anything else?"])
    with sessions.begin() as session:
        assert sync_candidates(session, 0.6) == 2
    found = candidates(sessions)
    assert found[chatty].answer == (
        "Yes, we lend telescopes for a week.\n\nBook one at the desk, or mail [email]."
    )
    assert found[only_talk].answer == "Hi Ada!\n\nAnything else?"
