"""The NLU inbox's stored flags (``nlu_inbox_flags``), kept up to date from watermarks.

The reasons of a reader message (:mod:`crm_store.nlu_inbox_reasons`) are stored once,
with its masked text, so that a request of the inbox reads the flagged rows of its window
instead of every message of it. :func:`refresh_flags` brings them up to date:

- from scratch (every conversation since the window's start) when there is no state row
  yet, when the thresholds changed, when a wider window is asked for, or once a day
  (``REBUILD_AFTER``: a safety net for rows written out of order);
- otherwise it recomputes only the conversations with a message, a handoff or a rating
  newer than the stored watermarks (the ids last seen), and moves the watermarks.

The worker runs it every minute (``worker.jobs.nlu_inbox_flags``), and each request runs
it first too (:func:`crm_store.nlu_inbox.inbox_groups`), so a request only catches up
with the last minute. :func:`flagged_rows` reads the undecided flags of a window; a flag
whose message's text changed since (an erasure) makes its conversation be recomputed
before it is read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, func, insert, select
from sqlalchemy.orm import Session

from crm_store import clock
from crm_store.models import Feedback, Handoff, Message, NluInboxLabel
from crm_store.models.studio_inbox import NluInboxFlag, NluInboxFlagState
from crm_store.nlu_inbox_reasons import InboxRules, Reason, conversation_rows, flag_reasons
from crm_store.redaction import mask_personal

__all__ = [
    "REBUILD_AFTER",
    "FlaggedRow",
    "flagged_rows",
    "rebuild_flags",
    "recompute_rewritten",
    "refresh_flags",
]

REBUILD_AFTER = timedelta(days=1)
"""A full rebuild at least this often (see the module's docstring)."""
PRUNE_AFTER = timedelta(days=1)
"""Flags this much older than the window's start are deleted."""
_STATE_ID = 1
_BATCH = 500


@dataclass(frozen=True)
class FlaggedRow:
    """One undecided flagged message of the window, as the inbox shows it."""

    message_id: int
    text: str
    channel: str
    sent_at: datetime
    intent: str | None
    confidence: float | None
    reasons: list[str]
    event_key: str


def _hash(text: str | None) -> str:
    return hashlib.sha256((text or "").encode("utf-8")).hexdigest()


def _marks(session: Session) -> tuple[int, int, int]:
    return tuple(  # type: ignore[return-value]
        int(session.execute(select(func.coalesce(func.max(c), 0))).scalar_one())
        for c in (Message.id, Handoff.id, Feedback.id)
    )


def _thresholds(rules: InboxRules) -> tuple[float, int, int]:
    return (float(rules.low_confidence), int(rules.rephrase_seconds), int(rules.low_rating))


def _write(session: Session, rules: InboxRules, conversation_ids: Collection[int] | None) -> int:
    """Compute the flags of ``conversation_ids`` (all when None) since ``rules.since``."""
    conversations = conversation_rows(session, rules.since, conversation_ids)
    reasons = flag_reasons(session, conversations, rules, conversation_ids)
    if conversation_ids is None:
        session.execute(delete(NluInboxFlag))
    else:
        ids = sorted(conversation_ids)
        for k in range(0, len(ids), _BATCH):
            session.execute(
                delete(NluInboxFlag).where(NluInboxFlag.conversation_id.in_(ids[k : k + _BATCH]))
            )
    values = [
        {
            "message_id": row.id,
            "conversation_id": row.conversation_id,
            "sent_at": row.sent_at,
            "channel": row.channel,
            "text": mask_personal(row.text or ""),
            "text_hash": _hash(row.text),
            "intent": row.intent,
            "confidence": row.confidence,
            "reasons": ",".join(r for r in Reason.ALL if r in reasons[row.id]),
            "event_key": row.event_key,
        }
        for rows in conversations.values()
        for row in rows
        if row.id in reasons
    ]
    for k in range(0, len(values), _BATCH):
        session.execute(insert(NluInboxFlag), values[k : k + _BATCH])
    return len(values)


def rebuild_flags(session: Session, rules: InboxRules) -> int:
    """Recompute every flag since ``rules.since`` and reset the state; returns the flags."""
    marks = _marks(session)
    flags = _write(session, rules, None)
    state = session.get(NluInboxFlagState, _STATE_ID)
    if state is None:
        state = NluInboxFlagState(id=_STATE_ID)
        session.add(state)
    low_confidence, rephrase_seconds, low_rating = _thresholds(rules)
    state.covers_since = rules.since
    state.last_message_id, state.last_handoff_id, state.last_feedback_id = marks
    state.low_confidence, state.rephrase_seconds = low_confidence, rephrase_seconds
    state.low_rating, state.refreshed_at = low_rating, clock.now()  # the last full rebuild
    session.flush()
    return flags


def _dirty(session: Session, state: NluInboxFlagState, marks: tuple[int, int, int]) -> set[int]:
    """The conversations with a message, handoff or rating past the watermarks."""
    queries = (
        select(Message.conversation_id).where(
            Message.id > state.last_message_id,
            Message.id <= marks[0],
            Message.sent_at >= state.covers_since,
        ),
        select(Handoff.conversation_id).where(
            Handoff.id > state.last_handoff_id, Handoff.id <= marks[1]
        ),
        select(Feedback.conversation_id).where(
            Feedback.id > state.last_feedback_id,
            Feedback.id <= marks[2],
            Feedback.conversation_id.is_not(None),
        ),
    )
    return {int(c) for query in queries for c in session.execute(query.distinct()).scalars()}


def refresh_flags(
    session: Session, rules: InboxRules, rebuild_after: timedelta | None = None
) -> int:
    """Bring the flags up to date for ``rules``; returns the conversations recomputed (-1: all).

    Writes in the caller's transaction, and only when something changed.

    Args:
        session: An open session on the reader store.
        rules: The window's start and the thresholds.
        rebuild_after: Rebuild everything when the last full rebuild is older (the
            worker passes :data:`REBUILD_AFTER`; a request never waits for one).
    """
    state = session.get(NluInboxFlagState, _STATE_ID)
    if (
        state is None
        or (state.low_confidence, state.rephrase_seconds, state.low_rating) != _thresholds(rules)
        or rules.since < state.covers_since
        or (rebuild_after is not None and clock.now() - state.refreshed_at >= rebuild_after)
    ):
        rebuild_flags(session, rules)
        return -1
    marks = _marks(session)
    if marks == (state.last_message_id, state.last_handoff_id, state.last_feedback_id):
        return 0
    dirty = _dirty(session, state, marks)
    covered = InboxRules(state.covers_since, *_thresholds(rules))
    if dirty:
        _write(session, covered, dirty)
    if rules.since - state.covers_since > PRUNE_AFTER:
        session.execute(delete(NluInboxFlag).where(NluInboxFlag.sent_at < rules.since))
        state.covers_since = rules.since
    state.last_message_id, state.last_handoff_id, state.last_feedback_id = marks
    session.flush()
    return len(dirty)


def _read(session: Session, since: datetime) -> Iterable[tuple[FlaggedRow, str, str | None, int]]:
    flag = NluInboxFlag
    decided = exists().where(NluInboxLabel.message_id == flag.message_id)
    query = (
        select(
            flag.message_id, flag.text, flag.channel, flag.sent_at, flag.intent, flag.confidence,
            flag.reasons, flag.event_key, flag.text_hash, Message.text, flag.conversation_id,
        )
        .join(Message, Message.id == flag.message_id)
        .where(flag.sent_at >= since, ~decided)
    )  # fmt: skip
    for r in session.execute(query):
        row = FlaggedRow(
            int(r[0]), r[1], r[2], r[3], r[4], r[5], r[6].split(",") if r[6] else [], r[7]
        )
        yield row, r[8], r[9], int(r[10])


def recompute_rewritten(session: Session, rules: InboxRules) -> int:
    """Recompute the conversations of every flag whose message's text changed since.

    An erasure or the retention job rewrites texts without a new id; the worker calls
    this so that no masked text of an erased message outlives its next run. Returns the
    conversations recomputed.
    """
    state = session.get(NluInboxFlagState, _STATE_ID)
    if state is None:
        return 0
    query = select(NluInboxFlag.conversation_id, NluInboxFlag.text_hash, Message.text).join(
        Message, Message.id == NluInboxFlag.message_id
    )
    stale = {int(c) for c, digest, text in session.execute(query) if _hash(text) != digest}
    if stale:
        _write(session, InboxRules(state.covers_since, *_thresholds(rules)), stale)
        session.flush()
    return len(stale)


def flagged_rows(session: Session, rules: InboxRules) -> list[FlaggedRow]:
    """The undecided flagged messages since ``rules.since`` (call :func:`refresh_flags` first).

    A flag whose message's text no longer hashes the same (an erasure rewrote it) has
    its conversation recomputed, in the caller's transaction, before it is returned.
    """
    read = list(_read(session, rules.since))
    stale = {conversation for _, digest, text, conversation in read if _hash(text) != digest}
    if stale:
        state = session.get(NluInboxFlagState, _STATE_ID)
        since = state.covers_since if state is not None else rules.since
        _write(session, InboxRules(since, *_thresholds(rules)), stale)
        session.flush()
        read = list(_read(session, rules.since))
    return [row for row, _, _, _ in read]
