"""Sweeps: a grid of data sets x methods x K x seeds, run through the one queue, resumably.

A sweep file is a plan (``ExperimentPlan.to_dict``, as ``metacore run`` writes to
``plan.json``) with, optionally, ``datasets``: a list of data files (a path, or a ``data``
object with its columns and split) that each get the whole grid of the plan's methods, K
values and seeds, and ``name``, the sweep's name (by default the file's). A plain
``plan.json`` is a sweep over its one data set.

Every run goes through ``JobQueue`` into the ``RunStore`` (so History lists it, in the group
``sweep-<name>``), one result per run. The sweep is resumable: a run whose single-run plan
(``ExperimentPlan.key``) already has a completed result in the group is not run again, so a
sweep stopped half-way (Ctrl-C, a crash, a closed laptop) picks up where it was; runs that
failed, stopped or were interrupted run again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from metacore.messages import MessageError
from metacore.plan import ExperimentPlan, PlannedRun
from metacore.runs.result import RunResult
from metacore.runs.store import RunStore

SWEEP_ONLY = ("datasets", "name")


@dataclass(frozen=True)
class Sweep:
    """The grid: one plan per data set, and the group its runs are stored in."""

    name: str
    plans: tuple[ExperimentPlan, ...]

    @property
    def group(self) -> str:
        return f"sweep-{self.name}"

    def runs(self) -> list[tuple[ExperimentPlan, PlannedRun]]:
        """Every (single-run plan, run): by data set, then in each plan's own order."""
        return [(plan.only(run), run) for plan in self.plans for run in plan.runs()]


def load_sweep(path: str | Path, *, name: str | None = None) -> Sweep:
    """Read a sweep file (see the module docstring). Data paths are made absolute, so the
    same file run from another folder finds the runs it already did.

    Raises:
        MessageError: the file cannot be read, or is not a plan.
    """
    path = Path(path)
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MessageError("sweep.error.unreadable", path=str(path), detail=str(exc)) from None
    if not isinstance(values, dict):
        raise MessageError("sweep.error.unreadable", path=str(path), detail="not a JSON object")
    base = {k: v for k, v in values.items() if k not in SWEEP_ONLY}
    base.pop("out", None)  # results go to the store, one per run
    datasets = values.get("datasets") or [base.get("data") or {}]
    plans = []
    for entry in datasets:
        data = dict(base.get("data") or {})
        data.update({"path": entry} if isinstance(entry, str) else dict(entry))
        if data.get("path"):
            data["path"] = str(Path(data["path"]).expanduser().resolve())
        plans.append(ExperimentPlan.from_dict({**base, "data": data}))
    label = name or values.get("name") or path.stem
    return Sweep(re.sub(r"[^A-Za-z0-9._-]+", "-", str(label)).strip("-") or "sweep",
                 tuple(plans))


@dataclass
class SweepProgress:
    """What ``run_sweep`` reports after each run (and once at the start, ``result`` None)."""

    done: int
    total: int
    skipped: int
    plan: ExperimentPlan | None = None
    run: PlannedRun | None = None
    result: RunResult | None = None


@dataclass
class SweepSummary:
    group: str
    total: int
    skipped: int
    results: list[RunResult] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return sum(r.status == "failed" for r in self.results)


def completed_keys(store: RunStore, group: str) -> set[str]:
    """Keys of the single-run plans of ``group`` that have a completed result."""
    return {key for key, status in store.plan_keys(group) if status == "completed"}


def run_sweep(sweep: Sweep, store: RunStore, *, save_models: bool = False,
              progress: Callable[[SweepProgress], None] | None = None,
              submit: Callable[..., Any] | None = None) -> SweepSummary:
    """Run what the store does not have yet, in order, through a ``JobQueue`` on this
    machine (``submit(plan, run, group)`` -> a function that waits for and returns the
    ``RunResult``: another backend, such as Ray, plugs in here)."""
    from metacore.run.queue import JobQueue

    done_keys = completed_keys(store, sweep.group)
    todo = [(plan, run) for plan, run in sweep.runs() if plan.key() not in done_keys]
    total = len(sweep.runs())
    summary = SweepSummary(sweep.group, total, total - len(todo))
    report = progress or (lambda p: None)
    report(SweepProgress(summary.skipped, total, summary.skipped))
    queue = None
    if submit is None:
        queue = JobQueue(store, save_models=save_models, retention=False)

        def submit(plan: ExperimentPlan, run: PlannedRun, group: str):
            job = queue.submit(plan, run, group=group)
            return lambda: queue.wait(job).result

    try:
        waits = [submit(plan, run, sweep.group) for plan, run in todo]  # queued in order
        for i, ((plan, run), wait) in enumerate(zip(todo, waits, strict=True)):
            result = wait()
            summary.results.append(result)
            report(SweepProgress(summary.skipped + i + 1, total, summary.skipped, plan, run,
                                 result))
    finally:
        if queue is not None:
            queue.shutdown(wait=False)  # Ctrl-C: queued runs are cancelled, the done ones kept
    return summary


def results_table(store: RunStore, sweep: Sweep) -> list[dict[str, Any]]:
    """Mean macro-F1 and accuracy over seeds per (data set, method, K), from the store's
    completed results of the sweep (this invocation's and earlier ones')."""
    import numpy as np

    wanted = {plan.key(): (plan, run) for plan, run in sweep.runs()}
    cells: dict[tuple[str, str, Any], list[RunResult]] = {}
    for key, status, run_id in store.plan_keys(sweep.group, with_ids=True):
        if status != "completed" or key not in wanted:
            continue
        plan, run = wanted[key]
        cell = (Path(plan.data.path).name, run.method, run.shots)
        cells.setdefault(cell, []).append(store.get(run_id))
    rows = []
    for (data, method, shots), results in cells.items():
        f1 = [r.metrics.get("macro_f1") for r in results if r.metrics.get("macro_f1") is not None]
        acc = [r.metrics.get("accuracy") for r in results if r.metrics.get("accuracy") is not None]
        rows.append({"data": data, "method": method, "shots": shots, "runs": len(results),
                     "macro_f1": float(np.mean(f1)) if f1 else None,
                     "accuracy": float(np.mean(acc)) if acc else None})
    return rows
