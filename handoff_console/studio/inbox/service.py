"""The NLU inbox and the FAQ candidates as the studio's API answers them, and their decisions.

Each function runs inside one store transaction (``api.in_store``); a decision that
writes training data records its rows first and writes the files last, so a refused
edit (invalid, conflicting) leaves neither the decision nor the files behind.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store import clock
from crm_store.audit import audit
from crm_store.faq_candidates import CandidateError, decide_candidate, sync_candidates
from crm_store.models import CandidateStatus, FaqCandidate, InboxDecision, StaffUser
from crm_store.nlu_inbox import InboxRules, inbox_groups
from crm_store.nlu_labels import InboxError, decide
from handoff_console.schemas.base import MAX_ID
from handoff_console.services.errors import BadRequest, Conflict, NotFound
from handoff_console.studio.inbox.labelling import (
    OUT_OF_SCOPE,
    add_examples,
    create_topic,
    known_labels,
)
from handoff_console.studio.training_data.editor import Editor
from ric_config.studio_inbox import NluInboxConfig

__all__ = [
    "accept_candidate",
    "candidate_list",
    "inbox_view",
    "label_messages",
    "reject_candidate",
]

MAX_MESSAGES = 500
"""At most this many messages in one decision."""


def _labels(editor: Editor) -> list[dict[str, str]]:
    return [{"name": name, "kind": kind} for name, kind in sorted(known_labels(editor).items())]


def inbox_view(
    session: Session, editor: Editor, config: NluInboxConfig, limit: int
) -> dict[str, Any]:
    """The undecided inbox, grouped, with the intents and topics a message may go to."""
    rules = InboxRules.from_config(config, clock.now())
    groups = inbox_groups(session, rules, limit=limit)
    return {
        "window_days": config.inbox_window_days,
        "low_confidence": config.inbox_low_confidence,
        "groups": [g.as_json() for g in groups],
        "labels": _labels(editor),
    }


def _ids(value: object) -> list[int]:
    if (
        not isinstance(value, list)
        or not value
        or len(value) > MAX_MESSAGES
        or not all(
            isinstance(i, int) and not isinstance(i, bool) and 0 < i <= MAX_ID for i in value
        )
    ):
        raise BadRequest(
            "bad_messages",
            f"message_ids is a list of 1 to {MAX_MESSAGES} message ids (1 to 2^63-1).",
        )
    return list(dict.fromkeys(value))


def _text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise BadRequest("bad_request", f"{name} must be text.")
    return value.strip() if isinstance(value, str) and value.strip() else None


def label_messages(session: Session, editor: Editor, body: dict[str, Any]) -> dict[str, Any]:
    """Assign messages to an intent or FAQ topic, mark them out of scope, or dismiss them.

    ``assigned`` adds their (masked) texts as examples of ``label``; a new ``faq/<topic>``
    with an ``answer`` is created. ``out_of_scope`` adds them to the ``out_of_scope``
    intent, so the bot learns to decline them; ``dismissed`` only takes them out.
    """
    ids = _ids(body.get("message_ids"))
    decision = body.get("decision")
    label = _text(body, "label")
    answer = _text(body, "answer")
    if decision not in InboxDecision.ALL:
        raise BadRequest("bad_decision", f"decision is one of {', '.join(InboxDecision.ALL)}.")
    if decision == InboxDecision.ASSIGNED and label is None:
        raise BadRequest("no_label", "Pick the intent or FAQ topic to assign the messages to.")
    try:
        rows = decide(
            session, ids, decision, label if decision == InboxDecision.ASSIGNED else None,
            editor.staff_id,
        )  # fmt: skip
    except InboxError as error:
        code = "already_decided" if "already decided" in str(error) else "bad_messages"
        raise (Conflict if code == "already_decided" else BadRequest)(code, str(error)) from error
    texts = [row.text for row in rows]
    audit(
        session, editor.staff_id, f"studio.inbox.{decision}", f"inbox:{len(ids)} messages",
        by=editor.staff_name, label=label, messages=ids,
    )  # fmt: skip
    written: dict[str, Any] = {"files": [], "warnings": [], "added": []}
    known = known_labels(editor)
    if decision == InboxDecision.ASSIGNED and label is not None:
        if label in known:
            written = add_examples(editor, label, texts)
        elif answer is not None:
            written = create_topic(editor, label, texts, answer)
        else:
            raise NotFound(
                "no_intent",
                f"There is no intent or FAQ topic {label!r}; give an answer to create it.",
            )
    elif decision == InboxDecision.OUT_OF_SCOPE and OUT_OF_SCOPE in known:
        written = add_examples(editor, OUT_OF_SCOPE, texts)
    return {"decision": decision, "label": label, "decided": len(rows), **written}


def _candidate_view(candidate: FaqCandidate, decided_by: str | None) -> dict[str, Any]:
    return {
        "id": candidate.id,
        "status": candidate.status,
        "question": candidate.question,
        "answer": candidate.answer,
        "suggested_label": candidate.suggested_label,
        "suggested_score": candidate.suggested_score,
        "kind": "extend" if candidate.suggested_label else "new",
        "topic": candidate.topic,
        "conversation_id": candidate.conversation_id,
        "conversation_url": f"/conversations/{candidate.conversation_id}",
        "handoff_id": candidate.handoff_id,
        "created_at": candidate.created_at,
        "decided_at": candidate.decided_at,
        "decided_by": decided_by,
    }


def candidate_list(
    session: Session, editor: Editor, config: NluInboxConfig, status: str | None
) -> dict[str, Any]:
    """Propose candidates for newly resolved handoffs, then list them (newest first)."""
    if status is not None and status not in CandidateStatus.ALL:
        raise BadRequest("bad_status", f"status is one of {', '.join(CandidateStatus.ALL)}.")
    sync_candidates(session, config.candidate_match_confidence)
    query = (
        select(FaqCandidate, StaffUser.display_name)
        .outerjoin(StaffUser, StaffUser.id == FaqCandidate.decided_by)
        .order_by(FaqCandidate.id.desc())
    )
    if status is not None:
        query = query.where(FaqCandidate.status == status)
    items = [_candidate_view(c, name) for c, name in session.execute(query).all()]
    return {"items": items, "labels": _labels(editor)}


def _pending(session: Session, candidate_id: int) -> FaqCandidate:
    candidate = session.get(FaqCandidate, candidate_id)
    if candidate is None:
        raise NotFound("not_found", "No such FAQ candidate.")
    if candidate.status != CandidateStatus.PENDING:
        raise Conflict("already_decided", f"This candidate was already {candidate.status}.")
    return candidate


def accept_candidate(
    session: Session, editor: Editor, candidate_id: int, body: dict[str, Any]
) -> dict[str, Any]:
    """Accept a candidate, as it is or edited: extend its topic, or create a new FAQ topic.

    ``topic`` defaults to the suggested one; ``question`` and ``answer`` to the proposed
    texts. An existing intent or topic gets the question as an example; a new
    ``faq/<topic>`` is created with the question and the answer as its response.
    """
    candidate = _pending(session, candidate_id)
    topic = _text(body, "topic") or candidate.suggested_label
    question = _text(body, "question") or candidate.question
    answer = _text(body, "answer") or candidate.answer
    if topic is None:
        raise BadRequest("no_topic", "Name the FAQ topic (faq/<topic>) or pick an intent.")
    try:
        decided = decide_candidate(
            session, candidate_id, CandidateStatus.ACCEPTED, editor.staff_id,
            topic=topic, question=question, answer=answer,
        )  # fmt: skip
    except CandidateError as error:
        raise Conflict("already_decided", str(error)) from error
    audit(
        session, editor.staff_id, "studio.candidate.accept", f"faq_candidate:{candidate_id}",
        by=editor.staff_name, topic=topic,
    )  # fmt: skip
    if topic in known_labels(editor):
        written = add_examples(editor, topic, [question])
    else:
        written = create_topic(editor, topic, [question], answer)
    return {"candidate": _candidate_view(decided, editor.staff_name), **written}


def reject_candidate(session: Session, editor: Editor, candidate_id: int) -> dict[str, Any]:
    """Reject a pending candidate; nothing is written."""
    _pending(session, candidate_id)
    decided = decide_candidate(session, candidate_id, CandidateStatus.REJECTED, editor.staff_id)
    audit(
        session, editor.staff_id, "studio.candidate.reject", f"faq_candidate:{candidate_id}",
        by=editor.staff_name,
    )  # fmt: skip
    return {"candidate": _candidate_view(decided, editor.staff_name)}
