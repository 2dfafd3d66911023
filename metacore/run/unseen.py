"""The *unseen classes* (episodic) protocol: meta-train on base classes, test on N-way K-shot
episodes of novel classes that training never saw.

file -> class-disjoint split (meta_train / meta_val / novel) -> ``Method.meta_train`` on the
base classes -> seeded test episodes from the novel classes, drawn by the data seed and so the
same for every method -> ``Method.predict_episode`` per episode -> mean accuracy and macro-F1
over episodes with 95% confidence half-widths, per-class figures and a confusion matrix pooled
over episodes. Non-episodic methods take part through ``Method.predict_episode``'s default,
which fits a copy on each support set.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from metacore import seeds
from metacore.data import DataError, LoadedData, TextSet, load_dataset, require_usable, validate
from metacore.data.episodes import (
    ClassSplit,
    Episode,
    episode_findings,
    resolve_class_split,
    sample_episodes,
)
from metacore.messages import msg
from metacore.plan import ExperimentPlan, PlannedRun
from metacore.training.events import StepEnded

MAX_EPISODE_PREDICTIONS = 2000


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


class UnseenProtocol:
    """Prepare, meta-train, test on episodes and keep the model of one episodic run."""

    name = "episodic"

    def prepare(self, plan: ExperimentPlan, run: PlannedRun, *,
                loaded: LoadedData | None = None, test_loaded: Any = None,
                limits: Any = None) -> EpisodicData:
        """Load, split classes, check feasibility, draw test episodes. Raises ``DataError``."""
        d, e = plan.data, plan.episodes
        loaded = loaded or load_dataset(d.path, text_col=d.text_col, label_col=d.label_col,
                                        label_format=d.label_format,
                                        limits=limits)
        findings = list(validate(loaded, limits=limits))
        require_usable(findings)
        if loaded.multi_label:
            raise DataError(msg("run.error.multi_label_unseen"))
        split = resolve_class_split(d.classes_split, loaded.frame, run.seed)
        everything = TextSet(tuple(loaded.frame["text"]), tuple(loaded.frame["label"]))
        novel = split.part(everything, "novel")
        errors = episode_findings(novel, n_way=e.n_way, k_shot=e.k_shot, n_query=e.n_query,
                                  part=msg("term.part.novel_classes"))
        if errors:
            raise DataError(errors[0].as_message())
        episodes = sample_episodes(novel, e.n_way, e.k_shot, e.n_query, e.test_episodes,
                                   seed=seeds.derive(run.seed, "test_episodes"))
        return EpisodicData(split, split.part(everything, "meta_train"),
                            split.part(everything, "meta_val"), novel, episodes,
                            loaded.source, findings)

    def data_summary(self, plan: ExperimentPlan, run: PlannedRun,
                     prepared: EpisodicData) -> dict[str, Any]:
        e = plan.episodes
        return {"source": prepared.source, "class_split": prepared.split.to_dict(),
                "n_way": e.n_way, "k_shot": e.k_shot, "n_query": e.n_query,
                "test_episodes": len(prepared.episodes), "n_base": len(prepared.base),
                "n_val": len(prepared.val), "n_novel": len(prepared.novel)}

    def before_training(self, ctx: Any, prepared: EpisodicData) -> None:
        pass

    def train(self, method: Any, prepared: EpisodicData, ctx: Any) -> None:
        ctx.phase("meta_training_base", texts=len(prepared.base),
                  classes=len(prepared.split.meta_train))
        if len(prepared.base):
            method.meta_train(prepared.base, val=prepared.val if len(prepared.val) else None,
                              ctx=ctx)

    def test(self, method: Any, prepared: EpisodicData, ctx: Any, result: Any, *,
             run: PlannedRun, project: bool = True) -> None:
        ctx.phase("testing", episodes=len(prepared.episodes),
                  classes=len(prepared.split.novel))
        _score_episodes(method, prepared, ctx, result)

    def keep_model(self, method: Any, prepared: EpisodicData, ctx: Any, run: PlannedRun,
                   result: Any, directory: Path) -> None:
        """Keep a usable classifier: the (meta-trained) model adapted to ``k_shot`` examples
        of every novel class (drawn by the data seed), saved like an adapt-protocol run's
        model (Playground, export)."""
        from metacore.data.splits import sample_k_shot
        from metacore.methods.episodic_base import EpisodicMethod
        from metacore.runs.atomic import save_model_atomic

        k_shot = result.data.get("k_shot") or 5
        support = sample_k_shot(prepared.novel, k_shot, seed=run.seed)
        if isinstance(method, EpisodicMethod):
            method.keep_adapted(support, ctx)
        else:
            method.fit(support, val=None, ctx=ctx)
        save_model_atomic(method, directory)
        result.extra["model_support"] = {"classes": list(support.classes), "k_shot": k_shot,
                                         "texts": len(support)}


def predict_one(method: Any, novel: TextSet, episode: Episode, ctx: Any
                ) -> tuple[list[str], list[str], np.ndarray]:
    """(gold, predicted, proba) of one episode's queries; labels are passed on only to
    meta-learners that record their inner loop."""
    support, query = novel.subset(episode.support), novel.subset(episode.query)
    if "query_labels" in inspect.signature(method.predict_episode).parameters:
        classes, proba = method.predict_episode(support, list(query.texts), ctx=ctx,
                                                query_labels=list(query.labels))
    else:
        classes, proba = method.predict_episode(support, list(query.texts), ctx=ctx)
    return list(query.labels), [classes[i] for i in proba.argmax(axis=1)], proba


def _score_episodes(method: Any, data: EpisodicData, ctx: Any, result: Any) -> None:
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
        ctx.bus.emit(StepEnded(step=n, total_steps=total, epoch=0, loss=1 - float(np.mean(accs)),
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
