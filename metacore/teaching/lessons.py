"""The Learn page's live figures, all computed from cached frozen-backbone embeddings.

Each function takes the learner's own texts (and their cached embeddings) and returns plain
data for one small figure: the embedding map (transfer learning), a head trained by gradient
descent (fine-tuning), the K labelled points among many (few-shot), and a meta-learner small
enough to train in a second on frozen features (inner and outer loops).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from metacore.data import TextSet, sample_k_shot
from metacore.data.episodes import Episode
from metacore.teaching.common import (
    cap_per_class,
    few_threads,
    holdout,
    label_ids,
    project_2d,
    prototypes,
    squared_distances,
)
from metacore.teaching.episodes import (
    EpisodeView,
    inspect_episode,
    novel_classes,
    split_by_classes,
)
from metacore.teaching.sweep import k_shot_sweep, summarise_sweep, sweep_plan
from metacore.teaching.toy import ToyMetaLearning, ToySettings, toy_meta_learning
from metacore.training.context import RunContext


@dataclass(frozen=True)
class ClassMap:
    """Texts placed in 2-D by PCA of their frozen embeddings, with each class's centre."""

    texts: tuple[str, ...]
    labels: tuple[str, ...]
    xy: np.ndarray  # (N, 2)
    classes: tuple[str, ...]
    centre_xy: np.ndarray  # (C, 2)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({"x": self.xy[:, 0], "y": self.xy[:, 1], "label": self.labels,
                             "text": self.texts})


def class_map(textset: TextSet, embeddings: np.ndarray) -> ClassMap:
    """PCA map of ``embeddings`` (N, H), one row per text of ``textset``."""
    classes = tuple(textset.classes)
    xy = project_2d(embeddings)
    centres = prototypes(xy, label_ids(textset.labels, classes), len(classes))
    return ClassMap(textset.texts, textset.labels, xy, classes, centres)


def nearest_centroid_accuracy(train_x: np.ndarray, train_y: Sequence[str], test_x: np.ndarray,
                              test_y: Sequence[str]) -> float:
    """Accuracy of the nearest class mean (prototypes without any training)."""
    classes = sorted(set(train_y))
    protos = prototypes(train_x, label_ids(train_y, classes), len(classes))
    pred = [classes[i] for i in squared_distances(test_x, protos).argmin(axis=1)]
    return float(np.mean([p == y for p, y in zip(pred, test_y)])) if len(pred) else 0.0


def kshot_mask(textset: TextSet, k: int | None, seed: int = 0) -> np.ndarray:
    """Which texts a seeded K-shot sample labels (the rest are what the model must guess)."""
    chosen = sample_k_shot(textset, k, seed=seed)
    wanted: dict[tuple[str, str], int] = {}
    for pair in zip(chosen.texts, chosen.labels):
        wanted[pair] = wanted.get(pair, 0) + 1
    mask = np.zeros(len(textset), dtype=bool)
    for i, pair in enumerate(zip(textset.texts, textset.labels)):
        if wanted.get(pair, 0) > 0:
            mask[i] = True
            wanted[pair] -= 1
    return mask


def head_training_curve(train_x: np.ndarray, train_y: Sequence[str], test_x: np.ndarray,
                        test_y: Sequence[str], *, epochs: int = 60, lr: float = 0.05,
                        seed: int = 0) -> pd.DataFrame:
    """Fine-tuning in miniature: a linear head on frozen features, full-batch gradient descent.

    Returns one row per epoch and part ("train" / "test") with loss and accuracy. With a
    few examples the training loss falls to zero while the test loss stalls: overfitting.
    """
    with few_threads():
        return _train_head(train_x, train_y, test_x, test_y, epochs=epochs, lr=lr, seed=seed)


def _train_head(train_x: np.ndarray, train_y: Sequence[str], test_x: np.ndarray,
                test_y: Sequence[str], *, epochs: int, lr: float, seed: int) -> pd.DataFrame:
    classes = sorted(set(train_y))
    torch.manual_seed(seed)
    xs, xt = (torch.as_tensor(np.asarray(x), dtype=torch.float32) for x in (train_x, test_x))
    ys = torch.as_tensor(label_ids(train_y, classes))
    yt = torch.as_tensor(label_ids(test_y, classes))
    head = nn.Linear(xs.shape[1], len(classes))
    opt = torch.optim.SGD(head.parameters(), lr=lr)
    rows = []
    for epoch in range(epochs + 1):
        for part, x, y in (("train", xs, ys), ("test", xt, yt)):
            keep = y >= 0
            with torch.no_grad():
                logits = head(x[keep]) * 10  # a fixed temperature: unit-length features
                loss = nn.functional.cross_entropy(logits, y[keep])
                acc = (logits.argmax(-1) == y[keep]).float().mean()
            rows.append({"epoch": epoch, "part": part, "loss": float(loss),
                         "accuracy": float(acc)})
        if epoch < epochs:
            opt.zero_grad()
            nn.functional.cross_entropy(head(xs) * 10, ys).backward()
            opt.step()
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Lesson:
    """The Learn page's texts: capped per class, embedded once, cut into train and test."""

    textset: TextSet
    embeddings: np.ndarray  # (N, H), frozen backbone, unit length
    train: np.ndarray  # row indices into ``textset``
    test: np.ndarray
    dropped_classes: int  # classes left out to keep the figures readable

    def part(self, rows: np.ndarray) -> tuple[TextSet, np.ndarray]:
        return self.textset.subset(rows), self.embeddings[rows]

    def features(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings of texts of this lesson, looked up (no forward pass)."""
        lookup = {text: i for i, text in enumerate(self.textset.texts)}
        return self.embeddings[[lookup[x] for x in texts]]


def prepare_lesson(textset: TextSet, embed: Callable[[Sequence[str]], np.ndarray], *,
                   per_class: int = 40, max_classes: int = 8, seed: int = 0) -> Lesson:
    """The largest ``max_classes`` classes, at most ``per_class`` texts each, embedded."""
    counts = pd.Series(textset.labels).value_counts()
    keep = set(counts.index[:max_classes])
    rows = [i for i, y in enumerate(textset.labels) if y in keep]
    capped = cap_per_class(textset.subset(rows), per_class, seed=seed)
    positions = TextSet(tuple(str(i) for i in range(len(capped))), capped.labels)
    train, test = holdout(positions, 0.3, seed=seed)
    return Lesson(capped, np.asarray(embed(list(capped.texts))),
                  np.array(train.texts, dtype=int), np.array(test.texts, dtype=int),
                  len(counts) - len(keep))


def lesson_toy(lesson: Lesson, seed: int = 0) -> ToyMetaLearning | None:
    """The toy meta-learner on the lesson: base classes to train, novel ones to show.

    None when the data has fewer than four classes (no class-disjoint episodes to draw).
    """
    if len(lesson.textset.classes) < 4:
        return None
    n_way = 3 if len(lesson.textset.classes) >= 5 else 2
    base, novel = split_by_classes(lesson.textset, novel_classes(lesson.textset.classes, n_way,
                                                                 seed))
    settings = ToySettings(shape=(n_way, 2, 5), inner_lr=2.0, outer_lr=0.03, seed=seed)
    return toy_meta_learning(base, lesson.features(base.texts), novel,
                             lesson.features(novel.texts), settings)


def lesson_sweep(lesson: Lesson, ctx: RunContext, seeds: Sequence[int] = (0, 1, 2)
                 ) -> pd.DataFrame:
    """Nearest-centroid against the linear probe at K = 1 … 16 on the lesson's texts."""
    train, _ = lesson.part(lesson.train)
    test, _ = lesson.part(lesson.test)
    plan = sweep_plan(["nearest-centroid", "linear-probe"], shots=(1, 2, 4, 8, 16), seeds=seeds,
                      backbone=_backbone_name(ctx))
    return summarise_sweep([p.point for p in k_shot_sweep(plan, (train, test), ctx=ctx)
                            if p.point is not None])


def _backbone_name(ctx: RunContext) -> str:
    return getattr(ctx.backbone, "name", None) or "minilm"


def lesson_episode(lesson: Lesson, episode: Episode) -> EpisodeView:
    """An episode of the lesson seen through the frozen backbone (no forward pass)."""
    return inspect_episode(lesson.textset, episode, lesson.features)


def lesson_head_curve(lesson: Lesson, k: int | None, seed: int = 0) -> pd.DataFrame:
    """``head_training_curve`` on a seeded K-shot sample of the lesson's training texts."""
    train, train_x = lesson.part(lesson.train)
    test, test_x = lesson.part(lesson.test)
    mask = kshot_mask(train, k, seed=seed)
    return head_training_curve(train_x[mask], [train.labels[i] for i in np.flatnonzero(mask)],
                               test_x, test.labels, seed=seed)


@dataclass(frozen=True)
class KShotView:
    labelled: np.ndarray  # (N,) bool over the lesson's texts: the K-shot sample
    accuracy_k: float  # nearest-centroid on the test texts from the K labelled ones
    accuracy_all: float  # … from every training text
    n_train: int


def lesson_kshot(lesson: Lesson, k: int | None, seed: int = 0) -> KShotView:
    """Which texts a K-shot sample labels, and what prototypes of them score."""
    train, train_x = lesson.part(lesson.train)
    test, test_x = lesson.part(lesson.test)
    mask = kshot_mask(train, k, seed=seed)
    picked = [train.labels[i] for i in np.flatnonzero(mask)]
    labelled = np.zeros(len(lesson.textset), dtype=bool)
    labelled[lesson.train[mask]] = True
    return KShotView(labelled,
                     nearest_centroid_accuracy(train_x[mask], picked, test_x, test.labels),
                     nearest_centroid_accuracy(train_x, train.labels, test_x, test.labels),
                     len(train))
