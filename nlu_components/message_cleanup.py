"""Clean a reader's message before NLU sees it, on every channel.

`MessageCleanup` runs FIRST in the pipeline (before the tokenizer). It rewrites the
message text so that only what the reader wrote, as plain words, reaches the
classifiers and extractors:

- **Pasted email text.** A quoted earlier reply (``>`` lines, "On … wrote:", Outlook's
  "From: / Sent:" block, "-----Original Message-----"), a signature ("-- ", "Sent from
  my iPhone", "Thanks,\\nAda") and disclaimers are dropped with the email channel's own
  rules (:func:`nlu_components.email_text.clean_email_body`), so a reader who pastes
  an email into the widget or Telegram is understood like one who emails.
- **Markdown and HTML markup.** ``[Beloved](https://…)`` and ``<a href=…>Beloved</a>``
  become “Beloved”; ``**bold**``, ``*em*``, ``_em_``, ``~~x~~`` and inline code become
  “…” too (a marked-up span is nearly always a title); images keep their alt text;
  bare links and other tags are dropped. The link never reaches NLU (its words would
  pull the message towards an FAQ), and the reply never echoes it.

What was done is recorded under ``text_cleanup`` in the parse data (for example
``["quoted_email", "markup"]``), never the removed text, which may hold a PIN.

The cleaned text is what every later component and the actions read
(``tracker.latest_message["text"]``); the tracker's user event keeps the text as sent.
Training examples are left as they are: they hold no markup, and rewriting them would
shift the offsets of annotated entities.
"""

from __future__ import annotations

import html
import re

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu_components._stateless import StatelessComponent
from nlu_components.email_text import clean_email_body

__all__ = ["CLEANUP_KEY", "MessageCleanup", "clean_message"]

CLEANUP_KEY = "text_cleanup"

_OPEN, _CLOSE = "\u201c", "\u201d"
_IMAGE = re.compile(r"!\[([^\]\n]*)\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+\"[^\"]*\")?\)")
_MD_LINK = re.compile(r"\[([^\]\n]+)\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+\"[^\"]*\")?\)")
_REF_LINK = re.compile(r"\[([^\]\n]+)\]\[[^\]\n]*\]")
_REF_DEFINITION = re.compile(r"^\s*\[[^\]\n]+\]:\s*\S+.*$", re.MULTILINE)
_HTML_LINK = re.compile(r"<a\b[^>]*>(.*?)</a\s*>", re.IGNORECASE | re.DOTALL)
_HTML_EMPHASIS = re.compile(
    r"<(b|strong|i|em|u|cite|q)\b[^>]*>(.*?)</\1\s*>", re.IGNORECASE | re.DOTALL
)
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_AUTOLINK = re.compile(r"<(?:https?://|mailto:)[^<>\s]+>", re.IGNORECASE)
_BARE_URL = re.compile(r"(?<![\w@])(?:https?://|www\.)[^\s<>\"“”]+", re.IGNORECASE)
_EMPHASIS = (
    re.compile(r"(?<![\w*])\*\*(?=\S)([^*\n]+?)(?<=\S)\*\*(?![\w*])"),
    re.compile(r"(?<![\w_])__(?=\S)([^_\n]+?)(?<=\S)__(?![\w_])"),
    re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])"),
    re.compile(r"(?<![\w_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w_])"),
    re.compile(r"(?<![\w~])~~(?=\S)([^~\n]+?)(?<=\S)~~(?![\w~])"),
    re.compile(r"(?<!`)`([^`\n]+)`(?!`)"),
)
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+", re.MULTILINE)
_EMAIL_SIGNS = re.compile(
    r"^\s*>|^\s*on\b.{0,300}\bwrote\s*:?\s*$|^-{2,}\s*(?:original|forwarded) message|"
    r"^\s*from\s*:.+\n(?:.*\n){0,4}?\s*(?:sent|date|to|subject)\s*:|^--\s*$|^sent from my\b|"
    r"^get outlook for\b",
    re.IGNORECASE | re.MULTILINE,
)
_SPACES = re.compile(r"[ \t]{2,}")


def _quote(match: re.Match[str], group: int = 1) -> str:
    inner = " ".join(match.group(group).split()).strip(" \"'“”")
    return f"{_OPEN}{inner}{_CLOSE}" if inner else ""


def strip_markup(text: str) -> str:
    """Replace markdown and HTML markup by the words it marks, titles in “quotes”.

    Args:
        text: A reader's message.

    Returns:
        The text without link targets, tags or emphasis markers.
    """
    text = _REF_DEFINITION.sub("", text)
    text = _IMAGE.sub(lambda m: m.group(1).strip(), text)
    text = _MD_LINK.sub(_quote, text)
    text = _REF_LINK.sub(_quote, text)
    text = _HTML_LINK.sub(
        lambda m: _quote(m) if _HTML_TAG.sub("", m.group(1)).strip() else "", text
    )
    text = _HTML_EMPHASIS.sub(lambda m: _quote(m, 2), text)
    text = _HTML_TAG.sub(" ", text)
    text = html.unescape(text) if "&" in text else text
    text = _AUTOLINK.sub("", text)
    text = _BARE_URL.sub("", text)
    for pattern in _EMPHASIS:
        text = pattern.sub(_quote, text)
    text = _HEADING.sub("", text)
    text = _SPACES.sub(" ", text)
    text = re.sub(r"\s+([?!.,;:])", r"\1", text)
    text = re.sub(r"\(\s*\)", "", text)
    return "\n".join(line.strip() for line in text.split("\n")).strip()


def looks_like_pasted_email(text: str) -> bool:
    """Whether a message carries email quoting or a signature (needs more than one line)."""
    return "\n" in text.strip() and bool(_EMAIL_SIGNS.search(text))


def clean_message(text: str) -> tuple[str, list[str]]:
    """The text NLU should see, and what was removed to get it.

    Args:
        text: The reader's message as sent, on any channel.

    Returns:
        ``(cleaned, changes)``: the cleaned text (the original when cleaning would leave
        nothing) and the kinds of change made, from ``quoted_email`` and ``markup``.
    """
    changes: list[str] = []
    cleaned = text
    if looks_like_pasted_email(cleaned):
        body = clean_email_body(cleaned)
        if body and body != cleaned.strip():
            cleaned = body
            changes.append("quoted_email")
    unmarked = strip_markup(cleaned)
    if unmarked != cleaned.strip():
        if re.search(r"\w", unmarked):
            cleaned = unmarked
            changes.append("markup")
    else:
        cleaned = cleaned.strip() if changes else cleaned
    if not re.search(r"\w", cleaned):
        return text, []
    return cleaned, changes


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class MessageCleanup(StatelessComponent):
    """Strips pasted email quoting, signatures and markup from every message (see module)."""

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Training examples are left as they are (see the module docstring)."""
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Replace each message's text by its cleaned text."""
        for message in messages:
            text = message.get(TEXT)
            if not isinstance(text, str) or not text or text.startswith("/"):
                continue
            cleaned, changes = clean_message(text)
            if changes:
                message.set(TEXT, cleaned)
                message.set(CLEANUP_KEY, changes, add_to_output=True)
        return messages
