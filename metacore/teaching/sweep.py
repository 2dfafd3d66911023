"""The K-shot sweep: accuracy and macro-F1 against K, with 95% intervals over seeds.

Every method trains on the same seeded K-shot samples of the same training split and is scored
on the same held-out test texts, for K = 1, 2, 4, 8, 16 and all. Methods on frozen embeddings
(nearest-centroid, linear-probe) reuse the process-wide embedding cache, so after the first
pass each of their fits takes milliseconds. The plot shows where prototypes (meta-learning's
prediction rule) win — small K — and where fitting weights catches up.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from metacore.data import TextSet, sample_k_shot
from metacore.methods import registry
from metacore.metrics import classification_metrics, mean_ci95
from metacore.teaching.common import few_threads, fresh_context, model_threads
from metacore.training.context import RunContext
from metacore.training.device import seed_everything

SWEEP_SHOTS: tuple[int | None, ...] = (1, 2, 4, 8, 16, None)  # None = every training text
FAST_METHODS = ("nearest-centroid", "linear-probe", "tfidf-logreg")
HEAVY_METHODS = ("protonet", "full-finetune")


def shots_label(shots: int | None) -> str:
    return "all" if shots is None else str(shots)


@dataclass(frozen=True)
class SweepPoint:
    """One method trained on one K-shot sample (one seed) and scored on the test texts."""

    method: str
    shots: int | None
    seed: int
    accuracy: float
    macro_f1: float
    seconds: float
    n_train: int


@dataclass(frozen=True)
class SweepProgress:
    """Yielded before each fit (``point`` None) and after it (``point`` set)."""

    done: int
    total: int
    method: str
    shots: int | None
    seed: int
    elapsed_s: float
    point: SweepPoint | None = None
    phase: str = "training"


@dataclass
class SweepPlan:
    """What a sweep runs: methods x K values x seeds, and each method's settings."""

    methods: Sequence[str]
    shots: Sequence[int | None] = SWEEP_SHOTS
    seeds: Sequence[int] = (0, 1, 2, 3, 4)
    configs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return len(self.methods) * len(self.shots) * len(self.seeds)


def k_shot_sweep(train: TextSet, test: TextSet, plan: SweepPlan, *, ctx: RunContext
                 ) -> Iterator[SweepProgress]:
    """Run the sweep, yielding progress; stops between fits when ``ctx.control`` is stopped.

    The order is K, then seed, then method, so a half-finished sweep already shows every
    method at the small K values.

    Raises:
        ValueError: an unknown method or a bad setting (before anything runs).
    """
    for name in plan.methods:
        registry.create(name, dict(plan.configs.get(name, {})))  # fail fast on bad settings
    t0 = time.perf_counter()
    done = 0
    if any(registry.get(m).uses_backbone for m in plan.methods) and ctx.backbone is not None:
        yield SweepProgress(0, plan.total, "", None, 0, 0.0, phase="embedding")
        ctx.embed([*train.texts, *test.texts])  # once; every later fit reads the cache
    for shots in plan.shots:
        for seed in plan.seeds:
            sample = sample_k_shot(train, shots, seed=seed)
            for name in plan.methods:
                if ctx.control.should_stop:
                    return
                yield SweepProgress(done, plan.total, name, shots, seed,
                                    time.perf_counter() - t0)
                # closed-form fits on cached vectors run faster on one thread of a busy CPU
                threads = few_threads() if name in FAST_METHODS else model_threads()
                with threads:
                    point = fit_and_score(name, sample, test, shots=shots, seed=seed, ctx=ctx,
                                          config=plan.configs.get(name, {}))
                done += 1
                yield SweepProgress(done, plan.total, name, shots, seed,
                                    time.perf_counter() - t0, point)


def fit_and_score(name: str, train: TextSet, test: TextSet, *, shots: int | None, seed: int,
                  ctx: RunContext, config: Mapping[str, Any] | None = None) -> SweepPoint:
    """Fit a fresh ``name`` on ``train`` and score accuracy and macro-F1 on ``test``."""
    method = registry.create(name, dict(config or {}))
    run_ctx = fresh_context(ctx, seed)
    seed_everything(seed)
    t0 = time.perf_counter()
    method.fit(train, val=None, ctx=run_ctx)
    proba = method.predict_proba(list(test.texts), ctx=run_ctx)
    seconds = time.perf_counter() - t0
    predicted = [method.classes[i] for i in np.asarray(proba).argmax(axis=1)]
    labels = sorted(set(train.classes) | set(test.labels))
    metrics, _, _ = classification_metrics(test.labels, predicted, labels)
    return SweepPoint(name, shots, seed, metrics["accuracy"], metrics["macro_f1"], seconds,
                      len(train))


def summarise_sweep(points: Sequence[SweepPoint]) -> pd.DataFrame:
    """Mean and 95% half-width (Student's t over seeds) per method and K.

    Columns: method, shots (label: "1" … "all"), order (for sorting K), n (seeds),
    accuracy_mean, accuracy_ci95, macro_f1_mean, macro_f1_ci95, seconds_mean.
    """
    columns = ["method", "shots", "order", "n", "accuracy_mean", "accuracy_ci95",
               "macro_f1_mean", "macro_f1_ci95", "seconds_mean"]
    groups: dict[tuple[str, int | None], list[SweepPoint]] = {}
    for point in points:
        groups.setdefault((point.method, point.shots), []).append(point)
    rows = []
    for (method, shots), group in groups.items():
        acc, acc_ci = mean_ci95([p.accuracy for p in group])
        f1, f1_ci = mean_ci95([p.macro_f1 for p in group])
        rows.append({"method": method, "shots": shots_label(shots),
                     "order": float("inf") if shots is None else shots, "n": len(group),
                     "accuracy_mean": acc, "accuracy_ci95": acc_ci, "macro_f1_mean": f1,
                     "macro_f1_ci95": f1_ci,
                     "seconds_mean": float(np.mean([p.seconds for p in group]))})
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values(["method", "order"], kind="stable").reset_index(drop=True)


def crossover(summary: pd.DataFrame, fast: str, slow: str, metric: str = "accuracy") -> str | None:
    """The smallest K label at which ``slow`` scores at least as well as ``fast``, if any."""
    col = f"{metric}_mean"
    a = summary[summary["method"] == fast].set_index("shots")[col]
    b = summary[summary["method"] == slow].set_index("shots")[col]
    order = summary.drop_duplicates("shots").sort_values("order")["shots"]
    for shots in order:
        if shots in a.index and shots in b.index and b[shots] >= a[shots]:
            return str(shots)
    return None
