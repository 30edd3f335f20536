"""The worker's job that proposes FAQ candidates from resolved handoffs."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_store.models import FaqCandidate
from handoff_console.accounts import create_staff
from tests.studio.inbox_data import fallback, resolved_handoff
from worker.jobs.faq_candidates import propose_faq_candidates
from worker.process import interval_jobs

pytestmark = pytest.mark.studio


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_the_worker_proposes_each_resolved_handoff_once(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        sam = create_staff(session, username="sam", password="sam-pass-1234", display_name="Sam")
        sam_id = int(sam.id)
    conversation = resolved_handoff(
        sessions, "job", fallback("do you lend kayaks", "faq", 0.2), "We don't.", sam_id
    )
    assert propose_faq_candidates(sessions) == 1
    assert propose_faq_candidates(sessions) == 0
    with sessions() as session:
        rows = session.execute(select(FaqCandidate.conversation_id, FaqCandidate.answer)).all()
    assert [tuple(r) for r in rows] == [(conversation, "We don't.")]
    assert (propose_faq_candidates, 60) in interval_jobs()
