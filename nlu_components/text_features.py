"""Sparse word and character n-gram features that work with or without spaces.

The intent classifier pairs the sentence encoder with tf-idf n-grams. Two rules keep
those n-grams language-neutral:

- words are runs of letters or of digits, and every CJK ideograph, kana or hangul
  syllable is a word of its own, so text without spaces ("我想续借我的书") still gives
  word unigrams and bigrams;
- digits become ``0`` before counting, so "card 21234000123456" and "card
  29876000654321" share their features (the shape matters, not the number).

Nothing here is English-specific: no stop words, no stemming.

The fitted vectorizers persist as JSON (vocabulary and idf weights), never as pickles,
so loading a model file cannot run code.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer

__all__ = ["NgramFeatures", "normalise_for_ngrams", "word_tokens"]

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_WORD = re.compile(rf"[{_CJK}]|[^\W\d_{_CJK}]+|\d+")
_DIGIT = re.compile(r"\d")


def normalise_for_ngrams(text: str) -> str:
    """Lower-case ``text`` and turn every digit into ``0``.

    Args:
        text: A message as the reader typed it.

    Returns:
        The text the n-gram vectorizers see.
    """
    return _DIGIT.sub("0", text.lower())


def word_tokens(text: str) -> list[str]:
    """Split normalised text into words; each CJK character is a word of its own.

    Args:
        text: Text already passed through :func:`normalise_for_ngrams`.

    Returns:
        The words, in order.
    """
    return _WORD.findall(text)


def _word_vectorizer(ngram_max: int, min_df: int) -> TfidfVectorizer:
    return TfidfVectorizer(
        min_df=min_df,
        tokenizer=word_tokens,
        token_pattern=None,
        lowercase=False,
        ngram_range=(1, ngram_max),
        sublinear_tf=True,
    )


def _char_vectorizer(ngram_min: int, ngram_max: int, min_df: int) -> TfidfVectorizer:
    return TfidfVectorizer(
        min_df=min_df,
        analyzer="char_wb",
        lowercase=False,
        ngram_range=(ngram_min, ngram_max),
        sublinear_tf=True,
    )


def _restore(vectorizer: TfidfVectorizer, state: dict[str, Any]) -> TfidfVectorizer:
    vectorizer.vocabulary_ = {str(k): int(v) for k, v in state["vocabulary"].items()}
    vectorizer.fixed_vocabulary_ = True
    vectorizer.idf_ = np.asarray(state["idf"], dtype=np.float64)
    return vectorizer


def _state(vectorizer: TfidfVectorizer) -> dict[str, Any]:
    return {
        "vocabulary": {k: int(v) for k, v in vectorizer.vocabulary_.items()},
        "idf": [float(x) for x in vectorizer.idf_],
    }


class NgramFeatures:
    """Word (1..``word_max``) and char_wb (``char_min``..``char_max``) tf-idf features.

    Args:
        word_max: The longest word n-gram.
        char_min: The shortest character n-gram.
        char_max: The longest character n-gram.
        min_df: Keep only n-grams seen in at least this many training texts.
    """

    def __init__(
        self, word_max: int = 2, char_min: int = 2, char_max: int = 5, min_df: int = 1
    ) -> None:
        self.settings = {
            "word_max": word_max, "char_min": char_min, "char_max": char_max, "min_df": min_df
        }  # fmt: skip
        self._words = _word_vectorizer(word_max, min_df)
        self._chars = _char_vectorizer(char_min, char_max, min_df)

    def fit(self, texts: list[str]) -> NgramFeatures:
        """Learn the vocabularies and idf weights from training texts.

        Args:
            texts: The raw training texts.

        Returns:
            ``self``, fitted.
        """
        normalised = [normalise_for_ngrams(t) for t in texts]
        self._words.fit(normalised)
        self._chars.fit(normalised)
        return self

    def transform(self, texts: list[str]) -> csr_matrix:
        """Return the tf-idf rows of ``texts`` (char columns, then word columns).

        Args:
            texts: Raw texts.

        Returns:
            A ``(len(texts), n_features)`` sparse matrix; each block is L2-normalised.
        """
        normalised = [normalise_for_ngrams(t) for t in texts]
        return hstack(
            [self._chars.transform(normalised), self._words.transform(normalised)]
        ).tocsr()

    def to_json(self) -> dict[str, Any]:
        """Return the fitted state as plain JSON-able data."""
        return {
            "settings": self.settings,
            "words": _state(self._words),
            "chars": _state(self._chars),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NgramFeatures:
        """Rebuild fitted features from :meth:`to_json` output.

        Args:
            data: What :meth:`to_json` returned.

        Returns:
            Features that transform exactly as the fitted ones did.
        """
        features = cls(**{k: int(v) for k, v in data["settings"].items()})
        _restore(features._words, data["words"])
        _restore(features._chars, data["chars"])
        return features
