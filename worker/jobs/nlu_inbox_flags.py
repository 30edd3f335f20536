"""Job: keep the NLU inbox's stored flags up to date (``nlu_inbox_flags``).

Every ``FLAG_CHECK_SECONDS`` the worker recomputes the reasons of the conversations with
a message, a handoff or a rating newer than the stored watermarks
(:func:`crm_store.nlu_inbox_flags.refresh_flags`), with the thresholds and window of
``ric_config.NluInboxConfig``, so that ``GET /api/studio/inbox`` reads a few thousand
flagged rows and only catches up with what arrived since. It also recomputes the
conversations whose flagged texts were rewritten (an erasure, the retention job), and
once a day it rebuilds the flags from scratch. Safe to run twice: a conversation's flags
are replaced in one transaction.

``python -m worker.jobs.nlu_inbox_flags`` rebuilds them now.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session, sessionmaker

from crm_store import clock
from crm_store.nlu_inbox_flags import (
    REBUILD_AFTER,
    rebuild_flags,
    recompute_rewritten,
    refresh_flags,
)
from crm_store.nlu_inbox_reasons import InboxRules
from ric_config.studio_inbox import NluInboxConfig
from worker.jobs._resources import store_sessions

__all__ = ["FLAG_CHECK_SECONDS", "refresh_nlu_inbox_flags"]

logger = logging.getLogger(__name__)

FLAG_CHECK_SECONDS = 60
"""How often the worker brings the inbox's flags up to date."""


def refresh_nlu_inbox_flags(sessions: sessionmaker[Session] | None = None) -> int:
    """Bring the flags up to date; returns the conversations recomputed (-1: all of them)."""
    rules = InboxRules.from_config(NluInboxConfig(), clock.now())
    with (sessions or store_sessions()).begin() as session:
        done = refresh_flags(session, rules, rebuild_after=REBUILD_AFTER)
        rewritten = recompute_rewritten(session, rules)
    if rewritten:
        logger.info("NLU inbox flags: %d conversations with rewritten texts", rewritten)
    if done:
        logger.info("NLU inbox flags: %s", "rebuilt" if done < 0 else f"{done} conversations")
    return done


def main() -> None:
    """``python -m worker.jobs.nlu_inbox_flags``: rebuild the flags of the window now."""
    logging.basicConfig(level=logging.INFO)
    rules = InboxRules.from_config(NluInboxConfig(), clock.now())
    with store_sessions().begin() as session:
        print(f"{rebuild_flags(session, rules)} flagged messages since {rules.since:%Y-%m-%d}")


if __name__ == "__main__":
    main()
