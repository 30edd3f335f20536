"""Right to erasure: remove or anonymise one reader everywhere, keeping the figures.

:func:`erase_reader` changes, for one reader, in one reader-store transaction (the
caller's) plus the tracker store:

- ``readers``: name, email and card number cleared; the row and its id stay, so the
  analysis tables (which hold ids and counts only) still add up;
- ``channel_identities`` and ``reader_preferences`` (consents): deleted;
- each conversation: its ``sender_id`` becomes ``erased:<id>`` (a Telegram chat id or
  an email thread id is personal); message texts and payloads become :data:`ERASED`,
  while direction, intent, channel and times stay, so every count is unchanged;
- ``raw_events``: the body keeps only the event type, time and name;
- handoff, staff and follow-up notes, librarians' messages, ticket subjects and
  bodies (and contacts), rating comments and reminder texts: :data:`ERASED`;
- the admin studio's copies: NLU inbox labels' texts and FAQ candidates' questions;
- the nightly question clusters: the reader's messages leave ``question_cluster_members``
  and every example, text label or term copied from their words only is dropped
  (:mod:`crm_store.data_rights.clusters`); a cluster's ``size`` still counts them;
- ``email_messages`` (the thread map) and ``email_outbox``: deleted;
- Rasa's tracker store: every event of the reader's conversations deleted.

It is audited (``reader.erase``, counts only) and cannot be undone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, case, delete, func, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from crm_store.audit import audit
from crm_store.data_rights.clusters import drop_cluster_texts
from crm_store.data_rights.tracker import (
    delete_conversations,
    keep_checkpoint_below,
    newest_id,
)
from crm_store.models import (
    ChannelIdentity,
    Conversation,
    EmailOutboxEntry,
    FaqCandidate,
    Feedback,
    Handoff,
    Message,
    NluInboxLabel,
    Note,
    OutboundMessage,
    QuestionClusterMember,
    RawEvent,
    Reader,
    Ticket,
)
from crm_store.models.operations import (
    EmailMessage,
    FollowUp,
    ReaderPreference,
    SentReminder,
    Survey,
)

__all__ = ["ERASED", "ErasureResult", "anonymised_event_body", "erase_reader"]

ERASED = "[erased at the reader's request]"


@dataclass
class ErasureResult:
    """How many rows an erasure changed or deleted, per store and kind."""

    reader_id: int
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, result: Any) -> None:
        """Count the rows a statement's ``result`` changed."""
        self.counts[kind] = self.counts.get(kind, 0) + int(result.rowcount or 0)


def _run(session: Session, statement: Any) -> Any:
    return session.execute(statement, execution_options={"synchronize_session": False})


def _erased_if_set(column: Any) -> Any:
    """:data:`ERASED` where ``column`` holds a text, NULL where it held none."""
    return case((column.is_(None), None), else_=ERASED)


def anonymised_event_body(session: Session) -> Any:
    """The SQL value a ``raw_events.body`` is replaced with when its content must go.

    Only the event type, its time and the action/slot/intent *name* stay, with
    ``anonymised: 1``; shared with the reader store's retention
    (``worker.analytics.retention``).
    """
    dialect = session.get_bind().dialect.name
    build = func.json_build_object if dialect == "postgresql" else func.json_object
    return build(
        "event",
        RawEvent.type_name,
        "timestamp",
        RawEvent.timestamp,
        "name",
        RawEvent.body["name"].as_string(),
        "anonymised",
        1,
    )


def erase_reader(
    session: Session,
    reader: Reader,
    tracker: Engine | None,
    *,
    staff_id: int | None,
    via: str,
) -> ErasureResult:
    """Erase ``reader`` from the reader store (in ``session``) and the tracker store.

    The tracker store's rows are deleted first, in their own transaction: if the
    reader store's commit then fails, running the erasure again finishes it (the
    conversations are still found through the reader).

    Args:
        session: An open session on the reader store; the caller commits.
        reader: The reader (:func:`crm_store.data_rights.find_reader`).
        tracker: An engine on Rasa's tracker store; None when there is none.
        staff_id: The admin who asked, or None (``./ric reader erase``).
        via: Where the request came from, such as ``cli`` or ``console``.

    Returns:
        The rows changed per kind (``tracker_events`` for the tracker store).
    """
    result = ErasureResult(int(reader.id))
    conversations = list(
        session.execute(select(Conversation).where(Conversation.reader_id == reader.id)).scalars()
    )
    ids = [c.id for c in conversations]
    senders = [str(c.sender_id) for c in conversations]
    result.counts["tracker_events"] = delete_conversations(tracker, senders)
    if tracker is not None:
        keep_checkpoint_below(session, newest_id(tracker))
    _erase_conversations(session, result, conversations, senders)
    _erase_staff_texts(session, result, ids, int(reader.id))
    result.add(
        "identities",
        _run(session, delete(ChannelIdentity).where(ChannelIdentity.reader_id == reader.id)),
    )
    result.add(
        "consents",
        _run(session, delete(ReaderPreference).where(ReaderPreference.reader_id == reader.id)),
    )
    result.add(
        "email_threads",
        _run(session, delete(EmailMessage).where(EmailMessage.sender_id.in_(senders))),
    )
    if reader.email:
        result.add(
            "email_threads",
            _run(
                session,
                delete(EmailMessage).where(
                    func.lower(EmailMessage.address) == reader.email.lower()
                ),
            ),
        )
    result.add(
        "email_outbox",
        _run(session, delete(EmailOutboxEntry).where(EmailOutboxEntry.sender_id.in_(senders))),
    )
    reader.display_name = None
    reader.email = None
    reader.card_number = None
    reader.verified_at = None
    result.counts["readers"] = 1
    audit(session, staff_id, "reader.erase", f"reader:{reader.id}", via=via, counts=result.counts)
    return result


def _erase_conversations(
    session: Session, result: ErasureResult, conversations: list[Conversation], senders: list[str]
) -> None:
    ids = [c.id for c in conversations]
    own = select(Message.id).where(Message.conversation_id.in_(ids))
    # Before the texts go: the clusters' masked copies are found by the words themselves.
    result.counts["question_clusters"] = drop_cluster_texts(
        session,
        {
            int(message_id): text
            for message_id, text in session.execute(
                select(Message.id, Message.text).where(Message.id.in_(own))
            )
        },
    )
    result.add(
        "question_cluster_members",
        _run(
            session, delete(QuestionClusterMember).where(QuestionClusterMember.message_id.in_(own))
        ),
    )
    result.add(
        "messages",
        _run(
            session,
            update(Message)
            .where(Message.conversation_id.in_(ids))
            .values(text=_erased_if_set(Message.text), payload=None),
        ),
    )
    for conversation in conversations:
        result.add(
            "raw_events",
            _run(
                session,
                update(RawEvent)
                .where(RawEvent.sender_id == conversation.sender_id)
                .values(
                    body=anonymised_event_body(session),
                    sender_id=f"erased:{conversation.id}",
                ),
            ),
        )
    for conversation in conversations:
        conversation.sender_id = f"erased:{conversation.id}"
    result.counts["conversations"] = len(conversations)
    result.add(
        "surveys",
        _run(
            session,
            update(Survey)
            .where(Survey.conversation_id.in_(ids))
            .values(sent_sender_id=None, last_error=None),
        ),
    )


def _erase_staff_texts(
    session: Session, result: ErasureResult, ids: list[int], reader_id: int
) -> None:
    def apply(kind: str, statement: Any) -> None:
        """Run ``statement`` and count the rows it changed under ``kind``."""
        result.add(kind, _run(session, statement))

    def by_conversation(kind: str, model: Any, **values: Any) -> None:
        """Set ``values`` on the rows of ``model`` that belong to the reader's conversations."""
        apply(kind, update(model).where(model.conversation_id.in_(ids)).values(**values))

    by_conversation("notes", Note, body=ERASED)
    by_conversation("librarian_messages", OutboundMessage, text=ERASED)
    by_conversation(
        "handoffs",
        Handoff,
        resolution_note=_erased_if_set(Handoff.resolution_note),
        transfer_note=_erased_if_set(Handoff.transfer_note),
    )
    apply(
        "tickets",
        update(Ticket)
        .where(or_(Ticket.reader_id == reader_id, Ticket.conversation_id.in_(ids)))
        .values(subject=ERASED, body=ERASED, contact=None, updated_at=Ticket.updated_at),
    )
    apply(
        "ratings",
        update(Feedback)
        .where(
            and_(
                or_(Feedback.reader_id == reader_id, Feedback.conversation_id.in_(ids)),
                Feedback.comment.is_not(None),
            )
        )
        .values(comment=None),
    )
    by_conversation(
        "follow_ups",
        FollowUp,
        note=_erased_if_set(FollowUp.note),
        answer_text=_erased_if_set(FollowUp.answer_text),
        sent_sender_id=None,
    )
    # The admin studio's copies of the reader's words (issue 16): inbox labels keep a
    # message's text, FAQ candidates the question (the librarian's answer stays).
    apply(
        "studio_labels",
        update(NluInboxLabel)
        .where(
            NluInboxLabel.message_id.in_(select(Message.id).where(Message.conversation_id.in_(ids)))
        )
        .values(text=ERASED),
    )
    by_conversation("faq_candidates", FaqCandidate, question=ERASED)
    apply(
        "reminders",
        update(SentReminder).where(SentReminder.reader_id == reader_id).values(text=None),
    )
