from __future__ import annotations

import math

import pytest

from metacore.metrics import classification_metrics, mean_ci95


def test_report_matches_hand_computation():
    y_true = ["a", "a", "a", "b", "b", "c"]
    y_pred = ["a", "a", "b", "b", "c", "c"]
    metrics, per_class, matrix = classification_metrics(y_true, y_pred, ["a", "b", "c"])
    assert metrics["accuracy"] == pytest.approx(4 / 6)
    assert per_class["a"] == {"precision": 1.0, "recall": pytest.approx(2 / 3),
                              "f1": pytest.approx(0.8), "support": 3}
    assert per_class["c"]["precision"] == pytest.approx(0.5)
    assert matrix == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    f1s = [0.8, 0.5, 2 / 3]
    assert metrics["macro_f1"] == pytest.approx(sum(f1s) / 3)


def test_class_never_predicted_scores_zero_without_warning_noise():
    metrics, per_class, _ = classification_metrics(["a", "b"], ["a", "a"], ["a", "b"])
    assert per_class["b"]["precision"] == 0.0 and per_class["b"]["recall"] == 0.0
    assert metrics["accuracy"] == 0.5


def test_ci95_uses_student_t():
    mean, half = mean_ci95([0.5, 0.7, 0.6, 0.8])
    assert mean == pytest.approx(0.65)
    # sd = 0.1291, sem = 0.06455, t(0.975, 3) = 3.1824
    assert half == pytest.approx(3.1824 * 0.06455, rel=1e-3)
    assert mean_ci95([0.4]) == (0.4, 0.0)
    assert math.isnan(mean_ci95([])[0])
