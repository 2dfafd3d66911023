"""Classification metrics (scikit-learn) and mean ± 95% confidence intervals over episodes."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support


def classification_metrics(
    y_true: Sequence[str], y_pred: Sequence[str], labels: Sequence[str]
) -> tuple[dict[str, float], dict[str, dict[str, float]], list[list[int]]]:
    """Accuracy, macro/weighted averages, per-class report and confusion matrix.

    Args:
        y_true: Gold labels.
        y_pred: Predicted labels.
        labels: Every class, in display order (rows and columns of the matrix).

    Returns:
        (metrics, per_class, confusion) where per_class maps label -> precision/recall/f1/support
        and confusion[i][j] counts gold ``labels[i]`` predicted as ``labels[j]``.
    """
    labels = list(labels)
    y_true, y_pred = list(y_true), list(y_pred)
    p, r, f, s = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    per_class = {
        lab: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]),
              "support": int(s[i])}
        for i, lab in enumerate(labels)
    }
    metrics: dict[str, float] = {
        "accuracy": float(np.mean([a == b for a, b in zip(y_true, y_pred)])) if y_true else 0.0
    }
    for avg in ("macro", "weighted"):
        ap, ar, af, _ = precision_recall_fscore_support(
            y_true, y_pred, labels=labels, average=avg, zero_division=0
        )
        metrics.update({f"{avg}_precision": float(ap), f"{avg}_recall": float(ar),
                        f"{avg}_f1": float(af)})
    metrics["n_test"] = len(y_true)
    matrix = confusion_matrix(y_true, y_pred, labels=labels).tolist() if y_true else []
    return metrics, per_class, matrix


def multilabel_metrics(truth: np.ndarray, predicted: np.ndarray, labels: Sequence[str]
                       ) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Multi-label scores of 0/1 matrices (N, C) with scikit-learn: micro, macro, weighted
    and samples F1 (and their precision and recall), Hamming loss, subset accuracy (every
    label of a text right; also ``accuracy``, so tables that rank by it keep working), and
    per-label precision, recall, F1 and support.

    Returns:
        (metrics, per_label).
    """
    from sklearn.metrics import accuracy_score, hamming_loss

    y, p = np.asarray(truth).astype(int), np.asarray(predicted).astype(int)
    metrics: dict[str, float] = {}
    if len(y):
        for avg in ("micro", "macro", "weighted", "samples"):
            ap, ar, af, _ = precision_recall_fscore_support(y, p, average=avg, zero_division=0)
            metrics.update({f"{avg}_precision": float(ap), f"{avg}_recall": float(ar),
                            f"{avg}_f1": float(af)})
        metrics["subset_accuracy"] = metrics["accuracy"] = float(accuracy_score(y, p))
        metrics["hamming_loss"] = float(hamming_loss(y, p))
        pr, rc, f1, sup = precision_recall_fscore_support(y, p, average=None, zero_division=0)
    else:
        pr = rc = f1 = sup = np.zeros(len(labels))
    metrics["n_test"] = len(y)
    metrics["label_cardinality"] = float(y.sum(axis=1).mean()) if len(y) else 0.0
    per_label = {lab: {"precision": float(pr[i]), "recall": float(rc[i]), "f1": float(f1[i]),
                       "support": int(sup[i])} for i, lab in enumerate(labels)}
    return metrics, per_label


def cooccurrence(matrix: np.ndarray) -> list[list[int]]:
    """(C, C) counts of texts carrying both labels i and j (the diagonal: each label's)."""
    m = np.asarray(matrix).astype(int)
    return (m.T @ m).tolist()


def mean_ci95(values: Sequence[float]) -> tuple[float, float]:
    """Mean and the half-width of its 95% confidence interval (Student's t).

    Returns (mean, 0.0) for fewer than two values.
    """
    arr = np.asarray(values, dtype=float)
    if arr.size == 0:
        return math.nan, math.nan
    if arr.size < 2:
        return float(arr.mean()), 0.0
    from scipy import stats

    sem = arr.std(ddof=1) / math.sqrt(arr.size)
    return float(arr.mean()), float(stats.t.ppf(0.975, arr.size - 1) * sem)
