"""A small lexicon-based sentiment scorer for feedback comments (VADER-like, no downloads).

Each known word carries a valence from -4 to +4. A negation ("not", "never", "n't",
"no") flips and damps (x -0.74, as VADER does) the first sentiment word among the
three words after it, and only that one ("didn't solve my problem" is negative). An
intensifier just before ("very", "really", "so") strengthens a word by 0.3 in its
direction; a downtoner ("slightly", "somewhat") weakens it. After "but", the clause
counts 1.5 times and the clause before it 0.5 times. Exclamation marks add emphasis
(up to three). The sum ``s`` is normalised to ``s / sqrt(s^2 + 15)``, a compound score
in [-1, 1]; ``>= 0.05`` is positive and ``<= -0.05`` negative.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05
_ALPHA = 15.0
_NEGATION_DAMPING = -0.74
_BOOST = 0.3

LEXICON: dict[str, float] = {
    # positive
    "good": 1.9, "great": 3.1, "excellent": 3.2, "amazing": 2.8, "awesome": 3.1,
    "fantastic": 3.3, "wonderful": 2.7, "brilliant": 2.8, "perfect": 2.7, "superb": 3.1,
    "outstanding": 3.0, "nice": 1.8, "lovely": 2.8, "helpful": 1.9, "useful": 1.9,
    "quick": 1.2, "fast": 1.3, "easy": 1.9, "friendly": 2.2, "kind": 2.0, "polite": 1.7,
    "patient": 1.5, "clear": 1.2, "thanks": 1.9, "thank": 1.5, "thankful": 2.0,
    "grateful": 2.0, "appreciate": 1.7, "appreciated": 1.9, "love": 3.2, "loved": 2.9,
    "like": 1.3, "liked": 1.5, "happy": 2.7, "pleased": 1.9, "glad": 2.0, "satisfied": 1.8,
    "best": 3.2, "solve": 1.2, "solved": 1.5, "answered": 1.0, "resolved": 1.3,
    "fixed": 1.1, "efficient": 1.8,
    "smooth": 1.5, "impressed": 2.1, "recommend": 1.5, "pleasant": 2.3, "cheers": 1.6,
    "well": 1.1, "fine": 0.8, "ok": 0.9, "okay": 0.9, "works": 0.8, "worked": 0.9,
    # negative
    "bad": -2.5, "terrible": -3.0, "awful": -3.1, "horrible": -2.9, "poor": -2.1,
    "useless": -2.6, "unhelpful": -2.2, "slow": -1.4, "rude": -2.4, "unfriendly": -2.0,
    "confusing": -1.6, "confused": -1.5, "wrong": -2.1, "broken": -1.9, "annoying": -2.0,
    "annoyed": -2.0, "frustrating": -2.4, "frustrated": -2.4, "angry": -2.7, "hate": -3.0,
    "hated": -3.0, "disappointing": -2.3, "disappointed": -2.2, "worst": -3.1,
    "waste": -1.8, "waited": -0.8, "waiting": -0.7, "ignored": -1.8, "problem": -1.7,
    "problems": -1.7, "issue": -1.0, "fail": -2.3, "failed": -2.3, "failure": -2.3,
    "ridiculous": -2.1, "pointless": -1.9, "stupid": -2.4, "rubbish": -2.3,
    "unacceptable": -2.6, "difficult": -1.5, "hard": -0.9, "impossible": -1.8,
    "sad": -2.1, "unhappy": -1.8, "lost": -1.3, "complaint": -1.5,
    "sucks": -1.5, "meh": -0.5, "mediocre": -1.2, "late": -0.9, "nothing": -0.4,
}  # fmt: skip

NEGATIONS = frozenset(
    {
        "not", "no", "never", "none", "nobody", "nothing", "neither", "nor", "without",
        "cannot", "cant", "dont", "doesnt", "didnt", "isnt", "wasnt", "arent", "werent",
        "wont", "wouldnt", "shouldnt", "couldnt", "hardly", "barely",
    }
)  # fmt: skip
INTENSIFIERS = frozenset(
    {
        "very", "really", "so", "extremely", "incredibly", "super", "totally", "truly",
        "absolutely", "completely", "too", "most", "particularly", "especially",
    }
)  # fmt: skip
DOWNTONERS = frozenset({"slightly", "somewhat", "kinda", "barely", "little", "bit", "fairly"})

_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)?")


@dataclass(frozen=True)
class Sentiment:
    """The sentiment of one text.

    Attributes:
        compound: The normalised score in [-1, 1].
        label: ``positive``, ``negative`` or ``neutral``.
    """

    compound: float
    label: str


def tokens(text: str) -> list[str]:
    """Lower-case word tokens; ``n't`` contractions become their own ``not``."""
    words: list[str] = []
    for token in _TOKEN.findall(text.lower().replace("\u2019", "'")):
        if token.endswith("n't"):
            words.extend([token[:-3].replace("'", ""), "not"])
        else:
            words.append(token.replace("'", ""))
    return words


def _valence(words: list[str], index: int) -> float:
    valence = LEXICON[words[index]]
    if index >= 1:
        before = words[index - 1]
        if before in INTENSIFIERS:
            valence += _BOOST if valence > 0 else -_BOOST
        elif before in DOWNTONERS:
            valence -= _BOOST if valence > 0 else -_BOOST
    return valence


def score(text: str | None) -> Sentiment:
    """Score one comment; empty or unknown text is neutral (0.0)."""
    if not text:
        return Sentiment(0.0, "neutral")
    words = tokens(text)
    try:
        pivot = words.index("but")
    except ValueError:
        pivot = -1
    total = 0.0
    negated_until = -1  # index of the last word an open negation still reaches
    for index, word in enumerate(words):
        if word in NEGATIONS:
            negated_until = index + 3
            continue
        if word not in LEXICON:
            continue
        valence = _valence(words, index)
        if index <= negated_until:
            valence *= _NEGATION_DAMPING
            negated_until = -1
        if pivot >= 0:
            valence *= 0.5 if index < pivot else 1.5
        total += valence
    if total:
        emphasis = min(text.count("!"), 3) * 0.292
        total += emphasis if total > 0 else -emphasis
    compound = total / math.sqrt(total * total + _ALPHA)
    compound = round(compound, 4)
    if compound >= POSITIVE_THRESHOLD:
        label = "positive"
    elif compound <= NEGATIVE_THRESHOLD:
        label = "negative"
    else:
        label = "neutral"
    return Sentiment(compound, label)
