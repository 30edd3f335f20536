"""What the inbox and the learning loop write into the training data.

Everything goes through the training-data editor
(:class:`~handoff_console.studio.training_data.editor.Editor`), so a label is
validated, audited with the admin's name and version-checked like an edit made on the
Training data page, and shows up in the pending changes.
"""

from __future__ import annotations

from typing import Any

from handoff_console.services.errors import BadRequest, NotFound
from handoff_console.studio.training_data.editor import Editor

__all__ = ["FAQ_PREFIX", "OUT_OF_SCOPE", "add_examples", "create_topic", "known_labels"]

FAQ_PREFIX = "faq/"
OUT_OF_SCOPE = "out_of_scope"
"""The intent that messages marked out of scope become examples of."""


def known_labels(editor: Editor) -> dict[str, str]:
    """Every intent and FAQ topic of the project: name -> ``intent`` or ``faq``."""
    return {item["name"]: item["kind"] for item in editor.overview()["intents"]}


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def add_examples(editor: Editor, label: str, texts: list[str]) -> dict[str, Any]:
    """Add ``texts`` to the examples of an existing intent or FAQ topic.

    Texts it already has (case and spacing aside) are skipped.

    Returns:
        The editor's answer (``files`` written, ``warnings``) plus ``added``.

    Raises:
        NotFound: No such intent or topic.
    """
    if label not in known_labels(editor):
        raise NotFound("no_intent", f"There is no intent or FAQ topic {label!r}.")
    view = editor.intent(label)
    current = [{"text": e["text"], "file": e["file"]} for e in view["examples"]]
    seen = {_fold(e["text"]) for e in current}
    added = []
    for text in texts:
        if _fold(text) not in seen:
            seen.add(_fold(text))
            added.append(text)
    if not added:
        return {"files": [], "warnings": [], "added": []}
    saved = editor.set_examples(
        label, view["version"], current + [{"text": t, "file": None} for t in added]
    )
    return {"files": saved["files"], "warnings": saved["warnings"], "added": added}


def create_topic(editor: Editor, topic: str, texts: list[str], answer: str) -> dict[str, Any]:
    """Create the FAQ topic ``faq/<name>`` with ``texts`` as examples and ``answer``.

    Raises:
        BadRequest: Not an ``faq/`` name, or no answer.
    """
    if not topic.startswith(FAQ_PREFIX):
        raise BadRequest(
            "bad_topic", "A new topic is an FAQ topic: name it faq/<topic> (faq/museum_passes)."
        )
    if not answer.strip():
        raise BadRequest("no_answer", f"A new FAQ topic needs its answer ({topic}).")
    unique = list(dict.fromkeys(texts))
    saved = editor.create_intent(topic, unique, None, answer)
    return {"files": saved["files"], "warnings": saved["warnings"], "added": unique}
