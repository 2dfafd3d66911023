"""The unseen-class (episodic) protocol: meta-train on base classes, test on novel-class episodes.

Data flows as in ``metacore.api``: file -> class-disjoint split (meta_train / meta_val / novel)
-> ``Method.meta_train`` on base classes -> seeded N-way K-shot test episodes drawn from the
novel classes, replayed identically for every method -> ``Method.predict_episode`` per episode
-> ``RunResult`` with ``protocol="episodic"``: mean accuracy and macro-F1 over episodes with
95% confidence half-widths, and per-class figures and a confusion matrix pooled over episodes.
Non-episodic methods take part through ``Method.predict_episode``'s default, which fits a
copy on each support set.
"""

from __future__ import annotations

import inspect
import shlex
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from metacore.api import command_flags
from metacore.data import DataError, TextSet, load_dataset, require_usable, validate
from metacore.data.episodes import (
    ClassSplit,
    Episode,
    episode_findings,
    resolve_class_split,
    sample_episodes,
)
from metacore.runs.result import RunResult, library_versions
from metacore.training.events import Callback, EventBus, RunControl, RunEnded, RunStarted
from metacore.training.events import StepEnded as Progress

MAX_EPISODE_PREDICTIONS = 2000
TEST_SEED_OFFSET = 7919  # test episodes never share a random stream with meta-training


@dataclass
class EpisodicSpec:
    """Everything that defines an episodic run; ``to_command()`` repeats it."""

    data: str
    method: str
    backbone: str = "minilm"
    method_config: dict[str, Any] = field(default_factory=dict)
    text_col: str | None = None
    label_col: str | None = None
    n_way: int = 5
    k_shot: int = 5
    n_query: int = 15
    meta_train_episodes: int | None = None  # None = the method's default
    test_episodes: int = 600
    seed: int = 0
    classes_split: str = "column"
    device: str = "auto"
    allow_download: bool = False
    out: str | None = None
    save_model: bool = False  # OUT/model: the meta-trained model adapted to the novel classes

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_command(self) -> str:
        parts = ["metacore", "episodic", "--data", self.data, "--method", self.method,
                 "--backbone", self.backbone, "--ways", str(self.n_way), "--shots",
                 str(self.k_shot), "--queries", str(self.n_query), "--test-episodes",
                 str(self.test_episodes), "--seed", str(self.seed), "--classes-split",
                 self.classes_split]
        parts += command_flags(self, [("--meta-train-episodes", self.meta_train_episodes),
                                      ("--text-col", self.text_col),
                                      ("--label-col", self.label_col), ("--out", self.out)])
        return shlex.join(parts)


@dataclass
class EpisodicData:
    """The class split, its three parts, and the test episodes every method shares."""

    split: ClassSplit
    base: TextSet
    val: TextSet
    novel: TextSet
    episodes: list[Episode]
    source: str
    findings: list[Any]


def prepare_episodic(spec: EpisodicSpec) -> EpisodicData:
    """Load, split classes, check feasibility, draw test episodes. Raises ``DataError``."""
    loaded = load_dataset(spec.data, text_col=spec.text_col, label_col=spec.label_col)
    findings = list(validate(loaded))
    require_usable(findings)
    split = resolve_class_split(spec.classes_split, loaded.frame, spec.seed)
    everything = TextSet(tuple(loaded.frame["text"]), tuple(loaded.frame["label"]))
    novel = split.part(everything, "novel")
    errors = episode_findings(novel, n_way=spec.n_way, k_shot=spec.k_shot,
                              n_query=spec.n_query, part="the novel classes")
    if errors:
        raise DataError(errors[0].message)
    episodes = sample_episodes(novel, spec.n_way, spec.k_shot, spec.n_query,
                               spec.test_episodes, seed=spec.seed + TEST_SEED_OFFSET)
    return EpisodicData(split, split.part(everything, "meta_train"),
                        split.part(everything, "meta_val"), novel, episodes, loaded.source,
                        findings)


def method_settings(spec: EpisodicSpec, config_cls: type) -> dict[str, Any]:
    """The user's settings, with the run's episode shape filled in where the method has one."""
    names = {f.name for f in config_cls.fields()}
    wanted = {"n_way": spec.n_way, "k_shot": spec.k_shot, "n_query": spec.n_query,
              "meta_episodes": spec.meta_train_episodes}
    defaults = {k: v for k, v in wanted.items() if k in names and v is not None}
    return {**defaults, **spec.method_config}


def run_episodic(
    spec: EpisodicSpec, *, data: EpisodicData | None = None, callbacks: Iterable[Callback] = (),
    control: RunControl | None = None, backbone: Any = None, run_id: str | None = None,
) -> RunResult:
    """Meta-train (if the method does) and score on the shared novel-class test episodes.

    Raises:
        DataError, BackboneError, ValueError: the input cannot be used (one sentence).
    """
    from metacore.api import _load_backbone, new_run_id
    from metacore.methods import registry
    from metacore.training.context import RunContext
    from metacore.training.device import describe_device, resolve_device, seed_everything

    t_start = time.perf_counter()
    method_spec = registry.get(spec.method)
    method = registry.create(spec.method, method_settings(spec, method_spec.config_cls))
    data = data or prepare_episodic(spec)
    device = resolve_device(spec.device)
    ctx = RunContext(device=device, seed=spec.seed, bus=EventBus(callbacks),
                     control=control or RunControl())
    if method_spec.uses_backbone:
        ctx.phase("loading backbone", spec.backbone)
        ctx.backbone = backbone or _load_backbone(spec)
    seed_everything(spec.seed)
    result = _new_result(spec, run_id or new_run_id(), method, data, describe_device(device))
    ctx.emit(RunStarted(run_id=result.run_id, method=spec.method,
                        device=result.device, total_steps=0))
    _train_and_test(method, data, ctx, result)
    result.timing["total_s"] = time.perf_counter() - t_start
    _finish(result, ctx, method, spec, data)
    ctx.bus.emit(RunEnded(status=result.status, metrics=result.metrics, error=result.error,
                          elapsed_s=result.timing["total_s"]))
    return result


def _train_and_test(method, data: EpisodicData, ctx, result: RunResult) -> None:
    """Any exception during training or testing becomes a failed result, never lost."""
    from metacore.api import _describe_error, _free_memory

    t0 = time.perf_counter()
    try:
        ctx.phase("meta-training", f"{len(data.base)} texts in {len(data.split.meta_train)} "
                  "base classes")
        if len(data.base):
            method.meta_train(data.base, val=data.val if len(data.val) else None, ctx=ctx)
        result.timing["train_s"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        ctx.phase("testing", f"{len(data.episodes)} episodes from {len(data.split.novel)} "
                  "novel classes")
        _score_episodes(method, data, ctx, result)
        result.timing["predict_s"] = time.perf_counter() - t1
        result.status = "stopped" if ctx.control.should_stop else "completed"
    except Exception as exc:  # noqa: BLE001 - recorded, never lost
        result.status = "failed"
        result.error = _describe_error(exc)
        result.timing.setdefault("train_s", time.perf_counter() - t0)
        _free_memory()


def predict_one(method, novel: TextSet, episode: Episode, ctx) -> tuple[list[str], list[str],
                                                                        np.ndarray]:
    """(gold, predicted, proba) of one episode's queries; labels are passed on only to
    meta-learners that record their inner loop."""
    support, query = novel.subset(episode.support), novel.subset(episode.query)
    if "query_labels" in inspect.signature(method.predict_episode).parameters:
        classes, proba = method.predict_episode(support, list(query.texts), ctx=ctx,
                                                query_labels=list(query.labels))
    else:
        classes, proba = method.predict_episode(support, list(query.texts), ctx=ctx)
    return list(query.labels), [classes[i] for i in proba.argmax(axis=1)], proba


def _score_episodes(method, data: EpisodicData, ctx, result: RunResult) -> None:
    from metacore.metrics import classification_metrics, mean_ci95

    accs, f1s, gold, pred, records = [], [], [], [], []
    total = len(data.episodes)
    for n, episode in enumerate(data.episodes, start=1):
        if ctx.control.should_stop:
            break
        y, p, proba = predict_one(method, data.novel, episode, ctx)
        metrics, _, _ = classification_metrics(y, p, list(episode.classes))
        accs.append(metrics["accuracy"])
        f1s.append(metrics["macro_f1"])
        gold += y
        pred += p
        records.append({"classes": list(episode.classes), "accuracy": metrics["accuracy"],
                        "macro_f1": metrics["macro_f1"]})
        # progress only, on the bus: test episodes are not training steps in the history
        ctx.bus.emit(Progress(step=n, total_steps=total, epoch=0, loss=1 - float(np.mean(accs)),
                              metrics={"accuracy": float(np.mean(accs))}))
    labels = sorted(set(gold))
    _, per_class, matrix = classification_metrics(gold, pred, labels)
    acc_mean, acc_ci = mean_ci95(accs)
    f1_mean, f1_ci = mean_ci95(f1s)
    result.metrics = {"accuracy_mean": acc_mean, "accuracy_ci95": acc_ci,
                      "macro_f1_mean": f1_mean, "macro_f1_ci95": f1_ci,
                      "episodes": len(accs), "n_test": len(gold)}
    result.per_class = per_class
    result.confusion = {"labels": labels, "matrix": matrix}
    result.extra["episodes"] = records
    result.predictions = [{"label": y, "predicted": p} for y, p in
                          zip(gold[:MAX_EPISODE_PREDICTIONS], pred, strict=False)]


def _new_result(spec: EpisodicSpec, run_id: str, method, data: EpisodicData,
                device: str) -> RunResult:
    from metacore.api import registry_uses_backbone

    return RunResult(
        run_id=run_id, method=spec.method,
        backbone=spec.backbone if registry_uses_backbone(spec.method) else None,
        protocol="episodic", status="running", device=device,
        config={"method": method.config.to_dict(), "run": spec.to_dict()},
        data={"source": data.source, "class_split": data.split.to_dict(),
              "n_way": spec.n_way, "k_shot": spec.k_shot, "n_query": spec.n_query,
              "test_episodes": len(data.episodes), "n_base": len(data.base),
              "n_val": len(data.val), "n_novel": len(data.novel)},
        findings=[f.to_dict() for f in data.findings], command=spec.to_command(),
        versions=library_versions(),
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"))


def _finish(result: RunResult, ctx, method, spec: EpisodicSpec, data: EpisodicData) -> None:
    result.history = {"steps": ctx.steps, "evals": ctx.evals}
    result.warnings = list(ctx.warnings) + [f"callback error: {e}" for e in ctx.bus.errors[:3]]
    result.extra.update(ctx.extras)
    try:
        result.parameters = method.parameter_counts()
        result.inner_loop = method.extra_results().get("inner_loop", [])
    except Exception as exc:  # noqa: BLE001
        result.warnings.append(f"could not count parameters: {exc}")
    if spec.out:
        if spec.save_model and result.status != "failed":
            _save_model(method, data, spec, ctx, result)
        result.save(Path(spec.out) / "result.json")


def _save_model(method, data: EpisodicData, spec: EpisodicSpec, ctx, result: RunResult) -> None:
    """Keep a usable classifier: the (meta-trained) model adapted to ``k_shot`` seeded examples
    of every novel class, saved like an adapt-protocol run's model (Playground, export)."""
    from metacore.data.splits import sample_k_shot
    from metacore.methods.episodic_base import EpisodicMethod
    from metacore.runs.atomic import save_model_atomic

    try:
        support = sample_k_shot(data.novel, spec.k_shot, seed=spec.seed)
        if isinstance(method, EpisodicMethod):
            method.keep_adapted(support, ctx)
        else:
            method.fit(support, val=None, ctx=ctx)
        save_model_atomic(method, Path(spec.out) / "model")
        result.extra["model_dir"] = str(Path(spec.out) / "model")
        result.extra["model_support"] = {"classes": list(support.classes),
                                         "k_shot": spec.k_shot, "texts": len(support)}
    except Exception as exc:  # noqa: BLE001 - the result is kept even if the model is not
        result.warnings.append(f"The model could not be saved: {exc}")
