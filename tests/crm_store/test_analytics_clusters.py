"""Clusters of unanswered questions: three clearly separate topics, five phrasings each.

The questions reach the store the three ways the analysis recognises them: a fallback
intent, a fallback action after the message, and a handoff right after the message.
The real packaged sentence encoder embeds them.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy.orm import Session, sessionmaker

from crm_store.models import Handoff, HandoffStatus, SenderKind
from tests.crm_store.test_analytics_metrics import action_event, conversation, message
from worker.analytics.clusters import cluster_questions, mask, unanswered_questions
from worker.analytics.embeddings import encode

TOPICS = {
    "parking": [
        "Is there a car park near the library?",
        "Where can I park my car?",
        "Do you have parking spaces for visitors?",
        "how much does parking cost at the library",
        "can I leave my car in your parking lot",
    ],
    "3d printing": [
        "Can I use the 3D printer?",
        "how do I book the 3d printer",
        "Do you offer 3D printing for the public?",
        "what does 3D printing cost",
        "is the 3d printer working today",
    ],
    "pets": [
        "Are dogs allowed in the library?",
        "can I bring my dog inside",
        "Is the library pet friendly?",
        "may I come in with my puppy",
        "are pets permitted in the building",
    ],
}
START = datetime(2026, 3, 2, 10, tzinfo=timezone.utc)
UNTIL = datetime(2026, 3, 20, tzinfo=timezone.utc)


def _build(sessions: sessionmaker[Session]) -> dict[str, set[int]]:
    """Store the questions; returns the message ids per topic."""
    members: dict[str, set[int]] = {topic: set() for topic in TOPICS}
    with sessions.begin() as s:
        n = 0
        for topic, texts in TOPICS.items():
            for text in texts:
                n += 1
                when = START + timedelta(hours=n)
                conv = conversation(s, "webchat" if n % 2 else "telegram", None, when, f"q{n}")
                way = n % 3
                if way == 0:
                    asked = message(s, conv, when, text, "nlu_fallback")
                elif way == 1:
                    asked = message(s, conv, when, text, "faq")
                    action_event(s, conv, when + timedelta(seconds=1), "action_clarify")
                    message(
                        s,
                        conv,
                        when + timedelta(seconds=1),
                        "Did you mean...",
                        None,
                        SenderKind.BOT,
                    )
                else:
                    asked = message(s, conv, when, text, "out_of_scope")
                    message(
                        s, conv, when + timedelta(seconds=5), "a librarian please", "request_human"
                    )
                    s.add(
                        Handoff(
                            conversation_id=conv.id,
                            reason="reader asked",
                            status=HandoffStatus.RESOLVED,
                            requested_at=when + timedelta(seconds=6),
                        )
                    )
                members[topic].add(asked.id)
        # Answered questions are not collected.
        conv = conversation(s, "webchat", None, START, "answered")
        message(s, conv, START, "when do you open", "library_hours")
        # Nor are questions outside the window.
        conv = conversation(s, "webchat", None, UNTIL + timedelta(hours=1), "later")
        message(s, conv, UNTIL + timedelta(hours=1), "where can I park", "nlu_fallback")
    return members


def test_separable_topics_become_three_clusters(sessions: sessionmaker[Session]) -> None:
    members = _build(sessions)
    with sessions.begin() as s:
        questions, total = unanswered_questions(s, START - timedelta(days=1), UNTIL, limit=100)
    assert total == 15
    assert {q.message_id for q in questions} == set().union(*members.values())
    clusters = cluster_questions(questions, encode, distance=0.6, min_size=2, examples=3)
    assert {frozenset(c.members) for c in clusters} == {frozenset(m) for m in members.values()}
    assert len(clusters) == 3
    by_members = {frozenset(c.members): c for c in clusters}
    parking = by_members[frozenset(members["parking"])]
    assert "parking" in parking.label or "car" in parking.label
    assert parking.size == 5
    assert len(parking.examples) == 3
    assert set(parking.examples) <= set(TOPICS["parking"])
    pets = by_members[frozenset(members["pets"])]
    assert "dog" in pets.label or "pet" in pets.label
    assert sum(pets.channels.values()) == 5


def test_the_cap_keeps_the_newest_questions(sessions: sessionmaker[Session]) -> None:
    _build(sessions)
    with sessions.begin() as s:
        questions, total = unanswered_questions(s, START - timedelta(days=1), UNTIL, limit=4)
    assert total == 15
    # The newest four are the last four pets phrasings (hours 12 to 15).
    assert [q.text for q in questions] == TOPICS["pets"][:0:-1]


def test_examples_hide_numbers_and_addresses() -> None:
    assert mask("my card 2123 4000 1234 56 and jo@example.org") == "my card ••• and [email]"
