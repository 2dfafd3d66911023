"""RunResult -> pandas tables for the leaderboard, per-class report and error analysis.

No streamlit here: the app, the HTML export and scripts all read the same tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from metacore.runs.result import RunResult

LEADERBOARD_COLUMNS = [
    "run_id", "method", "backbone", "protocol", "shots", "ways", "episodes", "seed", "status",
    "accuracy", "accuracy_ci95", "macro_f1", "macro_f1_ci95", "train_s", "trainable_params",
    "total_params",
]  # fmt: skip


def _leaderboard_row(result: RunResult) -> dict[str, Any]:
    run = result.config.get("run", {}) if isinstance(result.config, dict) else {}
    if result.protocol == "episodic":
        return _episodic_row(result, run)
    shots = result.data.get("shots", run.get("shots"))
    return {
        "run_id": result.run_id,
        "method": result.method,
        "backbone": result.backbone or "—",
        "shots": "all" if shots is None else shots,
        "seed": run.get("seed"),
        "status": result.status,
        "accuracy": result.metrics.get("accuracy"),
        "macro_f1": result.metrics.get("macro_f1"),
        "train_s": result.timing.get("train_s"),
        "trainable_params": result.parameters.get("trainable"),
        "total_params": result.parameters.get("total"),
        "protocol": result.protocol,
    }


def _episodic_row(result: RunResult, run: dict[str, Any]) -> dict[str, Any]:
    """Means over the test episodes, with their 95% confidence half-widths."""
    m = result.metrics
    return {
        "run_id": result.run_id, "method": result.method, "backbone": result.backbone or "—",
        "protocol": "episodic", "shots": result.data.get("k_shot", run.get("k_shot")),
        "ways": result.data.get("n_way", run.get("n_way")), "episodes": m.get("episodes"),
        "seed": run.get("seed"), "status": result.status,
        "accuracy": m.get("accuracy_mean"), "accuracy_ci95": m.get("accuracy_ci95"),
        "macro_f1": m.get("macro_f1_mean"), "macro_f1_ci95": m.get("macro_f1_ci95"),
        "train_s": result.timing.get("train_s"),
        "trainable_params": result.parameters.get("trainable"),
        "total_params": result.parameters.get("total"),
    }


def leaderboard(results: Iterable[RunResult]) -> pd.DataFrame:
    """One row per run, best macro-F1 first (runs without metrics last).

    Columns: run_id, method, backbone, protocol, shots, ways, episodes, seed, status, accuracy,
    accuracy_ci95, macro_f1, macro_f1_ci95, train_s, trainable_params, total_params. Episodic
    runs give the mean over their test episodes and its 95% confidence half-width (``*_ci95``);
    ``ways`` and ``episodes`` are empty for adapt runs.
    """
    frame = pd.DataFrame([_leaderboard_row(r) for r in results], columns=LEADERBOARD_COLUMNS)
    if frame.empty:
        return frame
    for col in ("accuracy", "accuracy_ci95", "macro_f1", "macro_f1_ci95", "train_s"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce")
    frame = frame.sort_values(["macro_f1", "accuracy"], ascending=False, na_position="last")
    return frame.reset_index(drop=True)


def per_class_table(result: RunResult) -> pd.DataFrame:
    """Precision, recall, F1 and support per class, in the confusion-matrix order."""
    order = list(result.confusion.get("labels") or []) or list(result.per_class)
    order += [c for c in result.per_class if c not in order]
    rows = [{"class": c, **result.per_class[c]} for c in order if c in result.per_class]
    frame = pd.DataFrame(rows, columns=["class", "precision", "recall", "f1", "support"])
    if not frame.empty:
        frame["support"] = frame["support"].astype(int)
    return frame


def _proba_lookup(result: RunResult) -> list[str]:
    return list(result.extra.get("proba_labels") or result.confusion.get("labels") or [])


def _top_probabilities(proba: Sequence[float], labels: Sequence[str], k: int = 3) -> str:
    pairs = sorted(zip(labels, proba, strict=False), key=lambda p: -p[1])[:k]
    return ", ".join(f"{label} {p:.0%}" for label, p in pairs)


def misclassified(result: RunResult, true_label: str, predicted_label: str) -> pd.DataFrame:
    """Test texts of class ``true_label`` predicted as ``predicted_label`` (a confusion cell).

    Columns: text, label, predicted, confidence, p_true (the probability given to the gold
    class) and top (the three most probable classes). Most confident mistakes first.
    """
    labels = _proba_lookup(result)
    index = {label: i for i, label in enumerate(labels)}
    rows = []
    for pred in result.predictions:
        if pred.get("label") != true_label or pred.get("predicted") != predicted_label:
            continue
        proba = list(pred.get("proba") or [])
        p_true = proba[index[true_label]] if true_label in index and proba else None
        rows.append({"text": pred.get("text", ""), "label": true_label,
                     "predicted": predicted_label, "confidence": pred.get("confidence"),
                     "p_true": p_true,
                     "top": _top_probabilities(proba, labels) if proba else ""})
    columns = ["text", "label", "predicted", "confidence", "p_true", "top"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values("confidence", ascending=False).reset_index(drop=True)


def class_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Examples per class (and per split when the frame has one): columns label, split, count."""
    if frame.empty or "label" not in frame.columns:
        return pd.DataFrame(columns=["label", "split", "count"])
    split = frame["split"].astype(str) if "split" in frame.columns else "all"
    counts = (frame.assign(split=split).groupby(["label", "split"]).size()
              .rename("count").reset_index())
    return counts


def probabilities_table(proba: Sequence[float], labels: Sequence[str]) -> pd.DataFrame:
    """Class probabilities for one text, most probable first (the Playground's answer)."""
    frame = pd.DataFrame({"class": list(labels), "probability": [float(p) for p in proba]})
    return frame.sort_values("probability", ascending=False).reset_index(drop=True)


def confusion_order(matrix: Sequence[Sequence[float]]) -> list[int]:
    """Class indices in the order that puts confused classes side by side.

    A hierarchical clustering (average linkage) of the classes by how often they are mixed up
    (the off-diagonal count both ways, ``C[i][j] + C[j][i]``): the two groups confused most per
    pair of classes merge first, joined at the ends that are confused most. Classes without any
    confusion keep their original order, after the groups. Deterministic: ties go to the lower
    index.
    """
    import numpy as np

    n = len(matrix)
    if n <= 2:
        return list(range(n))
    c = np.asarray(matrix, dtype=float).reshape(n, n)
    sym = c + c.T
    np.fill_diagonal(sym, 0.0)
    groups: dict[int, list[int]] = {i: [i] for i in range(n)}
    links = sym.copy()  # total confusion between groups (sum linkage, averaged when compared)
    alive = np.ones(n, dtype=bool)
    while alive.sum() > 1:
        ids = np.flatnonzero(alive)
        sizes = np.array([len(groups[i]) for i in ids], dtype=float)
        sub = links[np.ix_(ids, ids)] / np.outer(sizes, sizes)
        np.fill_diagonal(sub, -1.0)
        flat = int(np.argmax(sub))
        a, b = divmod(flat, len(ids))
        if sub[a, b] <= 0:
            break
        ga, gb = groups[ids[a]], groups[ids[b]]
        joins = [(ga, gb), (ga, gb[::-1]), (ga[::-1], gb), (ga[::-1], gb[::-1])]
        left, right = max(joins, key=lambda p: sym[p[0][-1], p[1][0]])  # first max wins ties
        keep, drop = ids[min(a, b)], ids[max(a, b)]
        groups[keep] = left + right
        links[keep, :] += links[drop, :]
        links[:, keep] += links[:, drop]
        alive[drop] = False
    rest = sorted((groups[i] for i in np.flatnonzero(alive)),
                  key=lambda g: (len(g) == 1, min(g)))
    return [i for g in rest for i in g]


def confused_pairs(result: RunResult, limit: int = 20) -> pd.DataFrame:
    """The off-diagonal confusion cells with the most texts, most first.

    Columns: true, predicted, count, share (the cell's share of the true class's test texts).
    """
    labels = list(result.confusion.get("labels") or [])
    matrix = result.confusion.get("matrix") or []
    rows = []
    for i, row in enumerate(matrix[: len(labels)]):
        total = sum(row) or 1
        for j, count in enumerate(row[: len(labels)]):
            if i != j and count:
                rows.append({"true": labels[i], "predicted": labels[j], "count": int(count),
                             "share": count / total})
    frame = pd.DataFrame(rows, columns=["true", "predicted", "count", "share"])
    if frame.empty:
        return frame
    frame = frame.sort_values(["count", "share"], ascending=False, kind="stable")
    return frame.head(limit).reset_index(drop=True)
