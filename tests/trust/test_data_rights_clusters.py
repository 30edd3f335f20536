"""The nightly question clusters forget an erased or anonymised reader's words (issue 18).

The real nightly analysis (``worker.analytics.run_analysis``) clusters the unanswered
questions of three readers, on SQLite and PostgreSQL; a deterministic bag-of-words
encoder stands in for the sentence model so the grouping is known. Alice's question
becomes a cluster example; after her erasure (or the transcripts' retention) no text or
JSON column of any table holds her words, and the other readers' examples stay.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pytest
from sqlalchemy import JSON, String, Text, select
from sqlalchemy.orm import Session, sessionmaker

from crm_store import clock
from crm_store.data_rights import erase_reader, export_reader, find_reader
from crm_store.data_rights.clusters import REMOVED_LABEL, drop_cluster_texts, example_matches
from crm_store.data_rights.retention import apply_retention
from crm_store.models import Base, QuestionClusterMember, Reader
from crm_store.models.operations import AnalysisRun, QuestionCluster
from library.staffed_time import StaffedHours
from ric_config.trust import PrivacyConfig
from tests.crm_store.test_analytics_metrics import conversation, message
from worker.analytics.retention import anonymise
from worker.analytics.run import run_analysis
from worker.analytics.settings import AnalyticsSettings

pytestmark = pytest.mark.trust

NOW = datetime(2027, 3, 20, 3, tzinfo=timezone.utc)
HOURS = StaffedHours(timezone.utc, (None,) * 7)
ALICE_ASKS = "can I renew my zanzibar interlibrary loan online, card 2123 4000 1234 56"
ALICE_WORDS = "zanzibar interlibrary loan online"
OTHERS_ASK = [
    ("bob", "can I renew my interlibrary loan online", 3),
    ("carol", "how do I renew an interlibrary loan online", 2),
]
SETTINGS = AnalyticsSettings(recompute_days=1, cluster_examples=5, cluster_min_size=2)


def bag_of_words(texts: Sequence[str]) -> Any:
    """Hashed word counts, L2-normalised: texts sharing most words end up close."""
    vectors = np.zeros((len(texts), 64))
    for row, text in enumerate(texts):
        for word in text.lower().replace(",", " ").split():
            vectors[row, int(hashlib.sha256(word.encode()).hexdigest(), 16) % 64] += 1
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def ask(sessions: sessionmaker[Session], alice_days_ago: int) -> None:
    """Alice and two other readers ask an unanswered question (intent ``nlu_fallback``)."""
    with sessions.begin() as session:
        for name, text, days in [("alice", ALICE_ASKS, alice_days_ago), *OTHERS_ASK]:
            reader = Reader(display_name=name.title(), email=f"{name}@example.org")
            session.add(reader)
            session.flush()
            when = NOW - timedelta(days=days)
            chat = conversation(session, "webchat", reader, when, f"web-{name}")
            message(session, chat, when, text, "nlu_fallback")
    run_analysis(sessions, NOW, HOURS, SETTINGS, encode=bag_of_words)


def stored_text(sessions: sessionmaker[Session]) -> str:
    """Every text and JSON value of every table of the reader store, lowercased."""
    found: list[str] = []
    with sessions() as session:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON)]
            if not columns:
                continue
            for row in session.execute(select(*columns)).all():
                found.extend(json.dumps(value, default=str) for value in row)
    return "\n".join(found).lower()


def the_cluster(sessions: sessionmaker[Session]) -> QuestionCluster:
    with sessions() as session:
        [cluster] = session.execute(select(QuestionCluster)).scalars()
        session.expunge(cluster)
        return cluster


def test_erasure_removes_the_readers_words_from_the_question_clusters(
    sessions: sessionmaker[Session],
) -> None:
    previous = clock.install(clock.TravelClock(NOW))
    try:
        ask(sessions, alice_days_ago=1)
        with sessions.begin() as session:  # as if her word had been the most distinctive
            cluster = session.execute(select(QuestionCluster)).scalar_one()
            cluster.terms = [["zanzibar", 0.9], *cluster.terms[:2]]
            cluster.label = " / ".join(term for term, _ in cluster.terms)
        before = the_cluster(sessions)
        assert "can I renew my zanzibar interlibrary loan online, card •••" in before.examples
        assert before.label == "zanzibar / interlibrary / loan"
        assert ALICE_WORDS in stored_text(sessions)
        with sessions.begin() as session:
            document = export_reader(
                session, find_reader(session, "alice@example.org"), None, staff_id=None, via="cli"
            )
        [copy] = document["question_clusters"]
        assert copy["texts"] == ["can I renew my zanzibar interlibrary loan online, card •••"]

        with sessions.begin() as session:
            reader = find_reader(session, "alice@example.org")
            result = erase_reader(session, reader, None, staff_id=None, via="cli")
        assert result.counts["question_clusters"] == 1
        assert result.counts["question_cluster_members"] == 1

        text = stored_text(sessions)
        assert ALICE_WORDS not in text and "zanzibar" not in text
        after = the_cluster(sessions)
        assert sorted(after.examples) == sorted(t for _, t, _ in OTHERS_ASK)
        assert after.size == before.size == 3  # her message is still counted, anonymous
        assert after.label == "interlibrary / loan"
        assert [term for term, _ in after.terms] == ["interlibrary", "loan"]
        with sessions() as session:
            members = session.execute(select(QuestionClusterMember.message_id)).scalars()
            assert len(list(members)) == 2
            bob = session.execute(select(Reader).where(Reader.display_name == "Bob")).scalar_one()
            with sessions.begin() as s2:
                export = export_reader(s2, s2.get(Reader, bob.id), None, staff_id=None, via="cli")
        assert export["question_clusters"][0]["texts"] == [OTHERS_ASK[0][1]]
    finally:
        clock.install(previous)


def test_retention_removes_anonymised_questions_from_the_question_clusters(
    sessions: sessionmaker[Session],
) -> None:
    ask(sessions, alice_days_ago=20)
    assert "zanzibar" in json.dumps(the_cluster(sessions).examples)
    with sessions.begin() as session:
        assert anonymise(session, NOW, retention_days=10).counts["messages"] == 1
        counts = apply_retention(session, None, None, NOW, PrivacyConfig()).counts
    assert counts["question_clusters"] == 1
    assert "zanzibar" not in stored_text(sessions)
    after = the_cluster(sessions)
    assert sorted(after.examples) == sorted(t for _, t, _ in OTHERS_ASK)
    with sessions.begin() as session:  # once is enough
        assert (
            apply_retention(session, None, None, NOW, PrivacyConfig()).counts["question_clusters"]
            == 0
        )


def test_a_label_made_of_the_question_goes_even_without_member_rows(
    sessions: sessionmaker[Session],
) -> None:
    """A cluster without terms is labelled with a question's text; one stored before
    members were recorded still loses the erased words it quotes."""
    with sessions.begin() as session:
        session.add(
            AnalysisRun(
                day=NOW.date(),
                started_at=NOW,
                finished_at=NOW,
                parameters={},
                churn_active_days=90,
                churn_quiet_days=60,
                loyalty_window_days=90,
            )
        )
        session.flush()
        session.add(
            QuestionCluster(
                run_day=NOW.date(),
                rank=1,
                label="where is my zanzibar parcel, card •••",
                size=2,
                terms=[],
                examples=["where is my zanzibar parcel, card •••", "where is my parcel"],
                channels={"webchat": 2},
                first_seen_at=NOW,
                last_seen_at=NOW,
            )
        )
    with sessions.begin() as session:
        assert drop_cluster_texts(session, {1: "Where is my  Zanzibar parcel, card 1234 5678"}) == 1
    cluster = the_cluster(sessions)
    assert (cluster.label, cluster.examples) == (REMOVED_LABEL, ["where is my parcel"])


def test_a_masked_example_matches_only_the_text_it_could_come_from() -> None:
    assert example_matches("renew for [email], card •••", "Renew for a@b.org, card 1234 5678")
    assert not example_matches("renew for [email], card •••", "renew for a@b.org")
    assert not example_matches("where is my parcel", "where is my zanzibar parcel")
