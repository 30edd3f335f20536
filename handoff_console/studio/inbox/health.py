"""Intent health: confusable intents, thin intents, FAQ topics never hit, conflicting examples.

- **Confusable pairs**: pairs of intents or FAQ topics whose examples the sentence
  encoder (the classifier's own all-MiniLM-L6-v2, :mod:`nlu_components.sentence_embeddings`)
  finds nearly the same (cosine similarity at or above ``RIC_STUDIO_HEALTH_SIMILARITY``),
  with how many example pairs and the closest one; plus, when a trained model was
  evaluated (the Models tab), the confusions of its cross-validation.
- **Too few examples**: fewer than ``RIC_STUDIO_HEALTH_MIN_EXAMPLES``.
- **FAQ topics never hit**: no reader message in the inbox window was answered with it.
- **Conflicts**: one text (case, punctuation and entity markup aside) under two labels
  (:func:`nlu_components.data_check.conflicts`).

Embeddings are cached per example text for the life of the process, so after an edit
only new examples are encoded; missing ones are encoded in a background thread
(:func:`ensure_encoded`), and the API answers 202 ``computing`` until they are.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.models import Message, RawEvent, SenderKind
from crm_store.nlu_inbox import predicted_label
from handoff_console.studio.annotations import plain
from nlu_components.data_check import conflicts, near_duplicates

__all__ = ["encode_cached", "ensure_encoded", "faq_hits", "intent_health"]

_cache: dict[str, np.ndarray[Any, Any]] = {}
_cache_lock = threading.Lock()
_encoder_thread: threading.Thread | None = None
logger = logging.getLogger(__name__)
MAX_PAIRS = 30


def encode_cached(texts: Sequence[str]) -> np.ndarray[Any, Any]:
    """L2-normalised sentence embeddings of ``texts``; each text is encoded once per process."""
    with _cache_lock:
        missing = [t for t in dict.fromkeys(texts) if t not in _cache]
    if missing:
        from nlu_components.sentence_embeddings import load_sentence_model

        vectors = load_sentence_model().encode(
            missing, normalize_embeddings=True, show_progress_bar=False, batch_size=64
        )
        with _cache_lock:
            _cache.update(zip(missing, np.asarray(vectors, dtype=np.float32), strict=True))
    with _cache_lock:
        return np.stack([_cache[t] for t in texts]) if texts else np.zeros((0, 384))


def ensure_encoded(texts: Sequence[str], wait: float) -> bool:
    """Whether every text is encoded; if not, encode the missing ones in the background.

    One background thread at a time encodes what is missing (the first time, that loads
    the encoder: up to a minute on a busy host, longer than a request may take). Waits
    up to ``wait`` seconds for it.
    """
    global _encoder_thread
    with _cache_lock:
        missing = [t for t in dict.fromkeys(texts) if t not in _cache]
        if not missing:
            return True
        if _encoder_thread is None or not _encoder_thread.is_alive():
            _encoder_thread = threading.Thread(
                target=_encode_logged, args=(missing,), name="studio-health-encoder", daemon=True
            )
            _encoder_thread.start()
        thread = _encoder_thread
    thread.join(wait)
    with _cache_lock:
        return all(t in _cache for t in texts)


def _encode_logged(texts: list[str]) -> None:
    try:
        encode_cached(texts)
    except Exception:
        logger.exception("the studio's health report could not encode the examples")


def faq_hits(session: Session, since: datetime) -> dict[str, int]:
    """How many reader messages since ``since`` the NLU gave each FAQ topic (``faq/x``)."""
    rows = session.execute(
        select(RawEvent.body)
        .join(Message, Message.event_key == RawEvent.event_key)
        .where(
            Message.sender_kind == SenderKind.READER,
            Message.intent == "faq",
            Message.sent_at >= since,
        )
    ).scalars()
    hits: dict[str, int] = defaultdict(int)
    for body in rows:
        label, _ = predicted_label(body if isinstance(body, dict) else None)
        if label:
            hits[label] += 1
    return dict(hits)


def _pairs(examples: list[tuple[str, str]], threshold: float) -> list[dict[str, Any]]:
    vectors = encode_cached([text for text, _ in examples])
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for pair in near_duplicates(examples, vectors, threshold):
        a, b = sorted([pair.first, pair.second], key=lambda e: e[1])
        key = (a[1], b[1])
        entry = found.setdefault(
            key,
            {
                "first": a[1], "second": b[1], "pairs": 0,
                "similarity": round(pair.similarity, 3), "example": [a[0], b[0]],
            },
        )  # fmt: skip
        entry["pairs"] += 1
    ranked = sorted(found.values(), key=lambda e: (-e["pairs"], -e["similarity"], e["first"]))
    return ranked[:MAX_PAIRS]


def intent_health(
    examples_by_label: dict[str, list[str]],
    hits: dict[str, int],
    *,
    min_examples: int,
    similarity: float,
    confusions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The health report of the training data.

    Args:
        examples_by_label: Each intent's and FAQ topic's example texts (markup allowed).
        hits: Reader messages per FAQ topic in the window (:func:`faq_hits`).
        min_examples: Fewer examples than this is *too few*.
        similarity: The cosine similarity from which two examples are confusable.
        confusions: A model evaluation's confusions (``truth``, ``predicted``, ``count``).
    """
    examples = [(plain(t), label) for label, texts in examples_by_label.items() for t in texts]
    clashes = conflicts(examples)
    return {
        "labels": len(examples_by_label),
        "examples": len(examples),
        "min_examples": min_examples,
        "similarity": similarity,
        "confusable": _pairs(examples, similarity),
        "confusions": [c for c in confusions or [] if c.get("truth") != c.get("predicted")][:20],
        "too_few": sorted(
            (
                {"label": label, "examples": len(texts)}
                for label, texts in examples_by_label.items()
                if len(texts) < min_examples
            ),
            key=lambda e: (e["examples"], e["label"]),
        ),
        "never_hit": sorted(
            label for label in examples_by_label if label.startswith("faq/") and not hits.get(label)
        ),
        "hits": dict(sorted(hits.items())),
        "conflicts": [
            {"text": text, "labels": sorted(labels)} for text, labels in sorted(clashes.items())
        ],
    }
