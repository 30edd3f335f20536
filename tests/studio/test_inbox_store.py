"""The NLU inbox in the reader store: reasons, masking, grouping, decisions (SQLite, PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_store import clock
from crm_store.models import NluInboxLabel
from crm_store.models.operations import AnalysisRun, QuestionCluster
from crm_store.nlu_inbox import InboxRules, inbox_groups
from crm_store.nlu_labels import InboxError, decide, replace_cluster_members
from crm_store.redaction import mask_personal
from tests.studio.inbox_data import (
    FALLBACK_TEXT,
    LOW_TEXT_MASKED,
    RATED_TEXT_MASKED,
    Seeded,
    seed_inbox,
)

pytestmark = pytest.mark.studio


@pytest.fixture
def seeded(sessions: sessionmaker[Session]) -> Seeded:
    return seed_inbox(sessions)


def rules(**changes: object) -> InboxRules:
    return InboxRules(since=clock.now() - timedelta(days=1), **changes)  # type: ignore[arg-type]


def items_by_id(sessions: sessionmaker[Session], **changes: object) -> dict[int, object]:
    with sessions() as session:
        groups = inbox_groups(session, rules(**changes))
    return {item.message_id: item for group in groups for item in group.items}


def test_each_reason_brings_its_message(sessions: sessionmaker[Session], seeded: Seeded) -> None:
    items = items_by_id(sessions)
    m = seeded.messages
    reasons = {message_id: item.reasons for message_id, item in items.items()}  # type: ignore[attr-defined]
    assert reasons == {
        m["fallback"]: ["fallback", "rephrased"],
        m["low"]: ["low_confidence"],
        m["low_again"]: ["low_confidence"],
        m["handoff"]: ["handoff_after_answer"],
        m["rated"]: ["low_rating"],
    }


def test_items_show_prediction_masked_text_channel_and_nothing_of_the_reader(
    sessions: sessionmaker[Session], seeded: Seeded
) -> None:
    items = items_by_id(sessions)
    fell = items[seeded.messages["fallback"]]
    assert (fell.predicted_intent, fell.confidence, fell.text) == ("faq", 0.22, FALLBACK_TEXT)  # type: ignore[attr-defined]
    low = items[seeded.messages["low"]]
    assert (low.predicted_intent, low.confidence, low.channel) == ("faq/pets", 0.41, "telegram")  # type: ignore[attr-defined]
    assert low.text == LOW_TEXT_MASKED  # type: ignore[attr-defined]
    assert items[seeded.messages["rated"]].text == RATED_TEXT_MASKED  # type: ignore[attr-defined]
    assert set(vars(low)) == {
        "message_id", "text", "channel", "sent_at", "predicted_intent", "confidence", "reasons"
    }  # fmt: skip


def test_thresholds_are_the_rules(sessions: sessionmaker[Session], seeded: Seeded) -> None:
    strict = items_by_id(sessions, low_confidence=0.95, rephrase_seconds=5, low_rating=0)
    m = seeded.messages
    assert m["good"] not in strict  # 0.97
    assert strict[m["rated"]].reasons == ["low_confidence"]  # type: ignore[attr-defined]
    assert strict[m["fallback"]].reasons == ["fallback"]  # type: ignore[attr-defined]


def test_same_text_groups_and_nightly_clusters_group(
    sessions: sessionmaker[Session], seeded: Seeded
) -> None:
    m = seeded.messages
    with sessions() as session:
        groups = inbox_groups(session, rules())
    first = groups[0]
    assert ({i.message_id for i in first.items}, first.label) == (
        {m["low"], m["low_again"]},
        LOW_TEXT_MASKED,
    )
    today = clock.now().date()
    with sessions.begin() as session:
        now = clock.now()
        session.add(
            AnalysisRun(
                day=today, started_at=now, finished_at=now, parameters={}, churn_active_days=1,
                churn_quiet_days=1, loyalty_window_days=1,
            )
        )  # fmt: skip
        session.flush()
        session.add(
            QuestionCluster(
                run_day=today, rank=1, label="overdue / boxing", size=2, terms=[], examples=[],
                channels={}, first_seen_at=now, last_seen_at=now,
            )
        )  # fmt: skip
        session.flush()
        replace_cluster_members(session, today, [[m["fallback"], m["handoff"]]])
    with sessions() as session:
        groups = inbox_groups(session, rules())
    clustered = [g for g in groups if g.cluster_id is not None]
    assert [(g.label, sorted(i.message_id for i in g.items)) for g in clustered] == [
        ("overdue / boxing", sorted([m["fallback"], m["handoff"]]))
    ]
    assert clustered[0].reasons == ["fallback", "rephrased", "handoff_after_answer"]


def test_decisions_take_messages_out_and_keep_masked_labels(
    sessions: sessionmaker[Session], seeded: Seeded
) -> None:
    m = seeded.messages
    with sessions.begin() as session:
        decide(session, [m["low"], m["low_again"]], "assigned", "faq/pets", None)
        decide(session, [m["handoff"]], "out_of_scope", None, None)
    items = items_by_id(sessions)
    assert set(items) == {m["fallback"], m["rated"]}
    with sessions() as session:
        rows = session.execute(select(NluInboxLabel).order_by(NluInboxLabel.message_id)).scalars()
        kept = {(r.message_id, r.decision, r.label, r.text, r.predicted_intent) for r in rows}
    assert kept == {
        (m["low"], "assigned", "faq/pets", LOW_TEXT_MASKED, "faq/pets"),
        (m["low_again"], "assigned", "faq/pets", LOW_TEXT_MASKED, "faq/pets"),
        (m["handoff"], "out_of_scope", None, mask_personal("are you open on boxing day"),
         "opening_hours"),
    }  # fmt: skip


@pytest.mark.parametrize(
    ("decision", "label", "which", "message"),
    [
        ("assigned", None, "rated", "a label is needed"),
        ("dismissed", "faq/x", "rated", "a label is needed"),
        ("promoted", None, "rated", "decision must be one of"),
        ("dismissed", None, "none", "existing reader message"),
        ("dismissed", None, "decided", "already decided"),
    ],
)
def test_bad_decisions_are_refused(
    sessions: sessionmaker[Session],
    seeded: Seeded,
    decision: str,
    label: str | None,
    which: str,
    message: str,
) -> None:
    m = seeded.messages
    ids = {"rated": [m["rated"]], "none": [10**9], "decided": [m["low"]]}
    with sessions.begin() as session:
        decide(session, [seeded.messages["low"]], "dismissed", None, None)
    with sessions.begin() as session, pytest.raises(InboxError, match=message):
        decide(session, ids[which], decision, label, None)
