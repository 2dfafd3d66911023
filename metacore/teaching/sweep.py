"""The K-shot sweep: accuracy and macro-F1 against K, with 95% intervals over seeds.

A sweep is an ``ExperimentPlan`` with several K values (``shots``): every method trains on the
same seeded K-shot samples of the same training split and is scored on the same held-out test
texts, for K = 1, 2, 4, 8, 16 and all. Each point is one run of the one runner
(``metacore.run.run``), exactly as a comparison at that K would run it, without the 2-D
projection. Methods on frozen embeddings (nearest-centroid, linear-probe) reuse the
process-wide embedding cache, so after the first pass each of their fits takes milliseconds.
The plot shows where prototypes (meta-learning's prediction rule) win (small K) and where
fitting weights catches up.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from metacore.data import Split, TextSet
from metacore.methods import registry
from metacore.metrics import mean_ci95
from metacore.plan import ExperimentPlan, PlannedRun
from metacore.teaching.common import few_threads, model_threads
from metacore.training.context import RunContext

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
    """Yielded before each run (``point`` None) and after it (``point`` set, or ``error``
    when the run failed)."""

    done: int
    total: int
    method: str
    shots: int | None
    seed: int
    elapsed_s: float
    point: SweepPoint | None = None
    phase: str = "training"
    error: str | None = None


def sweep_plan(methods: Sequence[str], shots: Sequence[int | None] = SWEEP_SHOTS,
               seeds: Sequence[int] = (0, 1, 2, 3, 4), configs: dict | None = None,
               **plan: object) -> ExperimentPlan:
    """The plan of a sweep: ``methods`` x ``shots`` x ``seeds``, each with its settings."""
    configs = configs or {}
    return ExperimentPlan(methods={m: dict(configs.get(m, {})) for m in methods},
                          shots=tuple(shots), seeds=tuple(seeds), **plan)


def k_shot_sweep(plan: ExperimentPlan, split: Split | tuple[TextSet, TextSet], *,
                 ctx: RunContext) -> Iterator[SweepProgress]:
    """Run every run of ``plan`` on ``split`` (or a (train, test) pair), yielding progress;
    stops between runs when ``ctx.control`` is stopped. ``ctx`` gives the backbone.

    The order is K, then seed, then method (``plan.runs()``), so a half-finished sweep
    already shows every method at the small K values.

    Raises:
        ValueError: an unknown method or a bad setting (before anything runs).
    """
    from metacore.run.adapt import prepared_from_split
    from metacore.run.runner import run

    if isinstance(split, tuple):
        split = Split(train=split[0], val=None, test=split[1], strategy="given")
    runs = plan.runs()
    t0 = time.perf_counter()
    if any(registry.get(m).uses_backbone for m in plan.methods) and ctx.backbone is not None:
        yield SweepProgress(0, len(runs), "", None, 0, 0.0, phase="embedding")
        with model_threads():  # on a busy CPU one thread embeds twice as fast as two
            ctx.embed([*split.train.texts, *split.test.texts])  # once; later fits read it
    prepared: dict[tuple[int, int | None], object] = {}
    for done, one in enumerate(runs):
        if ctx.control.should_stop:
            return
        yield SweepProgress(done, len(runs), one.method, one.shots, one.seed,
                            time.perf_counter() - t0)
        key = (one.seed, one.shots)
        if key not in prepared:
            prepared[key] = prepared_from_split(split, one)
        # closed-form fits on cached vectors run faster on one thread of a busy CPU
        threads = few_threads() if one.method in FAST_METHODS else model_threads()
        with threads:
            result = run(plan, one, prepared=prepared[key], backbone=ctx.backbone,
                         control=ctx.control, project=False)
        yield SweepProgress(done + 1, len(runs), one.method, one.shots, one.seed,
                            time.perf_counter() - t0, _point(one, result), error=result.error)


def _point(run: PlannedRun, result: object) -> SweepPoint | None:
    if result.status != "completed":
        return None
    timing = result.timing
    return SweepPoint(run.method, run.shots, run.seed, result.metrics["accuracy"],
                      result.metrics["macro_f1"],
                      timing.get("train_s", 0.0) + timing.get("predict_s", 0.0),
                      result.data["n_train"])


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
