"""What the methods that take multi-label data share: independent per-label probabilities
(a sigmoid, or one-vs-rest logistic regression), per-label decision thresholds chosen on the
validation texts, and turning probabilities into each text's labels.

A multi-label method's ``predict_proba`` answers (N, C) probabilities that do not sum to one:
each is "this text carries label c". ``method.thresholds`` (one per label, 0.5 until chosen)
decides which labels a text gets; ``choose_thresholds`` picks each label's threshold as the one
with the best F1 on the validation texts (scikit-learn's ``f1_score``), where they have
examples of it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DEFAULT_THRESHOLD = 0.5


def sigmoid(logits: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(logits, -60, 60)))


def labels_above(proba: np.ndarray, thresholds: Sequence[float] | np.ndarray,
                 classes: Sequence[str]) -> list[tuple[str, ...]]:
    """Each row's labels: the classes whose probability reaches their threshold."""
    hits = np.asarray(proba) >= np.asarray(thresholds, dtype=float)[None, :]
    return [tuple(c for c, on in zip(classes, row) if on) for row in hits]


def choose_thresholds(proba: np.ndarray, truth: np.ndarray,
                      default: float = DEFAULT_THRESHOLD) -> np.ndarray:
    """Per label, the threshold with the best F1 on ``truth`` (N, C 0/1), trying the midpoints
    between its sorted probabilities; ties go to the one nearest ``default``. Labels with no
    positive (or no negative) row in ``truth`` keep ``default``: nothing there to choose by."""
    from sklearn.metrics import f1_score

    proba, truth = np.asarray(proba, dtype=float), np.asarray(truth) > 0.5
    out = np.full(proba.shape[1], default, dtype=float)
    for j in range(proba.shape[1]):
        y, p = truth[:, j], proba[:, j]
        if y.all() or not y.any():
            continue
        values = np.unique(p)
        candidates = np.unique(np.concatenate([(values[1:] + values[:-1]) / 2, [default]]))
        scores = [f1_score(y, p >= t, zero_division=0) for t in candidates]
        best = max(scores)
        ties = candidates[np.isclose(scores, best)]
        out[j] = float(ties[np.argmin(np.abs(ties - default))])
    return out


def one_vs_rest(x: np.ndarray, truth: np.ndarray, c: float) -> tuple[np.ndarray, np.ndarray]:
    """A logistic regression per label on features ``x`` (N, H): weight (C, H), bias (C,). A
    label every text carries (or none) gets a constant answer, as scikit-learn's
    ``OneVsRestClassifier`` gives it."""
    from sklearn.linear_model import LogisticRegression

    weight = np.zeros((truth.shape[1], x.shape[1]))
    bias = np.zeros(truth.shape[1])
    for j in range(truth.shape[1]):
        y = truth[:, j] > 0.5
        if y.all() or not y.any():
            bias[j] = 30.0 if y.all() else -30.0
            continue
        lr = LogisticRegression(C=c, max_iter=2000).fit(x, y.astype(int))
        weight[j], bias[j] = lr.coef_[0], lr.intercept_[0]
    return weight, bias
