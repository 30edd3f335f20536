"""Greetings, holding lines and sign-offs in a librarian's answer, for the learning loop.

An FAQ candidate's answer (:mod:`crm_store.faq_candidates`) is what the librarian wrote
during the handoff, and much of that is talk, not answer: "Hi Ada, Sam here — let me
check.", "Anything else?", "You're welcome, have a nice day!". :func:`answer_text` keeps
the substance, deterministically (word lists and patterns, no model):

- each message is cut into clauses (at ``. ! ?``, commas, semicolons, colons, dashes and
  line breaks; "Mr." and the like do not end a clause);
- a clause is a **pleasantry** when, markup (``* _ ~ `` and backticks), emoji and
  emoticons aside, it is wholly a greeting ("Hi Ada", "Good morning"), a
  self-introduction ("Sam here", "this is Sam from the library", "my name is Sam"), a
  holding line ("let me check", "one moment please", "bear with me", "thanks for
  waiting") or a sign-off ("anything else?", "thank you", "you're welcome", "have a nice
  day", "hope this helps", "bye"), optionally followed by a name ("Thanks, Ada");
- a message with no other clause than pleasantries, bare names, acknowledgements ("ok",
  "sure", "of course", "yes", "no") and emoji is **dropped**, as long as it holds at least one
  pleasantry or nothing but emoji ("Sure." or "OK" alone stay: they can be the answer);
- a message that starts with pleasantries and goes on with substance loses that start
  ("Hi Ada! The library opens at 9." becomes "The library opens at 9."), up to the first
  clause of substance or acknowledgement ("Hi! Yes, we do." keeps "Yes, we do."); the
  rest is kept verbatim (a lower-case first letter left by the cut is upper-cased), and
  the messages stay in order;
- when every message would go, the answer is the unfiltered text: the librarian's words
  are never lost.

Names are capitalised words: a librarian who types "hi ada, ..." keeps that clause,
since "ada" could be any word. The word lists are per language in
:data:`PLEASANTRIES`: English only, because the bot serves English only (``config.yml``
is ``language: en`` and the NLU's ``LanguageGuard`` sends confidently non-English
messages to ``non_english``). Another language is one more entry of the same patterns.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

__all__ = ["PLEASANTRIES", "answer_text", "is_pleasantry", "strip_pleasantries"]

# A capitalised word (Latin letters, with accents) or a title with its dot.
_NAME = r"(?-i:(?:(?:Mr|Mrs|Ms|Mx|Dr)\.?\s+)?[A-ZÀ-ÖØ-Þ][\w'-]*)"
_TEAM = (
    r"(?:\s+(?:from|at|with|on)\s+(?:the\s+)?(?:[\w'-]+\s+){0,3}"
    r"(?:library|libraries|desk|front\s+desk|help\s*desk|team|branch|service|services))?"
)
_FOR = (
    r"(?:\s+for\s+(?:asking|that|this|your\s+(?:question|message|patience|help)"
    r"|contacting\s+us|getting\s+in\s+touch|reaching\s+out|waiting|holding|chatting))?"
)
_NAMES = rf"(?:\s+{_NAME}){{0,3}}"

PLEASANTRIES: dict[str, dict[str, list[str]]] = {
    "en": {
        "greeting": [
            r"(?:hi|hello|hey|hiya|heya|howdy|greetings|dear|good\s+(?:morning|afternoon|evening|day)|morning|evening)"
            r"(?:\s+(?:there|again|all|everyone|folks))?",
            r"(?:i\s+)?hope\s+(?:you'?re|you\s+are)\s+(?:well|doing\s+well|having\s+a\s+good\s+day)",
            r"how\s+are\s+you(?:\s+(?:today|doing))?",
            r"welcome(?:\s+back)?(?:\s+to\s+the\s+library)?",
        ],
        "introduction": [
            rf"{_NAME}(?:\s+{_NAME})?\s+here{_TEAM}",
            rf"(?:this\s+is|i'?m|i\s+am|my\s+name\s+is)\s+{_NAME}(?:\s+{_NAME})?{_TEAM}",
            rf"(?:you'?re|you\s+are)\s+(?:now\s+)?(?:chatting|speaking|talking)\s+(?:with|to)\s+{_NAME}",
            r"(?:a|one\s+of\s+the|your)\s+librarians?\s+here",
        ],
        "holding": [
            r"let\s+me\s+(?:just\s+)?(?:check|see|look|have\s+a\s+look|take\s+a\s+look|find\s+out|look\s+into\s+(?:that|this|it)|look\s+(?:that|it)\s+up)"
            r"(?:\s+(?:that|this|it))?(?:\s+for\s+you)?(?:\s+now)?",
            r"(?:i'?ll|i\s+will)\s+(?:just\s+)?(?:check|look|find\s+out|look\s+into\s+(?:that|this|it))"
            r"(?:\s+(?:that|this|it))?(?:\s+for\s+you)?(?:\s+now)?",
            r"(?:one|just\s+a|give\s+me\s+a|wait\s+a)\s+(?:moment|minute|min|sec|second)(?:\s+please)?",
            r"one\s+sec(?:ond)?(?:\s+please)?",
            r"bear\s+with\s+me(?:\s+please)?",
            r"(?:please\s+)?(?:hold\s+on|wait|hold)(?:\s+please)?",
            r"checking(?:\s+now)?",
            r"(?:thanks|thank\s+you)\s+for\s+(?:waiting|your\s+patience|holding|bearing\s+with\s+me)",
            r"sorry\s+(?:for|about)\s+the\s+(?:wait|delay)",
            r"(?:how|what)\s+can\s+i\s+(?:help(?:\s+you)?(?:\s+with)?|do\s+for\s+you)(?:\s+today)?",
            r"(?:happy|glad)\s+to\s+help",
        ],
        "sign-off": [
            r"(?:is\s+there\s+)?anything\s+else(?:\s+i\s+can\s+(?:help(?:\s+you)?\s+with|do\s+for\s+you))?(?:\s+today)?",
            r"can\s+i\s+help(?:\s+you)?\s+with\s+anything\s+else(?:\s+today)?",
            rf"(?:many\s+)?(?:thanks|thank\s+you|thx|ta|cheers)(?:\s+(?:so|very)\s+much)?{_FOR}",
            r"(?:you'?re|you\s+are)\s+(?:very\s+|most\s+)?welcome",
            r"no\s+(?:problem|worries)(?:\s+at\s+all)?",
            r"(?:my\s+)?pleasure",
            r"(?:glad|happy)\s+(?:i\s+could|to\s+have)\s+help(?:ed)?",
            r"(?:have|enjoy)\s+a\s+(?:nice|good|great|lovely|wonderful)\s+(?:day|evening|afternoon|weekend|one)",
            r"(?:take\s+care|all\s+the\s+best|best\s+wishes|kind\s+regards|regards|happy\s+reading|enjoy)",
            r"(?:bye|goodbye|bye\s+for\s+now|see\s+you(?:\s+soon)?|talk\s+soon)",
            r"(?:i\s+)?hope\s+(?:this|that)\s+helps",
        ],
        "acknowledgement": [
            r"(?:ok|okay|alright|all\s+right|sure|of\s+course|certainly|great|perfect|right"
            r"|yes|yep|yeah|no|nope)",
        ],
    },
}
"""Per language, per kind, the patterns a whole clause must match (case aside, but names
stay capitalised). ``acknowledgement`` alone does not make a message a pleasantry."""

_REAL_KINDS = ("greeting", "introduction", "holding", "sign-off")


def _compile(kinds: Iterable[str]) -> re.Pattern[str]:
    patterns = [p for lang in PLEASANTRIES.values() for k in kinds for p in lang.get(k, [])]
    # Keywords match in any case; the names stay case-sensitive ((?-i:) in _NAME).
    return re.compile(rf"(?:{'|'.join(patterns)}){_NAMES}", re.IGNORECASE)


_PLEASANTRY = _compile(_REAL_KINDS)
_ACK = _compile(["acknowledgement"])
_BARE_NAMES = re.compile(rf"{_NAME}(?:\s+{_NAME}){{0,2}}", re.IGNORECASE)
_NOT_NAMES = frozenset({"details", "info", "more", "link", "links", "everything", "here", "all"})

# Clause ends: sentence punctuation (not after a title), commas and the like, dashes, lines.
_SEPARATOR = re.compile(
    r"(?<!\bMr)(?<!\bMs)(?<!\bMx)(?<!\bDr)(?<!\bMrs)[.!?…]+[\"')\]]*(?:\s+|$)"
    r"|[,;:](?:\s+|$)|\s+[-\u2014\u2013]+\s+|\s*[\u2014\u2013]\s*|\n+"
)
_MARKUP = re.compile(r"[*_~`]+")
_EMOTICON = re.compile(r"(?:(?<=\s)|^)[:;=8][-']?[)(DPp3/\\|*]+(?=\s|$)|<3")


def _clean(clause: str) -> str:
    """The clause's words: markup, emoji, emoticons and edge punctuation removed."""
    text = _MARKUP.sub("", clause.replace("\u2019", "'"))
    text = _EMOTICON.sub(" ", text)
    text = "".join(
        " " if unicodedata.category(ch) in ("So", "Sk", "Cf", "Mn") and not ch.isalnum() else ch
        for ch in text
    )
    return " ".join(text.split()).strip(" .,;:!?\u2026'\"()[]-\u2014\u2013")


def _kind(clause: str) -> str:
    """``pleasantry``, ``empty``, ``acknowledgement``, ``name`` (bare) or ``substance``."""
    words = _clean(clause)
    if not words:
        return "empty"
    if _PLEASANTRY.fullmatch(words) and not _is_noun_here(words):
        return "pleasantry"
    if _ACK.fullmatch(words):
        return "acknowledgement"
    if _BARE_NAMES.fullmatch(words) and words.lower() not in _NOT_NAMES:
        return "name"
    return "substance"


def _is_noun_here(words: str) -> bool:
    """ "Details here" is a pointer to what follows, not "Sam here"."""
    first = words.split()[0].lower()
    return words.lower().endswith(" here") and first in _NOT_NAMES


def _clauses(text: str) -> list[tuple[int, str]]:
    """The message's clauses, each with where it starts in ``text``."""
    found: list[tuple[int, str]] = []
    start = 0
    for sep in _SEPARATOR.finditer(text):
        if sep.start() > start:
            found.append((start, text[start : sep.start()]))
        start = sep.end()
    if start < len(text):
        found.append((start, text[start:]))
    return found


def is_pleasantry(message: str) -> bool:
    """Whether a whole librarian message is only pleasantries (or only emoji).

    Args:
        message: One librarian message.

    Returns:
        True when it holds no substance and at least one pleasantry, or nothing but
        emoji and markup.
    """
    kinds = [_kind(clause) for _, clause in _clauses(message)]
    if "substance" in kinds:
        return False
    return "pleasantry" in kinds or all(kind == "empty" for kind in kinds)


def strip_pleasantries(message: str) -> str:
    """The message without its leading pleasantries ("" when it is only pleasantries).

    Args:
        message: One librarian message.

    Returns:
        The text from the first clause of substance on, verbatim but for an upper-case
        first letter where the cut left a lower-case one; the message unchanged when it
        does not start with a pleasantry.
    """
    text = message.strip()
    if is_pleasantry(text):
        return ""
    clauses = _clauses(text)
    kinds = [_kind(clause) for _, clause in clauses]
    # The cut stops at an acknowledgement too: "Hi! Yes, we do." keeps its "Yes".
    first = next(
        (i for i, kind in enumerate(kinds) if kind in ("substance", "acknowledgement")), None
    )
    if first is None or "pleasantry" not in kinds[:first]:
        return text
    rest = text[clauses[first][0] :]
    if rest[:1].islower() and not rest[1:2].isupper():
        rest = rest[0].upper() + rest[1:]
    return rest


def answer_text(messages: Iterable[str]) -> str:
    """A librarian's messages as one FAQ answer, without greetings and sign-offs.

    Args:
        messages: The librarian's messages, in order.

    Returns:
        The kept messages (see the module docstring), joined by blank lines; all of the
        messages, unfiltered, when nothing would be kept.
    """
    texts = [text.strip() for text in messages if text and text.strip()]
    kept = [stripped for stripped in map(strip_pleasantries, texts) if stripped]
    return "\n\n".join(kept or texts)
