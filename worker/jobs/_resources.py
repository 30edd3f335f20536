"""Per-process engines for jobs (the job store pickles job references, not objects)."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from crm_store.db import make_engine, make_session_factory, tracker_database_url


@lru_cache(maxsize=1)
def store_sessions() -> sessionmaker[Session]:
    """Sessions on the reader store (``RIC_DATABASE_URL``)."""
    return make_session_factory(make_engine())


@lru_cache(maxsize=1)
def tracker_engine() -> Engine:
    """An engine on Rasa's tracker store (``RIC_TRACKER_DATABASE_URL``)."""
    return make_engine(tracker_database_url())
