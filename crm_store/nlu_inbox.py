"""The NLU inbox: real reader messages the bot handled poorly, grouped, and their labels.

A reader message reaches the inbox for one or more reasons (:class:`Reason`):

``fallback``
    the NLU gave ``nlu_fallback`` (no intent above ``config.yml``'s threshold);
``low_confidence``
    the recognised intent's confidence is below a threshold (``RIC_STUDIO_INBOX_LOW_CONFIDENCE``);
``rephrased``
    the bot answered and the reader wrote again within seconds, in words sharing a
    content word with the first message (they were not understood);
``handoff_after_answer``
    the bot answered it and the reader then asked for a librarian;
``low_rating``
    the conversation got a survey rating at or below a threshold; its last question
    the bot answered is the one listed.

Messages are grouped by the nightly analysis' question clusters (their members are
kept in ``question_cluster_members``, so nothing is embedded per request); a message in
no cluster is grouped with the messages of the same text. Every text is masked
(:func:`crm_store.redaction.mask_personal`) and an item carries no reader identity:
its text, channel, date, predicted intent and confidence only.

An admin's decision (:mod:`crm_store.nlu_labels`) takes a message out of the inbox.
"""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.models import (
    Feedback,
    Handoff,
    Message,
    NluInboxLabel,
    QuestionClusterMember,
    RawEvent,
    SenderKind,
)
from crm_store.models.operations import QuestionCluster
from crm_store.redaction import mask_personal
from ric_config.studio_inbox import NluInboxConfig

__all__ = [
    "CONVERSATIONAL_INTENTS",
    "FALLBACK_INTENT",
    "InboxGroup",
    "InboxItem",
    "InboxRules",
    "Reason",
    "inbox_groups",
    "predicted_label",
]

FALLBACK_INTENT = "nlu_fallback"
CONVERSATIONAL_INTENTS = frozenset(
    {
        "request_human", "affirm", "deny", "greet", "goodbye", "thank", "bot_challenge",
        "give_feedback", "stop", "restart",
    }
)  # fmt: skip
"""Intents that are not a question the reader needed answered."""
_SKIPPED_PREFIXES = ("/", "[anonymised")
_WORD = re.compile(r"[a-z0-9]+")
_SHORT_WORDS = frozenset(
    {
        "about", "after", "also", "could", "does", "have", "here", "into", "just", "like",
        "need", "some", "than", "that", "them", "then", "there", "they", "this", "what",
        "when", "where", "which", "will", "with", "would", "your", "want", "know",
    }
)  # fmt: skip


class Reason:
    """Why a message is in the inbox."""

    FALLBACK = "fallback"
    LOW_CONFIDENCE = "low_confidence"
    REPHRASED = "rephrased"
    HANDOFF_AFTER_ANSWER = "handoff_after_answer"
    LOW_RATING = "low_rating"
    ALL = (FALLBACK, LOW_CONFIDENCE, REPHRASED, HANDOFF_AFTER_ANSWER, LOW_RATING)


@dataclass(frozen=True)
class InboxRules:
    """The thresholds of the inbox (``ric_config.NluInboxConfig``)."""

    since: datetime
    low_confidence: float = 0.5
    rephrase_seconds: int = 90
    low_rating: int = 2

    @classmethod
    def from_config(cls, config: NluInboxConfig, now: datetime) -> InboxRules:
        """The rules of ``config``, looking ``inbox_window_days`` back from ``now``."""
        return cls(
            since=now - timedelta(days=config.inbox_window_days),
            low_confidence=config.inbox_low_confidence,
            rephrase_seconds=config.inbox_rephrase_seconds,
            low_rating=config.inbox_low_rating,
        )


@dataclass
class InboxItem:
    """One reader message of the inbox, without any reader identity."""

    message_id: int
    text: str
    channel: str
    sent_at: datetime
    predicted_intent: str | None
    confidence: float | None
    reasons: list[str] = field(default_factory=list)


@dataclass
class InboxGroup:
    """Near-identical inbox messages: one nightly cluster, or one text."""

    key: str
    label: str
    cluster_id: int | None
    items: list[InboxItem]

    @property
    def reasons(self) -> list[str]:
        """Every reason of its messages, in :attr:`Reason.ALL` order."""
        found = {reason for item in self.items for reason in item.reasons}
        return [reason for reason in Reason.ALL if reason in found]

    def as_json(self) -> dict[str, Any]:
        """The group as JSON (the API's and ``./ric nlu inbox --json``'s shape)."""
        return {
            "key": self.key,
            "label": self.label,
            "cluster_id": self.cluster_id,
            "size": len(self.items),
            "reasons": self.reasons,
            "message_ids": [item.message_id for item in self.items],
            "items": [{**vars(item), "sent_at": item.sent_at.isoformat()} for item in self.items],
        }


@dataclass(frozen=True)
class _Row:
    id: int
    conversation_id: int
    kind: str
    text: str | None
    intent: str | None
    confidence: float | None
    channel: str
    sent_at: datetime
    event_key: str


def _kind(value: Any) -> str:
    return str(getattr(value, "value", value))


def _substantive(row: _Row) -> bool:
    text = (row.text or "").strip()
    return (
        row.kind == SenderKind.READER.value
        and bool(text)
        and not text.startswith(_SKIPPED_PREFIXES)
        and row.intent is not None
        and row.intent not in CONVERSATIONAL_INTENTS
    )


def content_words(text: str) -> set[str]:
    """The words of ``text`` that carry meaning (four letters or more, not filler)."""
    return {w for w in _WORD.findall(text.lower()) if len(w) >= 4 and w not in _SHORT_WORDS}


def _conversations(session: Session, since: datetime) -> dict[int, list[_Row]]:
    """Every message since ``since``, per conversation, in order."""
    rows = session.execute(
        select(
            Message.id, Message.conversation_id, Message.sender_kind, Message.text,
            Message.intent, Message.confidence, Message.channel, Message.sent_at,
            Message.event_key,
        )
        .where(Message.sent_at >= since)
        .order_by(Message.conversation_id, Message.sent_at, Message.id)
    )  # fmt: skip
    found: dict[int, list[_Row]] = defaultdict(list)
    for r in rows:
        row = _Row(int(r[0]), int(r[1]), _kind(r[2]), r[3], r[4], r[5], r[6], r[7], r[8])
        found[row.conversation_id].append(row)
    return found


def _rephrased(rows: Sequence[_Row], seconds: int) -> set[int]:
    """Reader messages the bot answered, followed within ``seconds`` by a reworded one."""
    found: set[int] = set()
    readers = [i for i, row in enumerate(rows) if row.kind == SenderKind.READER.value]
    for first, second in itertools.pairwise(readers):
        a, b = rows[first], rows[second]
        answered = any(row.kind == SenderKind.BOT.value for row in rows[first + 1 : second])
        if not (answered and _substantive(a) and _substantive(b)):
            continue
        soon = (b.sent_at - a.sent_at).total_seconds() <= seconds
        if soon and content_words(a.text or "") & content_words(b.text or ""):
            found.add(a.id)
    return found


def _last_answered(rows: Sequence[_Row], before: datetime) -> _Row | None:
    """The last substantive reader message before ``before`` that the bot answered."""
    answered = False
    for row in reversed([r for r in rows if r.sent_at <= before]):
        if row.kind == SenderKind.BOT.value:
            answered = True
        elif _substantive(row):
            return row if answered else None
    return None


def _event_reasons(
    session: Session, conversations: dict[int, list[_Row]], rules: InboxRules
) -> dict[int, set[str]]:
    """Messages flagged by a later event: a handoff or a low survey rating."""
    found: dict[int, set[str]] = defaultdict(set)
    handoffs = session.execute(
        select(Handoff.conversation_id, Handoff.requested_at).where(
            Handoff.requested_at >= rules.since
        )
    )
    for conversation_id, requested_at in handoffs:
        row = _last_answered(conversations.get(int(conversation_id), []), requested_at)
        if row is not None:
            found[row.id].add(Reason.HANDOFF_AFTER_ANSWER)
    ratings = session.execute(
        select(Feedback.conversation_id, Feedback.created_at).where(
            Feedback.created_at >= rules.since,
            Feedback.rating <= rules.low_rating,
            Feedback.conversation_id.is_not(None),
        )
    )
    for conversation_id, created_at in ratings:
        row = _last_answered(conversations.get(int(conversation_id), []), created_at)
        if row is not None:
            found[row.id].add(Reason.LOW_RATING)
    return found


def _message_reasons(rows: Sequence[_Row], rules: InboxRules) -> dict[int, set[str]]:
    found: dict[int, set[str]] = defaultdict(set)
    for row in rows:
        if not _substantive(row):
            continue
        if row.intent == FALLBACK_INTENT:
            found[row.id].add(Reason.FALLBACK)
        elif row.confidence is not None and row.confidence < rules.low_confidence:
            found[row.id].add(Reason.LOW_CONFIDENCE)
    for message_id in _rephrased(rows, rules.rephrase_seconds):
        found[message_id].add(Reason.REPHRASED)
    return found


def predicted_label(body: dict[str, Any] | None) -> tuple[str | None, float | None]:
    """The NLU's best guess in a stored ``user`` event: ``faq/<topic>`` or an intent.

    For ``nlu_fallback`` it is the best-ranked real intent (what the bot would have
    said had the threshold been lower); for the ``faq`` retrieval intent, the topic.
    """
    parse = (body or {}).get("parse_data") or {}
    intent = parse.get("intent") or {}
    name, confidence = intent.get("name"), intent.get("confidence")
    if name == FALLBACK_INTENT:
        ranking = [r for r in parse.get("intent_ranking") or [] if r.get("name") != name]
        if not ranking:
            return None, None
        name, confidence = ranking[0].get("name"), ranking[0].get("confidence")
    topic = intent.get("full_retrieval_intent_name") if intent.get("name") == name else None
    if not topic and isinstance(name, str):
        selector = (parse.get("response_selector") or {}).get(name) or {}
        topic = (selector.get("response") or {}).get("intent_response_key")
    label = topic or name
    number = float(confidence) if isinstance(confidence, int | float) else None
    return (str(label) if label else None), number


def _bodies(session: Session, keys: Iterable[str]) -> dict[str, dict[str, Any]]:
    wanted = list(keys)
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(wanted), 500):
        batch = wanted[start : start + 500]
        for key, body in session.execute(
            select(RawEvent.event_key, RawEvent.body).where(RawEvent.event_key.in_(batch))
        ):
            found[str(key)] = body if isinstance(body, dict) else {}
    return found


def _clusters(session: Session, message_ids: Iterable[int]) -> dict[int, tuple[int, str]]:
    """``message id -> (cluster id, label)`` from the latest nightly run that has clusters."""
    latest = session.execute(select(QuestionCluster.run_day).order_by(
        QuestionCluster.run_day.desc()).limit(1)).scalar()  # fmt: skip
    if latest is None:
        return {}
    ids = list(message_ids)
    found: dict[int, tuple[int, str]] = {}
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(QuestionClusterMember.message_id, QuestionCluster.id, QuestionCluster.label)
            .join(QuestionCluster, QuestionCluster.id == QuestionClusterMember.cluster_id)
            .where(
                QuestionCluster.run_day == latest,
                QuestionClusterMember.message_id.in_(ids[start : start + 500]),
            )
        )
        for message_id, cluster_id, label in rows:
            found[int(message_id)] = (int(cluster_id), str(label))
    return found


def _normalised(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def inbox_groups(session: Session, rules: InboxRules, limit: int = 200) -> list[InboxGroup]:
    """The undecided inbox messages since ``rules.since``, grouped; biggest group first.

    Args:
        session: An open session on the reader store.
        rules: The window and thresholds.
        limit: At most this many groups (the newest of equal size first).
    """
    conversations = _conversations(session, rules.since)
    reasons = _event_reasons(session, conversations, rules)
    rows: dict[int, _Row] = {}
    for conversation in conversations.values():
        for message_id, found in _message_reasons(conversation, rules).items():
            reasons[message_id] |= found
        rows.update({row.id: row for row in conversation if row.id in reasons})
    decided = set(
        session.execute(
            select(NluInboxLabel.message_id).where(NluInboxLabel.message_id.in_(list(reasons)))
        ).scalars()
    ) if reasons else set()  # fmt: skip
    flagged = [rows[i] for i in reasons if i in rows and i not in decided]
    clusters = _clusters(session, (row.id for row in flagged))
    groups: dict[str, InboxGroup] = {}
    for row in flagged:
        text = mask_personal(row.text or "")
        item = InboxItem(
            row.id, text, row.channel, row.sent_at, row.intent, row.confidence,
            [r for r in Reason.ALL if r in reasons[row.id]],
        )  # fmt: skip
        cluster = clusters.get(row.id)
        key = f"cluster-{cluster[0]}" if cluster else "text-" + _normalised(text)[:120]
        group = groups.get(key)
        if group is None:
            group = groups[key] = InboxGroup(
                key, cluster[1] if cluster else text, cluster[0] if cluster else None, []
            )
        group.items.append(item)
    for group in groups.values():
        group.items.sort(key=lambda i: (i.sent_at, i.message_id), reverse=True)
    ordered = sorted(
        groups.values(), key=lambda g: (-len(g.items), -g.items[0].sent_at.timestamp(), g.key)
    )[:limit]
    # The stored parse data (the FAQ topic, a fallback's best guess) only for what is shown.
    shown = [item for group in ordered for item in group.items]
    bodies = _bodies(session, (rows[item.message_id].event_key for item in shown))
    for item in shown:
        label, confidence = predicted_label(bodies.get(rows[item.message_id].event_key))
        if label:
            item.predicted_intent, item.confidence = label, confidence
    return ordered
