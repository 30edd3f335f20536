"""Readers across channels: search, profile, merge, split, audit history and reaching them.

The store work is in `crm_store.identities`; this module validates API input, turns the
store's errors into API errors, and shapes the audit history for the console.

Who may do what: every staff role may search and read profiles and the audit history;
only librarians and admins may merge, split or message a reader (managers read
analytics and do not change reader records). The blueprint enforces the roles.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from crm_store import identities
from crm_store.identities import (
    CardConflictError,
    InvalidRequestError,
    ReaderNotFoundError,
    mask_card,
)
from crm_store.models import AuditEntry, Conversation
from crm_store.outreach import latest_reachable_conversation
from handoff_console.schemas import readers as schemas
from handoff_console.services.common import check_text
from handoff_console.services.conversation_views import staff_names
from handoff_console.services.errors import BadRequest, Conflict, NotFound
from handoff_console.services.identities import reader_profile, search_readers
from handoff_console.services.ids import body_id
from handoff_console.services.reader_library import day_label
from handoff_console.services.relay import Delivery, queue_message

EDITOR_ROLES = ("librarian", "admin")
"""Roles that may merge, split and message readers."""

UNDELIVERABLE = "reader.message_undeliverable"
MAX_QUERY_CHARS = 200

T = TypeVar("T")


def _store_errors(work: Callable[[], T]) -> T:
    """Run ``work``, answering the store's identity errors as API errors."""
    try:
        return work()
    except ReaderNotFoundError as error:
        raise NotFound("not_found", str(error)) from error
    except CardConflictError as error:
        raise Conflict("card_conflict", str(error)) from error
    except InvalidRequestError as error:
        raise BadRequest("invalid_request", str(error)) from error


def _reason(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise BadRequest("missing_reason", "Give a reason; it is kept in the audit history.")
    return value


def search(session: Session, query: object) -> list[dict[str, Any]]:
    """Readers matching ``query`` (name, email, card's last digits, channel address)."""
    text = query if isinstance(query, str) else ""
    if len(text) > MAX_QUERY_CHARS:
        raise BadRequest("query_too_long", f"Search for at most {MAX_QUERY_CHARS} characters.")
    return [schemas.ReaderSummary.view(**reader) for reader in search_readers(session, text)]


def profile(session: Session, reader_id: int) -> dict[str, Any]:
    """The reader's profile (identities, masked card, history), or a 404."""
    found = _store_errors(lambda: reader_profile(session, reader_id))
    return schemas.ReaderProfile.view(**found)


def merge(session: Session, reader_id: int, staff_id: int, body: dict[str, Any]) -> dict[str, Any]:
    """Merge ``body["other_id"]`` into ``reader_id``; returns the kept reader and audit id."""
    other_id = body_id(body.get("other_id"), "other_id")
    reason = _reason(body.get("reason"))
    force = body.get("force", False)
    if not isinstance(force, bool):
        raise BadRequest("bad_request", "force must be true or false.")
    entry = _store_errors(
        lambda: identities.merge_readers(
            session, reader_id, other_id, staff_id, reason, force=force
        )
    )
    return schemas.MergeReply.view(audit_id=entry.id, reader=profile(session, reader_id))


def split(session: Session, reader_id: int, staff_id: int, body: dict[str, Any]) -> dict[str, Any]:
    """Move ``body["identity_ids"]`` to a new reader; returns both readers and the audit id."""
    raw = body.get("identity_ids")
    if not isinstance(raw, list):
        raise BadRequest("bad_request", "identity_ids must be a list of identity ids.")
    chosen = [body_id(value, "identity id") for value in raw]
    reason = _reason(body.get("reason"))
    new, entry = _store_errors(
        lambda: identities.split_reader(session, reader_id, chosen, staff_id, reason)
    )
    return schemas.SplitReply.view(
        audit_id=entry.id,
        reader=profile(session, reader_id),
        new_reader=profile(session, int(new.id)),
    )


def undo_merge(
    session: Session, reader_id: int, staff_id: int, body: dict[str, Any]
) -> dict[str, Any]:
    """Undo the merge recorded in ``body["audit_id"]`` into ``reader_id``.

    Returns the kept reader, the restored reader and the ``reader.unmerge`` audit id.
    """
    audit_id = body_id(body.get("audit_id"), "audit_id")
    reason = _reason(body.get("reason"))
    entry = session.get(AuditEntry, audit_id)
    if entry is None or entry.action != identities.MERGE or entry.subject != f"reader:{reader_id}":
        raise NotFound("not_found", f"Reader {reader_id} has no merge with audit id {audit_id}.")
    undo = _store_errors(lambda: identities.undo_merge(session, audit_id, staff_id, reason))
    restored_id = int(undo.detail["merge_id"])
    return schemas.UndoMergeReply.view(
        audit_id=undo.id,
        reader=profile(session, reader_id),
        restored_reader=profile(session, restored_id),
    )


def _safe(detail: Any) -> Any:
    """The audit detail with every card number masked."""
    if isinstance(detail, dict):
        return {
            key: mask_card(value)
            if key == "card_number" and isinstance(value, str)
            else _safe(value)
            for key, value in detail.items()
        }
    if isinstance(detail, list):
        return [_safe(item) for item in detail]
    return detail


def _count(moved: Any, key: str) -> int:
    return len(moved.get(key, [])) if isinstance(moved, dict) else 0


def _moved_words(moved: Any) -> str:
    parts = []
    for key, word in (
        ("channel_identities.reader_id", "identities"),
        ("conversations.reader_id", "conversations"),
        ("tickets.reader_id", "tickets"),
        ("feedback.reader_id", "feedback"),
    ):
        count = _count(moved, key)
        if count:
            parts.append(f"{count} {word}")
    return ", ".join(parts) or "nothing"


def summary(entry: AuditEntry, reader_id: int) -> str:
    """One line for people: what happened to this reader."""
    detail: dict[str, Any] = entry.detail if isinstance(entry.detail, dict) else {}
    moved = detail.get("moved")
    reason = detail.get("reason")
    why = f" Reason: {reason}" if reason else ""
    if entry.action == identities.MERGE:
        forced = " (forced despite different cards)" if detail.get("forced") else ""
        return (
            f"Reader #{detail.get('merge_id')} merged into reader #{detail.get('keep_id')}"
            f"{forced}; moved {_moved_words(moved)}.{why}"
        )
    if entry.action == identities.SPLIT:
        return (
            f"Split from reader #{detail.get('reader_id')} into new reader "
            f"#{detail.get('new_reader_id')}; moved {_moved_words(moved)}.{why}"
        )
    if entry.action == identities.UNMERGE:
        return (
            f"Merge undone: reader #{detail.get('merge_id')} restored from reader "
            f"#{detail.get('keep_id')}; moved back {_moved_words(moved)}.{why}"
        )
    if entry.action == identities.LINK:
        where = f"{detail.get('channel')} {detail.get('external_id')}"
        if detail.get("absorbed"):
            return (
                f"Verified on {where}; anonymous reader #{detail.get('previous_reader_id')} "
                f"folded in (moved {_moved_words(moved)})."
            )
        return (
            f"Verified on {where}; the identity moved here from reader "
            f"#{detail.get('previous_reader_id')}, who keeps the rest."
        )
    if entry.action == UNDELIVERABLE:
        return f"Message not delivered: {detail.get('problem')}"
    if entry.action == "reader.renew_on_behalf":
        due = detail.get("new_due_date")
        when = day_label(date.fromisoformat(due)) if isinstance(due, str) else "unknown"
        return f"Renewed “{detail.get('title')}” for the reader; now due {when}."
    if entry.action == "reader.hold_on_behalf":
        return (
            f"Placed a hold on “{detail.get('title')}” for the reader, to collect at "
            f"{detail.get('pickup_branch_name') or detail.get('pickup_branch')}."
        )
    return entry.action


def audit_history(session: Session, reader_id: int) -> list[dict[str, Any]]:
    """Audit entries about this reader, newest first, card numbers masked.

    Besides entries whose subject is the reader, this includes merges and splits that
    created or restored it (their subject is the other reader).
    """
    subject = f"reader:{reader_id}"
    rows = session.execute(
        select(AuditEntry)
        .where(
            or_(
                AuditEntry.subject == subject,
                AuditEntry.action.in_([identities.SPLIT, identities.UNMERGE]),
            )
        )
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
    ).scalars()
    names = staff_names(session)
    items = []
    for entry in rows:
        detail = entry.detail if isinstance(entry.detail, dict) else {}
        related = entry.subject == subject or reader_id in (
            detail.get("new_reader_id"),
            detail.get("merge_id"),
        )
        if not related:
            continue
        items.append(
            schemas.AuditItem.view(
                id=entry.id,
                action=entry.action,
                subject=entry.subject,
                staff=None
                if entry.staff_user_id is None
                else {"id": entry.staff_user_id, "name": names.get(entry.staff_user_id)},
                created_at=entry.created_at,
                summary=summary(entry, reader_id),
                detail=_safe(detail),
            )
        )
    return items


@dataclass(frozen=True)
class Undeliverable:
    """A message that could not go anywhere: recorded in the audit log, not sent."""

    audit_id: int
    message: str


def queue_reader_message(
    session: Session, reader_id: int, staff_id: int, role: str, text: object
) -> Delivery | Undeliverable:
    """Queue a librarian's message on the reader's most recent reachable conversation.

    Returns the delivery to hand to Rasa, or, when the reader has no reachable channel,
    an `Undeliverable` whose audit entry (``reader.message_undeliverable``, with the
    text) is committed with the caller's transaction so nothing is dropped silently.
    """
    body = check_text(text)
    profile(session, reader_id)  # 404 for an unknown reader
    conversation = latest_reachable_conversation(session, reader_id)
    if conversation is not None:
        return queue_message(
            session, int(conversation.id), staff_id, role, body, require_handoff=False
        )
    has_any = session.execute(
        select(Conversation.id).where(Conversation.reader_id == reader_id).limit(1)
    ).first()
    problem = (
        "every channel this reader used is marked unreachable or cannot take messages "
        "the library starts"
        if has_any
        else "this reader has no conversation on any channel"
    )
    message = f"This reader cannot be reached: {problem}. The message was recorded, not sent."
    entry = AuditEntry(
        staff_user_id=staff_id,
        action=UNDELIVERABLE,
        subject=f"reader:{reader_id}",
        detail={"text": body, "problem": problem},
    )
    session.add(entry)
    session.flush()
    return Undeliverable(int(entry.id), message)
