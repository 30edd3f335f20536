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

:func:`inbox_groups` (what the API and ``./ric nlu inbox`` call) reads the stored flags
of :mod:`crm_store.nlu_inbox_flags`, after bringing them up to date; the reasons are found
in :mod:`crm_store.nlu_inbox_reasons`. :func:`scan_inbox_groups` finds them by reading
every message of the window, as every request did before migration 0013: the reference
that the flags are tested against, and the fallback when the flags cannot be written.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from crm_store.models import NluInboxLabel, QuestionClusterMember, RawEvent
from crm_store.models.operations import QuestionCluster
from crm_store.nlu_inbox_flags import FlaggedRow, flagged_rows, refresh_flags
from crm_store.nlu_inbox_reasons import (
    CONVERSATIONAL_INTENTS,
    FALLBACK_INTENT,
    InboxRules,
    Reason,
    content_words,
    conversation_rows,
    flag_reasons,
)
from crm_store.redaction import mask_personal

__all__ = [
    "CONVERSATIONAL_INTENTS",
    "FALLBACK_INTENT",
    "InboxGroup",
    "InboxItem",
    "InboxRules",
    "Reason",
    "content_words",
    "inbox_groups",
    "predicted_label",
    "scan_inbox_groups",
]

logger = logging.getLogger("crm_store.nlu_inbox")
_WORD = re.compile(r"[a-z0-9]+")


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


def _grouped(session: Session, flagged: Sequence[FlaggedRow], limit: int) -> list[InboxGroup]:
    """Group the undecided flagged messages; biggest group first, at most ``limit``.

    A group of one text is labelled with its newest message's masked text.
    """
    clusters = _clusters(session, (row.message_id for row in flagged))
    groups: dict[str, InboxGroup] = {}
    for row in flagged:
        item = InboxItem(
            row.message_id, row.text, row.channel, row.sent_at, row.intent, row.confidence,
            list(row.reasons),
        )  # fmt: skip
        cluster = clusters.get(row.message_id)
        key = f"cluster-{cluster[0]}" if cluster else "text-" + _normalised(row.text)[:120]
        group = groups.get(key)
        if group is None:
            group = groups[key] = InboxGroup(
                key, cluster[1] if cluster else "", cluster[0] if cluster else None, []
            )
        group.items.append(item)
    for group in groups.values():
        group.items.sort(key=lambda i: (i.sent_at, i.message_id), reverse=True)
        if group.cluster_id is None:
            group.label = group.items[0].text
    ordered = sorted(
        groups.values(), key=lambda g: (-len(g.items), -g.items[0].sent_at.timestamp(), g.key)
    )[:limit]
    # The stored parse data (the FAQ topic, a fallback's best guess) only for what is shown.
    keys = {row.message_id: row.event_key for row in flagged}
    shown = [item for group in ordered for item in group.items]
    bodies = _bodies(session, (keys[item.message_id] for item in shown))
    for item in shown:
        label, confidence = predicted_label(bodies.get(keys[item.message_id]))
        if label:
            item.predicted_intent, item.confidence = label, confidence
    return ordered


def scan_inbox_groups(session: Session, rules: InboxRules, limit: int = 200) -> list[InboxGroup]:
    """:func:`inbox_groups` computed by reading every message since ``rules.since``.

    The reference computation (slow: seconds on a million messages); nothing is written.
    """
    conversations = conversation_rows(session, rules.since)
    reasons = flag_reasons(session, conversations, rules)
    candidates = [row for rows in conversations.values() for row in rows if row.id in reasons]
    decided = (
        set(
            session.execute(
                select(NluInboxLabel.message_id).where(NluInboxLabel.message_id.in_(list(reasons)))
            ).scalars()
        )
        if reasons
        else set()
    )
    flagged = [
        FlaggedRow(
            row.id,
            mask_personal(row.text or ""),
            row.channel,
            row.sent_at,
            row.intent,
            row.confidence,
            [r for r in Reason.ALL if r in reasons[row.id]],
            row.event_key,
        )
        for row in candidates
        if row.id not in decided
    ]
    return _grouped(session, flagged, limit)


def inbox_groups(session: Session, rules: InboxRules, limit: int = 200) -> list[InboxGroup]:
    """The undecided inbox messages since ``rules.since``, grouped; biggest group first.

    Brings the stored flags up to date (in a savepoint of the caller's transaction: what
    the worker has not caught up with yet), then reads them. Should they not be writable
    (another request wrote the same rows at the same time), it scans the window instead.

    Args:
        session: An open session on the reader store.
        rules: The window and thresholds.
        limit: At most this many groups (the newest of equal size first).
    """
    try:
        with session.begin_nested():
            refresh_flags(session, rules)
            flagged = flagged_rows(session, rules)
    except (IntegrityError, DBAPIError) as error:
        logger.warning("inbox flags not refreshed (%s); scanning the window", type(error).__name__)
        return scan_inbox_groups(session, rules, limit)
    return _grouped(session, flagged, limit)
