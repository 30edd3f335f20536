"""Typo-tolerant catalogue search built on the standard library (private to the package).

Every title, author and subject is tokenised once, at load, into an inverted index.
A query token matches index tokens exactly, by prefix, or within a small edit
distance (optimal string alignment, so "tolkein" finds "tolkien"); candidates for
the edit distance come from a bigram index, which keeps a query to a few
milliseconds over the whole catalogue.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from library.ils._catalog import CatalogRecord
from library.ils.records import SearchResult

# Words a reader wraps a search in ("have you got any books about ...").
_QUERY_STOPWORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "the",
        "of",
        "in",
        "on",
        "for",
        "to",
        "by",
        "about",
        "with",
        "from",
        "is",
        "are",
        "am",
        "any",
        "some",
        "have",
        "has",
        "do",
        "does",
        "you",
        "your",
        "i",
        "me",
        "my",
        "we",
        "want",
        "wanted",
        "looking",
        "look",
        "find",
        "search",
        "something",
        "anything",
        "books",
        "book",
        "novel",
        "novels",
        "titles",
        "title",
        "author",
        "written",
        "writer",
        "please",
        "can",
        "could",
        "get",
        "got",
        "there",
        "their",
        "that",
        "this",
        "what",
        "which",
        "who",
        "whose",
        "like",
        "read",
        "reading",
        "more",
        "other",
    }
)
# Words that say which format the reader wants rather than what it is about.
_FORMAT_WORDS = {
    "audiobook": "audiobook",
    "audio": "audiobook",
    "ebook": "ebook",
    "kindle": "ebook",
    "dvd": "dvd",
    "film": "dvd",
    "movie": "dvd",
}
_FORMAT_ORDER = {"book": 0, "large_print": 1, "ebook": 2, "audiobook": 3, "dvd": 4}

_TITLE, _AUTHOR, _SUBJECT = 1.0, 1.0, 0.85  # how much a match in each field counts
_FUZZY = 0.9  # a fuzzy match is worth less than an exact one of the same similarity
_PREFIX = 0.75
_MIN_COVERAGE = 0.5  # at least half of what the reader asked for must match
_EXACT_TITLE_BONUS = 1.0
_FORMAT_HINT_BONUS = 0.05
_CACHE_SIZE = 4096

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_POSSESSIVE = re.compile(r"'s\b")


def words(text: str) -> list[str]:
    """Split text into lower-case ASCII words, accents and possessives removed.

    Args:
        text: Any text.

    Returns:
        The words, in order.
    """
    folded = unicodedata.normalize("NFKD", text.lower().replace("\u2019", "'"))
    folded = "".join(char for char in folded if not unicodedata.combining(char))
    folded = _POSSESSIVE.sub("", folded).replace("'", "")
    return [word for word in _NON_ALNUM.split(folded) if word]


def normalise(text: str) -> list[str]:
    """Split text into index tokens: `words` with plurals folded.

    Args:
        text: Any text.

    Returns:
        The tokens, in order.
    """
    return [_stem(word) for word in words(text)]


def _is_filler(word: str) -> bool:
    return word in _QUERY_STOPWORDS or _stem(word) in _QUERY_STOPWORDS


def _format_word(word: str) -> str | None:
    return _FORMAT_WORDS.get(word) or _FORMAT_WORDS.get(_stem(word))


def _stem(token: str) -> str:
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    if len(token) > 3 and token.endswith("s") and not token.endswith(("ss", "us", "is")):
        return token[:-1]
    return token


def _bigrams(token: str) -> set[str]:
    padded = f"^{token}$"
    return {padded[i : i + 2] for i in range(len(padded) - 1)}


def _max_edits(token: str) -> int:
    if token.isdigit() or len(token) <= 3:
        return 0
    return 1 if len(token) <= 6 else 2


def osa_distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance, giving up above ``limit``.

    Args:
        a: One string.
        b: The other.
        limit: The largest distance of interest.

    Returns:
        The distance, or ``limit + 1`` when it is larger than ``limit``.
    """
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, before[j - 2] + 1)
            current[j] = value
        if min(current) > limit:
            return limit + 1
        before, previous = previous, current
    return previous[-1]


@dataclass(frozen=True)
class _Doc:
    record: CatalogRecord
    title_key: tuple[str, ...]
    title_key_content: tuple[str, ...]
    lendable: int


class SearchIndex:
    """An in-memory, typo-tolerant index over catalogue records."""

    def __init__(self, records: Iterable[CatalogRecord]) -> None:
        """Index the records.

        Args:
            records: The catalogue.
        """
        self._docs: list[_Doc] = []
        self._postings: dict[str, dict[int, float]] = {}
        self._isbn: dict[str, int] = {}
        for number, record in enumerate(records):
            title_words = words(record.title)
            title = [_stem(word) for word in title_words]
            self._docs.append(
                _Doc(
                    record=record,
                    title_key=tuple(title),
                    title_key_content=tuple(
                        _stem(word) for word in title_words if not _is_filler(word)
                    ),
                    lendable=sum(branch.total for branch in record.availability),
                )
            )
            fields = (
                (title, _TITLE),
                (normalise(record.author), _AUTHOR),
                (normalise(" ".join(record.subjects)), _SUBJECT),
            )
            for tokens, weight in fields:
                for token in tokens:
                    weights = self._postings.setdefault(token, {})
                    weights[number] = max(weights.get(number, 0.0), weight)
            if record.isbn:
                self._isbn[record.isbn] = number
        self._vocabulary = sorted(self._postings)
        self._by_bigram: dict[str, list[str]] = {}
        for token in self._vocabulary:
            for bigram in _bigrams(token):
                self._by_bigram.setdefault(bigram, []).append(token)
        self._expansions: dict[str, tuple[tuple[str, float], ...]] = {}

    def _expand(self, token: str) -> tuple[tuple[str, float], ...]:
        """Index tokens that a query token stands for, with a similarity in (0, 1]."""
        cached = self._expansions.get(token)
        if cached is not None:
            return cached
        if token in self._postings:
            found: dict[str, float] = {token: 1.0}
        else:
            found = {}
            limit = _max_edits(token)
            if limit:
                grams = _bigrams(token)
                shared = Counter(
                    candidate for gram in grams for candidate in self._by_bigram.get(gram, ())
                )
                needed = max(1, len(grams) - 3 * limit)
                for candidate, count in shared.items():
                    if count < needed:
                        continue
                    distance = osa_distance(token, candidate, limit)
                    if distance <= limit:
                        similarity = 1 - distance / max(len(token), len(candidate))
                        found[candidate] = max(found.get(candidate, 0.0), _FUZZY * similarity)
        if len(token) >= 4 and not token.isdigit():
            start = bisect_left(self._vocabulary, token)
            for candidate in self._vocabulary[start:]:
                if not candidate.startswith(token):
                    break
                if candidate != token:
                    found[candidate] = max(found.get(candidate, 0.0), _PREFIX)
        result = tuple(sorted(found.items()))
        if len(self._expansions) >= _CACHE_SIZE:
            self._expansions.clear()
        self._expansions[token] = result
        return result

    def search(self, query: str, limit: int = 5, format: str | None = None) -> list[SearchResult]:
        """Find the records that best match a query.

        Args:
            query: What the reader typed.
            limit: The most results to return.
            format: Only records of this format.

        Returns:
            The best matches, best first; empty when nothing is relevant enough.
        """
        if limit <= 0:
            return []
        isbn = re.sub(r"[\s-]", "", query)
        if isbn in self._isbn:
            doc = self._docs[self._isbn[isbn]]
            return [] if format and doc.record.format != format else [doc.record.as_result(2.0)]
        query_words = words(query)
        tokens = [_stem(word) for word in query_words]
        content = [
            _stem(word)
            for word in query_words
            if not _is_filler(word) and _format_word(word) is None
        ]
        hints = [hint for hint in map(_format_word, query_words) if hint]
        format_hint = hints[0] if content and hints else None
        # A query of nothing but little words ("It") is only answered by an exact title.
        exact_only = not content
        query_tokens = list(dict.fromkeys(content or tokens))
        if not query_tokens:
            return []

        best: dict[int, list[float]] = {}
        matched: set[str] = set()
        for position, token in enumerate(query_tokens):
            for candidate, similarity in self._expand(token):
                matched.add(candidate)
                for number, weight in self._postings[candidate].items():
                    scores = best.get(number)
                    if scores is None:
                        scores = best[number] = [0.0] * len(query_tokens)
                    scores[position] = max(scores[position], similarity * weight)

        key = tuple(tokens)
        key_content = tuple(content)
        ranked: list[tuple[tuple[float, int, int, int, str], _Doc, float]] = []
        for number, scores in best.items():
            doc = self._docs[number]
            if format and doc.record.format != format:
                continue
            exact = key == doc.title_key or (
                bool(key_content) and key_content == doc.title_key_content
            )
            if exact_only and not exact:
                continue
            coverage = sum(scores) / len(scores)
            if coverage < _MIN_COVERAGE and not exact:
                continue
            title_content = doc.title_key_content or doc.title_key
            title_hits = sum(1 for token in title_content if token in matched)
            title_coverage = title_hits / max(1, len(title_content))
            score = 0.8 * coverage + 0.15 * title_coverage
            if exact:
                score += _EXACT_TITLE_BONUS
            if format_hint and doc.record.format == format_hint:
                score += _FORMAT_HINT_BONUS
            score = round(score, 4)
            order = (
                -score,
                _FORMAT_ORDER.get(doc.record.format, 9),
                doc.record.year,  # a series comes out in reading order
                -doc.lendable,
                doc.record.record_id,
            )
            ranked.append((order, doc, score))
        ranked.sort(key=lambda item: item[0])
        return [doc.record.as_result(score) for _, doc, score in ranked[:limit]]
