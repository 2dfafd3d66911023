"""Look inside one episode: support and query texts, prototypes, and every distance.

An N-way K-shot episode (learn2learn's vocabulary) has ``n_way`` classes, ``k_shot`` labelled
*support* texts per class and ``n_query`` *query* texts per class to classify. A prototypical
network (Snell et al. 2017) averages each class's support embeddings into a prototype and gives
each query the class of the nearest one. ``inspect_episode`` computes exactly that, in any
feature space: the frozen backbone's ("before") or a meta-trained encoder's ("after").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from metacore.data import TextSet
from metacore.data.episodes import Episode, sample_episodes
from metacore.teaching.common import (
    label_ids,
    project_2d,
    prototypes,
    softmax_rows,
    squared_distances,
)

Features = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class EpisodeView:
    """One episode seen through one feature space; every array is in ``classes`` order.

    Attributes:
        support_xy, query_xy, prototype_xy: 2-D PCA coordinates (S, 2), (Q, 2), (N, 2) of
            the support texts, query texts and prototypes, projected together.
        distances: Squared Euclidean distance (Q, N) of each query to each prototype, in the
            full feature space (the picture is only a 2-D shadow of it).
        probabilities: Softmax over negative distances (Q, N): the prototypical network's
            class probabilities.
    """

    classes: tuple[str, ...]
    support_texts: tuple[str, ...]
    support_labels: tuple[str, ...]
    query_texts: tuple[str, ...]
    query_labels: tuple[str, ...]
    support_xy: np.ndarray
    query_xy: np.ndarray
    prototype_xy: np.ndarray
    distances: np.ndarray
    probabilities: np.ndarray

    @property
    def predicted(self) -> list[str]:
        return [self.classes[i] for i in self.distances.argmin(axis=1)]

    @property
    def accuracy(self) -> float:
        pairs = list(zip(self.predicted, self.query_labels))
        return float(np.mean([p == y for p, y in pairs])) if pairs else 0.0

    def query_table(self) -> pd.DataFrame:
        """One row per query: text, true and predicted class, confidence, distances."""
        frame = pd.DataFrame({"text": self.query_texts, "label": self.query_labels,
                              "predicted": self.predicted,
                              "confidence": self.probabilities.max(axis=1)})
        frame["correct"] = frame["label"] == frame["predicted"]
        for j, name in enumerate(self.classes):
            frame[f"d({name})"] = self.distances[:, j]
        return frame


def draw_episode(textset: TextSet, *, n_way: int, k_shot: int, n_query: int, seed: int,
                 index: int = 0, classes: Sequence[str] | None = None) -> Episode:
    """The ``index``-th episode of a seeded stream: stepping back and forth is reproducible.

    Raises:
        DataError: the shape cannot be drawn from ``textset`` (one sentence).
    """
    stream_seed = int(np.random.SeedSequence([seed, index]).generate_state(1)[0])
    return sample_episodes(textset, n_way, k_shot, n_query, 1, seed=stream_seed,
                           classes=classes)[0]


def inspect_episode(textset: TextSet, episode: Episode, features: Features) -> EpisodeView:
    """Prototypes, distances and a shared 2-D projection of one episode.

    Args:
        textset: Where the episode's row indices point.
        episode: The episode to look at.
        features: Texts -> feature vectors (N, H): the space the prototypes live in.
    """
    support, query = textset.subset(episode.support), textset.subset(episode.query)
    classes = tuple(episode.classes)
    fs = np.asarray(features(list(support.texts)), dtype=np.float64)  # (S, H)
    fq = np.asarray(features(list(query.texts)), dtype=np.float64)  # (Q, H)
    protos = prototypes(fs, label_ids(support.labels, classes), len(classes))  # (N, H)
    dist = squared_distances(fq, protos)  # (Q, N)
    # The prototypes join the projection, so each lands at its class's mean support point.
    xy = project_2d(np.vstack([fs, fq, protos]))
    s, q = len(fs), len(fq)
    return EpisodeView(classes, support.texts, support.labels, query.texts, query.labels,
                       xy[:s], xy[s : s + q], xy[s + q :], dist, softmax_rows(-dist))


def novel_classes(classes: Sequence[str], n_way: int, seed: int = 0) -> tuple[str, ...]:
    """Classes held out from brief meta-training, so the inspected episodes are unseen.

    About 40% of the classes (at least ``n_way``), chosen with ``seed``; at least two classes
    stay on the meta-training side when the data has enough.
    """
    ordered = sorted(classes)
    n_novel = max(n_way, int(round(0.4 * len(ordered))))
    n_novel = min(n_novel, max(n_way, len(ordered) - 2))
    picked = np.random.default_rng(seed).permutation(len(ordered))[:n_novel]
    return tuple(sorted(ordered[i] for i in picked))


def split_by_classes(textset: TextSet, novel: Sequence[str]) -> tuple[TextSet, TextSet]:
    """(base, novel) parts of ``textset``: class-disjoint, as in the unseen-class protocol."""
    wanted = set(novel)
    base = [i for i, y in enumerate(textset.labels) if y not in wanted]
    held = [i for i, y in enumerate(textset.labels) if y in wanted]
    return textset.subset(base), textset.subset(held)


@dataclass(frozen=True)
class ClassPools:
    """Where the inspector draws episodes (``novel``) and what meta-training sees (``base``).

    ``disjoint`` is False when the data has too few classes to hold some out; then both
    pools are every class, and the "after" model has seen the inspected classes.
    """

    novel: tuple[str, ...]
    base: tuple[str, ...]
    disjoint: bool


def class_pools(classes: Sequence[str], seed: int = 0, max_way: int = 4) -> ClassPools:
    """Hold out about 40% of the classes (2 to ``max_way`` for episodes) when there are 4+."""
    ordered = tuple(sorted(classes))
    if len(ordered) < 4:
        return ClassPools(ordered, ordered, False)
    novel = novel_classes(ordered, min(max_way, len(ordered) - 2), seed)
    return ClassPools(novel, tuple(c for c in ordered if c not in novel), True)
