"""The classifier's model: n-gram features, a softmax regression and its temperature.

:func:`fit_linear_model` fits it on sentence embeddings and texts;
:class:`LinearModel` scores new messages. ``ReaderIntentClassifier`` wraps it as a Rasa
component (training data in, persisted arrays out).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold

from nlu_components.calibration import fit_temperature, probabilities
from nlu_components.softmax_regression import SoftmaxRegression, fit_softmax_regression
from nlu_components.text_features import NgramFeatures

__all__ = ["LinearModel", "fit_linear_model"]


class LinearModel:
    """The fitted parts of the classifier: n-grams, weights, labels and temperature.

    Args:
        ngrams: Fitted n-gram features.
        regression: The fitted softmax regression.
        labels: The label names (intents and ``faq/<topic>``), in column order.
        temperature: The calibration temperature.
        embedding_weight: The factor on the sentence embedding block.
    """

    def __init__(
        self,
        ngrams: NgramFeatures,
        regression: SoftmaxRegression,
        labels: list[str],
        temperature: float,
        embedding_weight: float,
    ) -> None:
        self.ngrams = ngrams
        self.regression = regression
        self.labels = labels
        self.temperature = temperature
        self.embedding_weight = embedding_weight

    def scores(self, embeddings: np.ndarray, texts: list[str]) -> np.ndarray:
        """Uncalibrated decision scores, ``(len(texts), k)``."""
        return self.regression.scores(
            embeddings * self.embedding_weight, self.ngrams.transform(texts)
        )

    def predict_proba(self, embeddings: np.ndarray, texts: list[str]) -> np.ndarray:
        """Calibrated label probabilities, ``(len(texts), k)``."""
        return probabilities(self.scores(embeddings, texts), self.temperature)


def fit_linear_model(
    embeddings: np.ndarray,
    texts: list[str],
    truth: np.ndarray,
    labels: list[str],
    config: dict[str, Any],
) -> LinearModel:
    """Fit the n-grams, the softmax regression and its temperature on the training set.

    The temperature is learned on out-of-fold scores: ``calibration_folds`` models, each
    trained without one fold, score that fold. The final model then starts from the
    mean of the fold models, which roughly halves its L-BFGS iterations. The n-gram
    vocabulary is fitted once on all texts, so the fold models share its columns.

    Args:
        embeddings: ``(n, 384)`` sentence embeddings.
        texts: The ``n`` texts.
        truth: ``(n,)`` index into ``labels`` of each text's label.
        labels: Every label name.
        config: The component config (``C``, n-gram ranges, ``embedding_weight``...).

    Returns:
        The fitted, calibrated model.
    """
    ngrams = NgramFeatures(
        int(config["word_ngram_max"]),
        int(config["char_ngram_min"]),
        int(config["char_ngram_max"]),
        int(config["min_df"]),
    ).fit(texts)
    weight = float(config["embedding_weight"])
    dense, sparse = embeddings * weight, ngrams.transform(texts)

    def fit(rows: np.ndarray, start: SoftmaxRegression | None = None) -> SoftmaxRegression:
        return fit_softmax_regression(
            dense[rows], sparse[rows], truth[rows], len(labels),
            c=float(config["C"]), max_iter=int(config["max_iter"]), start=start,
        )  # fmt: skip

    folds = min(int(config["calibration_folds"]), int(np.bincount(truth).min()))
    temperature, start = 1.0, None
    if folds >= 2:
        scores = np.zeros((len(texts), len(labels)))
        fold_models = []
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
        for train, test in splitter.split(texts, truth):
            fold_models.append(fit(train))
            scores[test] = fold_models[-1].scores(dense[test], sparse[test])
        temperature = fit_temperature(scores, truth)
        start = SoftmaxRegression(
            np.mean([m.dense_coef for m in fold_models], axis=0),
            np.mean([m.sparse_coef for m in fold_models], axis=0),
            np.mean([m.intercept for m in fold_models], axis=0),
            0,
        )
    regression = fit(np.arange(len(texts)), start)
    return LinearModel(ngrams, regression, labels, temperature, weight)
