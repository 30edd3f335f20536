"""Clusters of reader questions the bot could not answer.

The questions are reader messages that triggered a fallback (intent ``nlu_fallback``,
or a bot reply by ``action_clarify`` / ``action_default_fallback``) or a handoff (the
reader's latest substantive message at or before the handoff request). The newest
``limit`` of them in the window are embedded with the packaged sentence encoder and
grouped by agglomerative clustering (average linkage, cosine distance threshold).
Each group gets a label from its most distinctive words (class-based TF-IDF), its
size, the channels it came from, and the examples closest to its centroid.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.models import Handoff, Message, SenderKind
from worker.analytics.metrics import FALLBACK_INTENT, chunks, fallback_action_messages

Encoder = Callable[[Sequence[str]], Any]

# Messages that ask for a person or answer a yes/no question are not the unanswered question.
CONVERSATIONAL_INTENTS = (
    "request_human", "affirm", "deny", "greet", "goodbye", "thank", "bot_challenge",
)  # fmt: skip
ANONYMISED_PREFIX = "[anonymised"
STOPWORDS = frozenset(
    """a about after again all am an and any are as at be been before being but by can
    could did do does doing for from get got had has have having he her here hers him his
    how i if in into is it its just me more most my no nor not now of off on once only or
    other our out over please same she should so some such than that the their them then
    there these they this those through to too under until up very was we were what when
    where which while who whom why will with would you your yours hi hello hey thanks
    thank want need like know tell help im ive dont cant wont one also still library
    libraries""".split()  # noqa: SIM905
)
_WORD = re.compile(r"[a-z][a-z'\-]+")
_DIGITS = re.compile(r"\d[\d \-]{3,}\d")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


@dataclass(frozen=True)
class Question:
    """One unanswered reader message."""

    message_id: int
    text: str
    channel: str
    sent_at: datetime


@dataclass
class Cluster:
    """A group of similar questions.

    Attributes:
        label: The top distinctive terms, joined by " / ".
        size: How many questions (duplicates included) it holds.
        terms: The top terms with their c-TF-IDF weights.
        examples: Distinct texts closest to the centroid, masked (digits, emails).
        channels: Questions per channel.
        members: The message ids of its questions (not stored).
        first_seen_at: The oldest question's time.
        last_seen_at: The newest question's time.
    """

    label: str
    size: int
    terms: list[tuple[str, float]]
    examples: list[str]
    channels: dict[str, int]
    members: list[int] = field(repr=False)
    first_seen_at: datetime
    last_seen_at: datetime


def mask(text: str) -> str:
    """Hide digit runs (card numbers, phone numbers) and email addresses in an example."""
    return _DIGITS.sub("•••", _EMAIL.sub("[email]", text)).strip()


def _usable(text: str | None) -> bool:
    return bool(text and text.strip()) and not str(text).startswith(("/", ANONYMISED_PREFIX))


def unanswered_questions(
    session: Session, since: datetime, until: datetime, limit: int
) -> tuple[list[Question], int]:
    """The newest ``limit`` unanswered questions sent in ``[since, until)``.

    Returns:
        The questions, newest first, and how many there were before the cap.
    """
    ids: set[int] = set(
        session.execute(
            select(Message.id).where(
                Message.sender_kind == SenderKind.READER,
                Message.intent == FALLBACK_INTENT,
                Message.sent_at >= since,
                Message.sent_at < until,
            )
        ).scalars()
    )
    ids |= fallback_action_messages(session, since, until)
    trigger = (
        select(Message.id)
        .where(
            Message.conversation_id == Handoff.conversation_id,
            Message.sender_kind == SenderKind.READER,
            Message.sent_at <= Handoff.requested_at,
            (Message.intent.is_(None)) | (Message.intent.not_in(CONVERSATIONAL_INTENTS)),
        )
        .order_by(Message.sent_at.desc(), Message.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    ids |= {
        int(i)
        for i in session.execute(
            select(trigger).where(Handoff.requested_at >= since, Handoff.requested_at < until)
        ).scalars()
        if i is not None
    }
    if not ids:
        return [], 0
    questions: list[Question] = []
    for batch in chunks(ids):
        for message_id, text, channel, sent_at in session.execute(
            select(Message.id, Message.text, Message.channel, Message.sent_at).where(
                Message.id.in_(batch)
            )
        ):
            if _usable(text):
                questions.append(Question(int(message_id), str(text), channel, sent_at))
    questions.sort(key=lambda q: (q.sent_at, q.message_id), reverse=True)
    return questions[:limit], len(questions)


def _singular(word: str) -> str:
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    """Content words of a question (plurals folded), for the cluster labels."""
    found = []
    for raw in _WORD.findall(text.lower()):
        word = raw.strip("'-")
        if len(word) > 2 and word not in STOPWORDS:
            found.append(_singular(word))
    return found


def _top_terms(groups: list[list[str]], count: int = 3) -> list[list[tuple[str, float]]]:
    """Class-based TF-IDF: ``tf(t, c) * log(1 + A / f(t))`` per group ``c``.

    ``tf`` is the term's share of the group's words, ``f(t)`` its count over all groups
    and ``A`` the mean number of words per group.
    """
    per_group = [Counter(w for text in texts for w in words(text)) for texts in groups]
    overall: Counter[str] = Counter()
    for counts in per_group:
        overall.update(counts)
    mean_words = sum(overall.values()) / max(len(groups), 1)
    result = []
    for counts in per_group:
        total = sum(counts.values()) or 1
        weights = {
            term: (n / total) * math.log(1 + mean_words / overall[term])
            for term, n in counts.items()
        }
        ranked = sorted(weights.items(), key=lambda item: (-item[1], item[0]))[:count]
        result.append([(term, round(weight, 4)) for term, weight in ranked])
    return result


def cluster_questions(
    questions: Sequence[Question],
    encode: Encoder,
    *,
    distance: float = 0.6,
    min_size: int = 2,
    examples: int = 3,
) -> list[Cluster]:
    """Group similar questions; the biggest cluster first.

    Identical texts (case and spacing aside) are embedded once and count as many.

    Args:
        questions: The questions.
        encode: Texts to L2-normalised vectors (the packaged encoder in production).
        distance: Average-linkage cosine distance under which groups merge.
        min_size: Smaller clusters are dropped.
        examples: How many representative examples to keep per cluster.
    """
    import numpy as np

    distinct: dict[str, list[Question]] = defaultdict(list)
    for question in questions:
        distinct[" ".join(question.text.lower().split())].append(question)
    keys = list(distinct)
    if not keys:
        return []
    vectors = np.asarray(encode([distinct[k][0].text for k in keys]), dtype=np.float64)
    if len(keys) == 1:
        labels = np.zeros(1, dtype=int)
    else:
        from sklearn.cluster import AgglomerativeClustering

        model = AgglomerativeClustering(
            n_clusters=None, distance_threshold=distance, affinity="cosine", linkage="average"
        )
        labels = model.fit_predict(vectors)
    members: dict[int, list[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        members[int(label)].append(index)
    kept = [
        indexes
        for indexes in members.values()
        if sum(len(distinct[keys[i]]) for i in indexes) >= min_size
    ]
    term_lists = _top_terms([[q.text for i in ix for q in distinct[keys[i]]] for ix in kept])
    clusters = []
    for indexes, terms in zip(kept, term_lists, strict=True):
        centroid = vectors[indexes].mean(axis=0)
        closeness = vectors[indexes] @ centroid
        order = [indexes[j] for j in np.argsort(-closeness, kind="stable")]
        grouped = [q for i in indexes for q in distinct[keys[i]]]
        channels = Counter(q.channel for q in grouped)
        examples_text = [mask(distinct[keys[i]][0].text) for i in order[:examples]]
        clusters.append(
            Cluster(
                label=" / ".join(term for term, _ in terms)
                or mask(distinct[keys[order[0]]][0].text),
                size=len(grouped),
                terms=terms,
                examples=examples_text,
                channels=dict(sorted(channels.items())),
                members=sorted(q.message_id for q in grouped),
                first_seen_at=min(q.sent_at for q in grouped),
                last_seen_at=max(q.sent_at for q in grouped),
            )
        )
    clusters.sort(key=lambda c: (-c.size, c.label))
    return clusters
