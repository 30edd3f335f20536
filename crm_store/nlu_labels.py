"""An admin's decisions about NLU inbox messages, and the nightly clusters' members.

A decision (assigned to an intent or FAQ topic, out of scope, dismissed) is one
``nlu_inbox_labels`` row per reader message, keeping the masked text and the NLU's
prediction at the time; decided messages leave the inbox (:mod:`crm_store.nlu_inbox`).
The labelled messages are what a new model is evaluated on.

Exceptions::

    CrmStoreError
     └── InboxError   a decision that cannot be recorded
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from crm_store.errors import CrmStoreError
from crm_store.models import (
    InboxDecision,
    Message,
    NluInboxLabel,
    QuestionClusterMember,
    RawEvent,
    SenderKind,
)
from crm_store.models.operations import QuestionCluster
from crm_store.nlu_inbox import predicted_label
from crm_store.redaction import mask_personal

__all__ = ["InboxError", "decide", "replace_cluster_members"]


class InboxError(CrmStoreError):
    """A decision the inbox cannot record (unknown message, bad decision or label)."""


def decide(
    session: Session,
    message_ids: Sequence[int],
    decision: str,
    label: str | None,
    staff_id: int | None,
) -> list[NluInboxLabel]:
    """Record an admin's decision about reader messages; returns the new label rows.

    Raises:
        InboxError: A bad decision, an ``assigned`` with no label, a message that is
            not a reader's, or one already decided.
    """
    if decision not in InboxDecision.ALL:
        raise InboxError(f"decision must be one of {', '.join(InboxDecision.ALL)}")
    if (decision == InboxDecision.ASSIGNED) != bool(label):
        raise InboxError("a label is needed to assign, and only to assign")
    if not message_ids:
        raise InboxError("no messages given")
    rows = session.execute(
        select(Message, RawEvent.body)
        .outerjoin(RawEvent, RawEvent.event_key == Message.event_key)
        .where(Message.id.in_(list(message_ids)))
    ).all()
    if len(rows) != len(set(message_ids)) or any(
        m.sender_kind not in (SenderKind.READER, SenderKind.READER.value) or not m.text
        for m, _ in rows
    ):
        raise InboxError("every message must be an existing reader message")
    taken = session.execute(
        select(NluInboxLabel.message_id).where(NluInboxLabel.message_id.in_(list(message_ids)))
    ).scalars().all()  # fmt: skip
    if taken:
        raise InboxError(f"already decided: {', '.join(map(str, sorted(taken)))}")
    made = []
    for message, body in rows:
        predicted, confidence = predicted_label(body)
        entry = NluInboxLabel(
            message_id=message.id,
            decision=decision,
            label=label,
            text=mask_personal(message.text),
            predicted_intent=predicted or message.intent,
            confidence=confidence if predicted else message.confidence,
            staff_user_id=staff_id,
        )
        session.add(entry)
        made.append(entry)
    session.flush()
    return made


def replace_cluster_members(
    session: Session, run_day: date, members: Sequence[Sequence[int]]
) -> None:
    """Store which messages each of one run's clusters holds (``members[rank - 1]``).

    The nightly analysis calls it after writing the run's ``question_clusters``; rows of
    clusters that no longer exist (a re-run replaced them) are removed first.
    """
    session.execute(
        delete(QuestionClusterMember).where(
            QuestionClusterMember.cluster_id.not_in(select(QuestionCluster.id))
        ),
        execution_options={"synchronize_session": False},
    )
    ids = dict(
        session.execute(
            select(QuestionCluster.rank, QuestionCluster.id).where(
                QuestionCluster.run_day == run_day
            )
        ).all()
    )
    rows = [
        {"cluster_id": ids[rank], "message_id": int(message_id)}
        for rank, found in enumerate(members, start=1)
        if rank in ids
        for message_id in sorted(set(found))
    ]
    if rows:
        session.execute(insert(QuestionClusterMember), rows)
