"""The nightly question clusters' sample texts, kept to the messages still readable.

The nightly analysis (``worker.analytics.clusters``) stores, per cluster of unanswered
questions, a few example texts (masked copies of member messages: digit runs become
``•••``, email addresses ``[email]``), a label (its top terms, or one example's text
when there are none) and which messages it holds (``question_cluster_members``).
An erasure or the transcripts' retention rewrites those messages, so the copies in
``question_clusters`` must go too:

- :func:`drop_cluster_texts` removes every example (and a text label) that a masked
  copy of one of the given texts could be, from every stored run, before those texts
  are rewritten (an erasure, which knows the reader's words), and in the clusters
  those messages belong to keeps only the terms another member's text holds;
- :func:`prune_cluster_examples` keeps, in clusters holding a message whose text has
  since been erased or anonymised, only the examples and terms found in a member
  message still readable (retention, which runs after the texts are gone).

The examples are not refilled from the other members (choosing them needs the
sentence encoder; the next nightly run stores fresh ones). A cluster's ``size`` is not
changed: the message still exists (anonymous), and every count the analysis makes
from the rows stays the same. Clusters stored without member rows can only lose the
examples matching an erased reader's words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from crm_store.models import Message, QuestionClusterMember
from crm_store.models.operations import QuestionCluster

__all__ = [
    "REMOVED_LABEL",
    "cluster_copies",
    "drop_cluster_texts",
    "example_matches",
    "prune_cluster_examples",
]

REMOVED_LABEL = "[question removed]"
"""The label of a cluster whose label was the text of a question that had to go."""

_MASKS = re.compile(r"•••|\\\[email\\\]")
_GONE_PREFIXES = ("[anonymised", "[erased")


def _normal(text: str) -> str:
    return " ".join(text.lower().split())


def example_matches(example: str, text: str) -> bool:
    """Whether ``example`` could be the analysis's masked copy of ``text``.

    Case and spacing are ignored; each ``•••`` or ``[email]`` in the example stands for
    any run of characters (what the mask replaced). A label cut at 200 characters
    matches on its prefix.
    """
    pattern = _MASKS.sub(".+?", re.escape(_normal(example)))
    target = _normal(text)
    if re.fullmatch(pattern, target, flags=re.DOTALL):
        return True
    return len(example) >= 200 and re.match(pattern, target, flags=re.DOTALL) is not None


def _readable(text: str | None) -> bool:
    return bool(text and text.strip()) and not str(text).startswith(_GONE_PREFIXES)


def _rewrite(cluster: QuestionCluster, keep: Any, live: list[str] | None = None) -> bool:
    """Keep the examples (and a text label) ``keep`` accepts; True when anything changed.

    With ``live`` (the cluster's member texts still readable), only the terms found in
    one of them stay, and a label made of terms is rebuilt from those left.
    """
    changed = False
    examples = [str(e) for e in cluster.examples or []]
    kept = [e for e in examples if keep(e)]
    if len(kept) != len(examples):
        cluster.examples = kept
        changed = True
    terms = [list(term) for term in cluster.terms or []]
    if not terms:
        if not keep(str(cluster.label)) and cluster.label != REMOVED_LABEL:
            cluster.label = REMOVED_LABEL
            changed = True
        return changed
    if live is None:
        return changed
    lowered = [text.lower() for text in live]
    found = [term for term in terms if any(str(term[0]) in text for text in lowered)]
    if len(found) != len(terms):
        cluster.terms = found
        cluster.label = (" / ".join(str(term[0]) for term in found) or REMOVED_LABEL)[:200]
        changed = True
    return changed


def _live_texts(
    session: Session, cluster_id: int, leaving: AbstractSet[int] = frozenset()
) -> list[str]:
    """The readable texts of a cluster's members, but for the messages ``leaving``."""
    rows = session.execute(
        select(Message.id, Message.text)
        .join(QuestionClusterMember, QuestionClusterMember.message_id == Message.id)
        .where(QuestionClusterMember.cluster_id == cluster_id)
    ).all()
    return [str(text) for message_id, text in rows if message_id not in leaving and _readable(text)]


def _wanted(texts: Iterable[str | None]) -> set[str]:
    return {_normal(str(t)) for t in texts if _readable(t)}


def cluster_copies(session: Session, texts: Iterable[str | None]) -> list[dict[str, Any]]:
    """The stored clusters' examples (and text labels) copied from ``texts`` (an export).

    Returns:
        One entry per cluster holding a copy: its run day, rank and the copied texts.
    """
    wanted = _wanted(texts)
    found: list[dict[str, Any]] = []
    if not wanted:
        return found
    clusters = session.execute(
        select(QuestionCluster).order_by(QuestionCluster.run_day, QuestionCluster.rank)
    ).scalars()
    for cluster in clusters:
        shown = [str(e) for e in cluster.examples or []]
        if not cluster.terms:
            shown.append(str(cluster.label))
        copies = sorted({e for e in shown if any(example_matches(e, t) for t in wanted)})
        if copies:
            found.append(
                {"run_day": cluster.run_day.isoformat(), "rank": cluster.rank, "texts": copies}
            )
    return found


def drop_cluster_texts(session: Session, messages: dict[int, str | None]) -> int:
    """Remove from every stored cluster what was copied from ``messages`` (id to text).

    Examples (and a text label) that could be a masked copy of one of the texts go
    from every run; in the clusters those messages are members of, only the terms found
    in another member's readable text stay (the label is rebuilt from them).

    Returns:
        How many clusters changed.
    """
    wanted = _wanted(messages.values())
    leaving = set(messages)
    holding = (
        set(
            session.execute(
                select(QuestionClusterMember.cluster_id).where(
                    QuestionClusterMember.message_id.in_(leaving)
                )
            ).scalars()
        )
        if leaving
        else set()
    )
    changed = 0
    for cluster in session.execute(select(QuestionCluster)).scalars():
        live = _live_texts(session, cluster.id, leaving) if cluster.id in holding else None
        if live is None and not wanted:
            continue
        if _rewrite(cluster, lambda e: not any(example_matches(e, t) for t in wanted), live):
            changed += 1
    return changed


def prune_cluster_examples(session: Session) -> int:
    """Keep only examples of live members in clusters holding an erased or anonymised one.

    A cluster with no member rows (stored before its members were recorded) cannot be
    checked and is left alone.

    Returns:
        How many clusters changed.
    """
    gone = or_(
        Message.text.like("[anonymised%"),
        Message.text.like("[erased%"),
    )
    affected = set(
        session.execute(
            select(QuestionClusterMember.cluster_id)
            .join(Message, Message.id == QuestionClusterMember.message_id)
            .where(gone)
            .distinct()
        ).scalars()
    )
    changed = 0
    for cluster_id in sorted(affected):
        cluster = session.get(QuestionCluster, cluster_id)
        if cluster is None:
            continue
        live = _live_texts(session, cluster_id)
        if _rewrite(cluster, lambda e, live=live: any(example_matches(e, t) for t in live), live):
            changed += 1
    return changed
