"""Job: propose FAQ candidates from newly resolved handoffs (the studio's learning loop).

Every resolved handoff with a reader question and a librarian answer becomes one
``faq_candidates`` row (``crm_store.faq_candidates``), so that the admin studio's FAQ
candidates page (and ``GET /api/studio/candidates``) has them waiting. Idempotent: the
handoff id is unique, so a second run, or the console listing them meanwhile, proposes
nothing twice.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session, sessionmaker

from crm_store.faq_candidates import sync_candidates
from ric_config.studio_inbox import NluInboxConfig
from worker.jobs._resources import store_sessions

__all__ = ["CANDIDATE_CHECK_SECONDS", "propose_faq_candidates"]

logger = logging.getLogger(__name__)

CANDIDATE_CHECK_SECONDS = 60
"""How often the worker looks for newly resolved handoffs."""


def propose_faq_candidates(sessions: sessionmaker[Session] | None = None) -> int:
    """Propose an FAQ candidate for each resolved handoff without one; return how many."""
    confidence = NluInboxConfig().candidate_match_confidence
    with (sessions or store_sessions()).begin() as session:
        made = sync_candidates(session, confidence)
    if made:
        logger.info("proposed %d FAQ candidates from resolved handoffs", made)
    return made
