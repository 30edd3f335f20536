"""Multinomial logistic regression over a dense block and a sparse block, fitted with L-BFGS.

scikit-learn's ``LogisticRegression`` needs one matrix, so the 384 dense embedding
columns would be stored as sparse entries; they are most of the non-zeros, and every
gradient step then pays sparse-matrix prices for dense data (about 15 s of CPU per fit
on the training set). Keeping the blocks apart lets BLAS do the dense product and
scipy the sparse one: the same objective, about ten times faster, which is what makes
cross-validated calibration affordable inside a one-minute cold train.

The objective is scikit-learn's: ``C * sum(log-loss) + ||W||^2 / 2``, with unpenalised
biases.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.special import log_softmax

__all__ = ["SoftmaxRegression", "fit_softmax_regression"]


@dataclass
class SoftmaxRegression:
    """A fitted model: ``scores = dense @ dense_coef + sparse @ sparse_coef + intercept``."""

    dense_coef: np.ndarray
    sparse_coef: np.ndarray
    intercept: np.ndarray
    iterations: int

    def scores(self, dense: np.ndarray, sparse: csr_matrix) -> np.ndarray:
        """Return the ``(n, k)`` decision scores (logits).

        Args:
            dense: ``(n, d1)`` dense features.
            sparse: ``(n, d2)`` sparse features.
        """
        return np.asarray(dense @ self.dense_coef + sparse @ self.sparse_coef) + self.intercept


def fit_softmax_regression(
    dense: np.ndarray,
    sparse: csr_matrix,
    truth: np.ndarray,
    n_classes: int,
    c: float = 16.0,
    max_iter: int = 1000,
    tol: float = 1e-4,
    start: SoftmaxRegression | None = None,
) -> SoftmaxRegression:
    """Fit the model by L-BFGS.

    Args:
        dense: ``(n, d1)`` dense features.
        sparse: ``(n, d2)`` sparse features.
        truth: ``(n,)`` class index of each row, in ``range(n_classes)``.
        n_classes: The number of classes (some may have no rows).
        c: Inverse regularisation strength, as scikit-learn's ``C``.
        max_iter: The most L-BFGS iterations.
        tol: Stop when the largest gradient component falls below this.
        start: A model to start from (warm start), or ``None`` for zeros.

    Returns:
        The fitted model.
    """
    dense = np.asarray(dense, dtype=np.float64)
    sparse = csr_matrix(sparse, dtype=np.float64)
    n, d1 = dense.shape
    d2 = sparse.shape[1]
    onehot = np.zeros((n, n_classes))
    onehot[np.arange(n), truth] = 1.0
    sparse_t = sparse.T.tocsr()

    def unpack(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a = x[: d1 * n_classes].reshape(d1, n_classes)
        b = x[d1 * n_classes : (d1 + d2) * n_classes].reshape(d2, n_classes)
        return a, b, x[(d1 + d2) * n_classes :]

    def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
        a, b, bias = unpack(x)
        logp = log_softmax(dense @ a + sparse @ b + bias, axis=1)
        loss = -c * float((logp * onehot).sum()) + 0.5 * float((a * a).sum() + (b * b).sum())
        residual = c * (np.exp(logp) - onehot)
        gradient = np.concatenate(
            [
                (dense.T @ residual + a).ravel(),
                (np.asarray(sparse_t @ residual) + b).ravel(),
                residual.sum(axis=0),
            ]
        )
        return loss, gradient

    if start is None:
        x0 = np.zeros((d1 + d2 + 1) * n_classes)
    else:
        x0 = np.concatenate(
            [start.dense_coef.ravel(), start.sparse_coef.ravel(), start.intercept.ravel()]
        ).astype(np.float64)
    x, iterations = _lbfgs(objective, x0, max_iter, tol)
    a, b, bias = unpack(x)
    return SoftmaxRegression(
        a.astype(np.float32), b.astype(np.float32), bias.astype(np.float32), iterations
    )


def _lbfgs(
    objective: Callable[[np.ndarray], tuple[float, np.ndarray]],
    x: np.ndarray,
    max_iter: int,
    tol: float,
    memory: int = 10,
) -> tuple[np.ndarray, int]:
    """Minimise a smooth convex function by L-BFGS with a backtracking (Armijo) search.

    scipy's L-BFGS-B handles bounds this problem does not have, and with a million
    variables its bound bookkeeping costs more than the objective itself.

    Returns:
        The minimiser and the number of iterations taken.
    """
    value, gradient = objective(x)
    steps: list[tuple[np.ndarray, np.ndarray, float]] = []
    iteration = 0
    for iteration in range(1, max_iter + 1):  # noqa: B007 - the count is returned
        if float(np.abs(gradient).max()) < tol:
            break
        direction = -_two_loop(gradient, steps)
        slope = float(gradient @ direction)
        if slope >= 0:  # not a descent direction: restart from steepest descent
            steps.clear()
            direction, slope = -gradient, -float(gradient @ gradient)
        step = 1.0 if steps else 1.0 / max(1.0, float(np.abs(gradient).max()))
        while True:
            candidate = x + step * direction
            new_value, new_gradient = objective(candidate)
            if new_value <= value + 1e-4 * step * slope or step < 1e-10:
                break
            step *= 0.5
        s, y = candidate - x, new_gradient - gradient
        curvature = float(s @ y)
        if curvature > 1e-12:
            steps.append((s, y, 1.0 / curvature))
            if len(steps) > memory:
                steps.pop(0)
        converged = abs(value - new_value) <= 1e-10 * max(1.0, abs(value))
        x, value, gradient = candidate, new_value, new_gradient
        if converged:
            break
    return x, iteration


def _two_loop(
    gradient: np.ndarray, steps: list[tuple[np.ndarray, np.ndarray, float]]
) -> np.ndarray:
    """Apply the L-BFGS inverse-Hessian estimate to ``gradient``."""
    q = gradient.copy()
    alphas = []
    for s, y, rho in reversed(steps):
        alpha = rho * float(s @ q)
        q -= alpha * y
        alphas.append(alpha)
    if steps:
        s, y, _ = steps[-1]
        q *= float(s @ y) / float(y @ y)
    for (s, y, rho), alpha in zip(steps, reversed(alphas), strict=True):
        q += (alpha - rho * float(y @ q)) * s
    return q
