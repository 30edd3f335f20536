"""The held-out split of the inbox-labelled messages, and keeping it out of training.

The NLU inbox (issue 16, part 2) records each admin decision in ``nlu_inbox_labels``;
the ``assigned`` ones carry the (masked) reader text and the intent or FAQ topic it
was given, and may be written into the training data as examples. A stable share of
them (:data:`HELD_OUT_BUCKETS`: one in three, chosen by a hash of the normalised text,
so a message stays on its side of the split from one training run to the next) is
held out: the training job removes those texts from its copy of the NLU data, and
each model is scored on them.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_store.models import InboxDecision, NluInboxLabel
from handoff_console.studio.annotations import plain

__all__ = [
    "HELD_OUT_BUCKETS",
    "drop_examples",
    "held_out",
    "is_held_out",
    "labelled_messages",
    "normalise",
]

HELD_OUT_BUCKETS = 3
"""One labelled message in this many is held out of training."""
_EXAMPLE = re.compile(r"^(\s*)- (.*?)\s*$")


def normalise(text: str) -> str:
    """Case-folded, entity annotations unwrapped, spaces squeezed: for matching texts."""
    return " ".join(plain(text).casefold().split())


def is_held_out(text: str) -> bool:
    """Whether this labelled text is in the held-out share."""
    digest = hashlib.sha256(normalise(text).encode()).digest()
    return digest[0] % HELD_OUT_BUCKETS == 0


def labelled_messages(session: Session) -> list[tuple[str, str]]:
    """``(text, label)`` of every inbox message an admin assigned to an intent or topic."""
    rows = session.execute(
        select(NluInboxLabel.text, NluInboxLabel.label)
        .where(NluInboxLabel.decision == InboxDecision.ASSIGNED)
        .where(NluInboxLabel.label.is_not(None))
        .order_by(NluInboxLabel.id)
    )
    return [(str(text), str(label)) for text, label in rows if str(text).strip()]


def held_out(labelled: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The held-out share of ``labelled`` (each text once)."""
    seen: set[str] = set()
    chosen = []
    for text, label in labelled:
        key = normalise(text)
        if key not in seen and is_held_out(text):
            seen.add(key)
            chosen.append((text, label))
    return chosen


def drop_examples(data_dir: Path, texts: list[str]) -> int:
    """Remove every NLU example whose text is one of ``texts`` from the YAML under ``data_dir``.

    Works on the lines of ``examples: |`` blocks, so the files keep their layout.

    Returns:
        How many example lines were removed.
    """
    unwanted = {normalise(text) for text in texts}
    if not unwanted:
        return 0
    removed = 0
    for path in sorted(data_dir.rglob("*.yml")) + sorted(data_dir.rglob("*.yaml")):
        lines = path.read_text().splitlines(keepends=True)
        kept = []
        for line in lines:
            match = _EXAMPLE.match(line)
            if match and normalise(match.group(2).strip("\"'")) in unwanted:
                removed += 1
                continue
            kept.append(line)
        if len(kept) != len(lines):
            path.write_text("".join(kept))
    return removed
