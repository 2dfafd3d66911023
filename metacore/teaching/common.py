"""Pieces every teaching view shares: labelled texts, held-out parts, 2-D projections.

Everything here is plain data in, plain data out (numpy, pandas, ``TextSet``); the figures
and words live in ``ui/``. Embeddings come from the frozen backbone through
``RunContext.embed``, which caches them per process, so a view that redraws costs nothing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd
import torch

from metacore.data import TextSet, sample_k_shot
from metacore.training.context import RunContext


def textset_of(frame: pd.DataFrame) -> TextSet:
    """The ``text`` and ``label`` columns of a loaded frame as a ``TextSet``."""
    return TextSet(tuple(frame["text"]), tuple(frame["label"]))


def cap_per_class(textset: TextSet, limit: int | None, seed: int = 0) -> TextSet:
    """At most ``limit`` texts per class (seeded), so a large upload stays quick to draw."""
    return sample_k_shot(textset, limit, seed=seed) if limit else textset


def holdout(textset: TextSet, fraction: float = 0.3, seed: int = 0) -> tuple[TextSet, TextSet]:
    """A stratified (train, test) cut; classes with one text stay on the train side."""
    rng = np.random.default_rng(seed)
    train: list[int] = []
    test: list[int] = []
    by_class: dict[str, list[int]] = {}
    for i, label in enumerate(textset.labels):
        by_class.setdefault(label, []).append(i)
    for label in sorted(by_class):
        rows = [by_class[label][i] for i in rng.permutation(len(by_class[label]))]
        n_test = int(round(fraction * len(rows))) if len(rows) > 1 else 0
        n_test = min(max(n_test, 1 if len(rows) > 1 else 0), len(rows) - 1)
        test += rows[:n_test]
        train += rows[n_test:]
    return textset.subset(sorted(train)), textset.subset(sorted(test))


def project_2d(vectors: np.ndarray, seed: int = 0) -> np.ndarray:
    """PCA to two dimensions (N, 2); fewer than three points are laid out on a line."""
    vectors = np.asarray(vectors, dtype=np.float64)
    if len(vectors) < 3:
        return np.column_stack([np.arange(len(vectors), dtype=float), np.zeros(len(vectors))])
    centred = vectors - vectors.mean(axis=0)
    # SVD is PCA: the first two right singular vectors span the plane of most variance.
    with few_threads():
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
    coords = centred @ vt[:2].T  # (N, 2)
    signs = np.sign(coords[np.abs(coords).argmax(axis=0), [0, 1]])  # a stable orientation
    return coords * np.where(signs == 0, 1.0, signs)


def prototypes(features: np.ndarray, labels: Sequence[int], n_classes: int) -> np.ndarray:
    """Class prototypes (C, H): the mean feature of each class (Snell et al. 2017, eq. 1)."""
    features = np.asarray(features, dtype=np.float64)
    onehot = np.eye(n_classes)[np.asarray(labels, dtype=int)]  # (S, C)
    counts = np.maximum(onehot.sum(axis=0), 1)[:, None]  # (C, 1)
    return onehot.T @ features / counts


def squared_distances(queries: np.ndarray, protos: np.ndarray) -> np.ndarray:
    """Squared Euclidean distance of every query (Q, H) to every prototype (C, H): (Q, C)."""
    q = np.asarray(queries, dtype=np.float64)
    p = np.asarray(protos, dtype=np.float64)
    return np.maximum((q**2).sum(1)[:, None] - 2 * q @ p.T + (p**2).sum(1)[None, :], 0.0)


def softmax_rows(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fresh_context(ctx: RunContext, seed: int) -> RunContext:
    """A new context for one fit: same device, backbone, cache and stop flag; own history."""
    return dataclasses.replace(ctx, seed=seed, steps=[], evals=[], warnings=[], extras={})


def label_ids(labels: Sequence[str], classes: Sequence[str]) -> np.ndarray:
    lookup = {c: i for i, c in enumerate(classes)}
    return np.array([lookup.get(y, -1) for y in labels], dtype=np.int64)


@contextlib.contextmanager
def few_threads(n: int = 1) -> Iterator[None]:
    """Run small matrix work (torch and numpy's BLAS) on ``n`` threads: on a busy CPU, extra
    threads spin-wait on tiny matrices and run ten times slower. Process-wide while it lasts,
    so only short computations use it."""
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    torch.set_num_threads(min(n, before))
    try:
        with threadpool_limits(limits=n):
            yield
    finally:
        torch.set_num_threads(before)


def cpu_busy() -> bool:
    """True when the machine already runs more work than it has cores (load average)."""
    try:
        return os.getloadavg()[0] > (os.cpu_count() or 1)
    except OSError:  # no load average on this platform
        return False


def model_threads() -> contextlib.AbstractContextManager[None]:
    """Threads for gradient work on the encoder: all of them on an idle machine, one on a
    busy one, where two threads spin-waiting on small batches made meta-training six times
    and the inner loop fifteen times slower (measured on a 2-core machine under load 12)."""
    return few_threads() if cpu_busy() else contextlib.nullcontext()
