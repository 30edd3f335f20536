"""Confidence calibration: temperature scaling and the expected calibration error.

A logistic regression over ~60 labels, trained with weak regularisation, is
over-confident on the messages it was trained on and unevenly confident on new ones.
The classifier therefore learns one temperature ``T`` on out-of-fold scores
(cross-validation over the training data, so every score is on a message the model
did not see) by minimising the negative log-likelihood, and divides its scores by
``T`` at parse time. After that a confidence of 0.6 means about 60 % right, which is
what the ``FallbackClassifier`` threshold assumes.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax

__all__ = ["ReliabilityBin", "expected_calibration_error", "fit_temperature", "reliability"]


def fit_temperature(scores: np.ndarray, truth: np.ndarray) -> float:
    """Return the temperature that minimises the negative log-likelihood.

    Args:
        scores: ``(n, k)`` out-of-fold decision scores (logits).
        truth: ``(n,)`` index of the right label of each row.

    Returns:
        The temperature, between 0.05 and 20.
    """
    rows = np.arange(len(truth))

    def nll(log_t: float) -> float:
        return float(-log_softmax(scores / np.exp(log_t), axis=1)[rows, truth].mean())

    result = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return float(np.exp(result.x))


def probabilities(scores: np.ndarray, temperature: float) -> np.ndarray:
    """Softmax of ``scores / temperature``, row by row."""
    return np.asarray(softmax(scores / temperature, axis=1))


@dataclass(frozen=True)
class ReliabilityBin:
    """One bin of a reliability curve: predictions whose confidence fell in [low, high)."""

    low: float
    high: float
    count: int
    mean_confidence: float
    accuracy: float


def reliability(
    confidence: np.ndarray, correct: np.ndarray, bins: int = 10
) -> list[ReliabilityBin]:
    """Group predictions into equal-width confidence bins.

    Args:
        confidence: ``(n,)`` confidence of each prediction.
        correct: ``(n,)`` whether each prediction was right.
        bins: The number of bins over [0, 1].

    Returns:
        The non-empty bins, lowest first.
    """
    edges = np.linspace(0.0, 1.0, bins + 1)
    result: list[ReliabilityBin] = []
    for low, high in itertools.pairwise(edges):
        inside = (confidence >= low) & ((confidence < high) | (high == 1.0))
        if inside.any():
            result.append(
                ReliabilityBin(
                    low=float(low),
                    high=float(high),
                    count=int(inside.sum()),
                    mean_confidence=float(confidence[inside].mean()),
                    accuracy=float(correct[inside].mean()),
                )
            )
    return result


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, bins: int = 10
) -> float:
    """The count-weighted mean gap between confidence and accuracy over the bins.

    Args:
        confidence: ``(n,)`` confidence of each prediction.
        correct: ``(n,)`` whether each prediction was right.
        bins: The number of bins over [0, 1].

    Returns:
        ECE in [0, 1]; 0 is perfectly calibrated.
    """
    total = len(confidence)
    if total == 0:
        return 0.0
    return sum(
        b.count / total * abs(b.accuracy - b.mean_confidence)
        for b in reliability(confidence, correct, bins)
    )
